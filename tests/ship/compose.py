"""What the shipping files declare, read without a Docker engine.

The Dockerfile is parsed into stages (following `FROM <stage>` inheritance) and the compose file is
resolved the way Compose does it (image ENV < env_file < environment, `${VAR}` interpolation), so the
tests can check the wiring and replay each service's command natively.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERIGNORE = ROOT / ".dockerignore"
# The user makes .env with `cp .env.example .env`, so the committed template stands for it here.
ENV_FILES = {".env": ENV_EXAMPLE}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


@dataclass(frozen=True)
class Stage:
    base: str
    name: str | None
    instructions: tuple[Instruction, ...]


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        # Docker drops comment lines even in the middle of a continued instruction.
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


def parse_dockerfile(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line in _logical_lines(text):
        keyword, _, arguments = line.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            tokens = [t for t in arguments.split() if not t.startswith("--")]
            name = tokens[2] if len(tokens) >= 3 and tokens[1].lower() == "as" else None
            stages.append(Stage(tokens[0], name, ()))
        elif stages:
            last = stages[-1]
            stages[-1] = Stage(last.base, last.name, (*last.instructions, Instruction(keyword, arguments)))
    return stages


def dockerfile_stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())


def lineage(stages: list[Stage], target: str) -> list[Stage]:
    """The target stage and the stages it is built FROM, base first."""
    by_name = {s.name: s for s in stages if s.name}
    if target not in by_name:
        raise KeyError(f"the Dockerfile has no stage named {target!r} (stages: {sorted(by_name)})")
    chain = [by_name[target]]
    while chain[0].base in by_name:
        chain.insert(0, by_name[chain[0].base])
    return chain


def instructions(stages: list[Stage], target: str, keyword: str) -> list[Instruction]:
    return [i for stage in lineage(stages, target) for i in stage.instructions if i.keyword == keyword]


def exec_form(arguments: str) -> list[str]:
    """A CMD/HEALTHCHECK CMD as the argv Docker runs (shell form runs under /bin/sh -c)."""
    try:
        argv = json.loads(arguments)
    except json.JSONDecodeError:
        return ["/bin/sh", "-c", arguments]
    return [str(a) for a in argv]


def default_command(stages: list[Stage], target: str) -> list[str] | None:
    found = instructions(stages, target, "CMD")
    return exec_form(found[-1].arguments) if found else None


def healthcheck_command(stages: list[Stage], target: str) -> list[str] | None:
    found = instructions(stages, target, "HEALTHCHECK")
    if not found or found[-1].arguments.upper() == "NONE":
        return None
    command = re.search(r"\bCMD\s+(.*)", found[-1].arguments)
    return exec_form(command.group(1)) if command else None


def image_user(stages: list[Stage], target: str) -> str | None:
    found = instructions(stages, target, "USER")
    return found[-1].arguments if found else None


def image_env(stages: list[Stage], target: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in instructions(stages, target, "ENV"):
        tokens = shlex.split(instruction.arguments)
        if all("=" in t for t in tokens):
            env.update(t.split("=", 1) for t in tokens)
        else:  # the legacy `ENV KEY value` form
            env[tokens[0]] = " ".join(tokens[1:])
    return env


def copies(stages: list[Stage], target: str) -> list[tuple[str, str]]:
    """(source in the build context, absolute path its content lands at) for each COPY from the context."""
    found: list[tuple[str, str]] = []
    workdir = "/"
    for instruction in (i for stage in lineage(stages, target) for i in stage.instructions):
        if instruction.keyword == "WORKDIR":
            workdir = posixpath.join(workdir, instruction.arguments)
        if instruction.keyword not in ("COPY", "ADD") or "--from" in instruction.arguments:
            continue
        tokens = [t for t in shlex.split(instruction.arguments) if not t.startswith("--")]
        sources, destination = tokens[:-1], tokens[-1]
        into_directory = destination.endswith(("/", ".")) or len(sources) > 1
        destination = posixpath.normpath(posixpath.join(workdir, destination))
        for source in sources:
            # A directory's content is copied into the destination, never the directory itself.
            is_file = not (ROOT / source).is_dir()
            lands = (
                posixpath.join(destination, posixpath.basename(source)) if into_directory and is_file else destination
            )
            found.append((source, lands))
    return found


def container_path_to_repo(stages: list[Stage], target: str, path: str) -> Path | None:
    """Where a path inside the image came from in this repository, if it was copied from it."""
    for source, lands in reversed(copies(stages, target)):
        if path == lands or path.startswith(lands + "/"):
            return ROOT / source / posixpath.relpath(path, lands)
    return None


def dockerignore_patterns() -> list[str]:
    lines = (line.strip() for line in DOCKERIGNORE.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins, and a pattern matching a parent directory matches."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = _pattern_regex(posixpath.normpath(pattern.lstrip("!").strip("/")))
        if any(regex.fullmatch(prefix) for prefix in prefixes):
            excluded = not negated
    return excluded


def load_compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE_FILE.read_text()))


def read_env_file(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


_VARIABLE = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?[-?])([^}]*))?\}|(\w+))")


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's `$$`, `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR:?error}` (an error raises KeyError)."""

    def replace(match: re.Match[str]) -> str:
        dollar, name, operator, operand, bare = match.groups()
        if dollar:
            return "$"
        name = name or bare
        present = name in variables and (variables[name] != "" or not (operator or "").startswith(":"))
        if present:
            return variables[name]
        if operator and operator.endswith("?"):
            raise KeyError(f"required variable {name} is missing a value: {operand}")
        return operand if operator else ""

    return _VARIABLE.sub(replace, value)


def env_file_paths(service: Mapping[str, Any]) -> list[str]:
    entries = service.get("env_file") or []
    entries = [entries] if isinstance(entries, str) else entries
    return [e if isinstance(e, str) else str(e["path"]) for e in entries]


def environment_entries(service: Mapping[str, Any]) -> dict[str, str | None]:
    entries = service.get("environment") or {}
    if isinstance(entries, list):
        # A bare `KEY` passes the shell's value through; it sets nothing by itself.
        return {k: v if sep else None for k, sep, v in (e.partition("=") for e in entries)}
    return {k: None if v is None else str(v) for k, v in entries.items()}


def build_target(service: Mapping[str, Any]) -> str | None:
    build = service.get("build")
    return build.get("target") if isinstance(build, dict) else None


def container_environment(compose: Mapping[str, Any], stages: list[Stage], name: str) -> dict[str, str]:
    """The environment a service's container starts with: image ENV < env_file < environment."""
    service = compose["services"][name]
    dotenv = read_env_file(ENV_FILES[".env"]) if ".env" in ENV_FILES else {}
    target = build_target(service)
    env = image_env(stages, target) if target else {}
    for path in env_file_paths(service):
        env.update(read_env_file(ENV_FILES.get(path, ROOT / path)))
    for key, value in environment_entries(service).items():
        if value is not None:
            env[key] = interpolate(value, dotenv)
    return env


def service_command(compose: Mapping[str, Any], stages: list[Stage], name: str) -> list[str] | None:
    """The command a service runs: the compose `command`, else its build target's CMD."""
    service = compose["services"][name]
    command = service.get("command")
    if isinstance(command, str):
        return shlex.split(command)
    if command:
        return [str(c) for c in command]
    target = build_target(service)
    return default_command(stages, target) if target else None


def healthcheck_argv(test: str | list[str], variables: Mapping[str, str]) -> list[str]:
    """A compose healthcheck `test` as the argv run in the container (after compose's interpolation)."""
    if isinstance(test, str):
        return ["/bin/sh", "-c", interpolate(test, variables)]
    argv = [interpolate(str(t), variables) for t in test]
    if argv[0] == "CMD-SHELL":
        return ["/bin/sh", "-c", argv[1]]
    return argv[1:] if argv[0] == "CMD" else argv
