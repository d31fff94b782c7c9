"""Run a README walkthrough against a running mock: every curl command of its ```sh blocks, checked.

The format is strict on purpose, so that a README cannot drift from what the server does:

- a ```sh block holds only blank lines, variable assignments (`MOCK=http://localhost:5000`,
  `AUTH='Authorization: Bearer test-alice'`), curl commands on one line, and expectation comments;
- a curl command takes `-s`, `-X METHOD`, `-H 'Name: value'` (repeatable), `-d 'body'` and one URL, with
  shell quoting ('...' literal, "..." expanding `$NAME` and `${NAME}`); any other option is an error;
- the line after each curl command is its expectation: `# STATUS [MEDIA-TYPE] [JSON]`, e.g.
  `# 201 {"id": "task_000001", "status": "pending"}` or `# 409 application/problem+json {"current": "running"}`.
  The JSON is a subset of the answer: every key given must be there with that value; objects compare as
  subsets at any depth; a list must have the same length, its elements compared in order (objects as subsets,
  anything else by equality).

An unparseable line is an error, never skipped. A failure names the README file and line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ASSIGNMENT = re.compile(r"^([A-Z][A-Z0-9_]*)=(.+)$")
EXPECTATION = re.compile(r"^# (\d{3})(?: ([\w.+-]+/[\w.+-]+))?(?: (.+))?$")
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
REQUEST_TIMEOUT_SECONDS = 30


class WalkthroughError(AssertionError):
    """A README line that cannot be run, or an answer that is not the one the README promises."""


@dataclass
class Step:
    """One curl command of the README and the answer it promises."""

    line: int
    command: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    status: int = 0
    media_type: str | None = None
    expected: Any = None
    has_expected_body: bool = False


def shell_words(text: str, variables: dict[str, str], where: str) -> list[str]:
    """Split `text` as a POSIX shell does for the forms we allow: '...' literal, "..." and bare words
    expanding variables. An unknown variable or an unclosed quote is an error."""

    def expand(part: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1) or match.group(2)
            if name not in variables:
                raise WalkthroughError(f"{where}: ${name} is not set in the walkthrough")
            return variables[name]

        return VARIABLE.sub(value, part)

    words: list[str] = []
    current: list[str] = []
    in_word = False
    index = 0
    while index < len(text):
        char = text[index]
        if char.isspace():
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
            index += 1
            continue
        in_word = True
        if char in "'\"":
            end = text.find(char, index + 1)
            if end < 0:
                raise WalkthroughError(f"{where}: unclosed {char} quote")
            quoted = text[index + 1 : end]
            if char == '"':
                if "\\" in quoted or "`" in quoted:
                    raise WalkthroughError(f'{where}: escapes and backticks in "..." are not supported')
                quoted = expand(quoted)
            current.append(quoted)
            index = end + 1
            continue
        bare = re.match(r"[^\s'\"]+", text[index:])
        assert bare is not None
        if re.search(r"[\\`;|&<>()*?]", bare.group()):
            raise WalkthroughError(f"{where}: shell syntax {bare.group()!r} is not supported")
        current.append(expand(bare.group()))
        index += len(bare.group())
    if in_word:
        words.append("".join(current))
    return words


def parse_curl(words: list[str], line: int, command: str, where: str) -> Step:
    """The request a curl command line makes, from the options we allow."""
    if not words or words[0] != "curl":
        raise WalkthroughError(f"{where}: not a curl command: {command}")
    method: str | None = None
    url: str | None = None
    headers: dict[str, str] = {}
    body: str | None = None
    rest = iter(words[1:])
    for word in rest:
        if word == "-s":
            continue
        if word in ("-X", "-H", "-d"):
            argument = next(rest, None)
            if argument is None:
                raise WalkthroughError(f"{where}: {word} needs an argument")
            if word == "-X":
                method = argument
            elif word == "-d":
                body = argument
            else:
                name, colon, value = argument.partition(":")
                if not colon or not name.strip():
                    raise WalkthroughError(f"{where}: header {argument!r} is not 'Name: value'")
                headers[name.strip()] = value.strip()
            continue
        if word.startswith("-"):
            raise WalkthroughError(f"{where}: curl option {word} is not supported")
        if url is not None:
            raise WalkthroughError(f"{where}: a second URL {word!r}")
        url = word
    if url is None or not url.startswith(("http://", "https://")):
        raise WalkthroughError(f"{where}: no http(s) URL in: {command}")
    if body is not None and not any(name.lower() == "content-type" for name in headers):
        # What curl itself sends with -d.
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    method = method or ("POST" if body is not None else "GET")
    return Step(line, command, method, url, headers, body)


def parse_expectation(text: str, step: Step, where: str) -> None:
    """Fill `step` with the status, media type and JSON subset of an expectation comment."""
    match = EXPECTATION.match(text)
    if not match:
        raise WalkthroughError(f"{where}: expected '# STATUS [MEDIA-TYPE] [JSON]' after the curl line, got {text!r}")
    step.status = int(match.group(1))
    step.media_type = match.group(2)
    if match.group(3) is not None:
        try:
            step.expected = json.loads(match.group(3))
        except json.JSONDecodeError as error:
            raise WalkthroughError(f"{where}: the expected answer is not JSON: {error}") from None
        step.has_expected_body = True


def sh_blocks(text: str) -> list[tuple[int, list[str]]]:
    """The ```sh blocks of a Markdown text: the line number of each block's first line, and its lines."""
    blocks: list[tuple[int, list[str]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        if lines[index].strip() == "```sh":
            start, body = index + 2, []
            index += 1
            while index < len(lines) and lines[index].strip() != "```":
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise WalkthroughError(f"line {start - 1}: a ```sh block is not closed")
            blocks.append((start, body))
        index += 1
    return blocks


def parse_walkthrough(readme: Path, overrides: dict[str, str]) -> list[Step]:
    """Every step of the README's ```sh blocks, in order; `overrides` win over the README's assignments."""
    variables = dict(overrides)
    steps: list[Step] = []
    pending: Step | None = None
    for start, lines in sh_blocks(readme.read_text()):
        for offset, raw in enumerate(lines):
            number = start + offset
            where = f"{readme.name}:{number}"
            line = raw.strip()
            if pending is not None:
                parse_expectation(line, pending, where)
                steps.append(pending)
                pending = None
            elif not line:
                continue
            elif assignment := ASSIGNMENT.match(line):
                values = shell_words(assignment.group(2), variables, where)
                if len(values) != 1:
                    raise WalkthroughError(f"{where}: an assignment takes one word: {line}")
                # The test's values (the mock's real URL) win over the README's example ones.
                if assignment.group(1) not in overrides:
                    variables[assignment.group(1)] = values[0]
            elif line.startswith("curl "):
                pending = parse_curl(shell_words(line, variables, where), number, line, where)
            else:
                raise WalkthroughError(f"{where}: not an assignment, a curl command or its expectation: {line!r}")
        if pending is not None:
            raise WalkthroughError(f"{readme.name}:{pending.line}: the curl command has no expectation line after it")
    if not steps:
        raise WalkthroughError(f"{readme.name}: no curl commands in its ```sh blocks")
    return steps


def mismatch(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Where `actual` does not hold `expected` (subset for objects, same length and order for lists)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {json.dumps(actual)}"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}.{key}: missing"
            found = mismatch(value, actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{path}: expected a list of {len(expected)}, got {json.dumps(actual)}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found = mismatch(want, got, f"{path}[{index}]")
            if found:
                return found
        return None
    if type(expected) is not type(actual) or expected != actual:
        return f"{path}: expected {json.dumps(expected)}, got {json.dumps(actual)}"
    return None


def run_step(step: Step, readme_name: str) -> None:
    """Send one step's request and hold its answer to the expectation."""
    where = f"{readme_name}:{step.line}: {step.method} {step.url}"
    answer = requests.request(
        step.method,
        step.url,
        headers=step.headers,
        data=step.body.encode() if step.body is not None else None,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    shown = answer.text[:2000]
    if answer.status_code != step.status:
        raise WalkthroughError(f"{where}: expected status {step.status}, got {answer.status_code}: {shown}")
    media_type = answer.headers.get("Content-Type", "").split(";")[0].strip()
    if step.media_type is not None and media_type != step.media_type:
        raise WalkthroughError(f"{where}: expected Content-Type {step.media_type}, got {media_type!r}")
    if step.has_expected_body:
        try:
            actual = answer.json()
        except ValueError:
            raise WalkthroughError(f"{where}: the answer is not JSON: {shown}") from None
        found = mismatch(step.expected, actual)
        if found:
            raise WalkthroughError(f"{where}: {found}\nanswer: {shown}")


def run_walkthrough(readme: Path, overrides: dict[str, str]) -> list[Step]:
    """Parse the whole README first (a broken line fails before anything is sent), then run each step."""
    steps = parse_walkthrough(readme, overrides)
    for step in steps:
        run_step(step, readme.name)
    return steps
