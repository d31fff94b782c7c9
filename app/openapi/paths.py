"""Path templates from the interactions' paths: `/api/v1/tasks/{task_id}` where a segment varies.

A segment varies when the interaction's path regex matches more than one text there, when a provider
state writes it (`${name}`), when a stateful route's pattern binds it (`(?P<job_id>...)`), or when the
pacts name several ids at one place of otherwise equal paths (`/runs/123` and `/runs/456`). Paths whose
fixed segments agree and whose varying segments sit at the same places share one template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..contract.model import Interaction
from .schemas import anchored, literal_pattern

# Past this many values seen at one place, a parameter lists none of them (its examples show a few).
MAX_ENUM = 20
_VARYING = "{}"
_ID_LIKE = re.compile(
    r"\d+|[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}"
    r"|.*\d.*[-_.].*|.*[-_.].*\d.*"
)
_METACHARACTERS = re.compile(r"(?<!\\)[\[\](){}*+?|^$.]|\\[dDwWsSbBpPuxk0-9]")
_EXPRESSION = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Varying:
    """A segment that varies: a name it is known by, the pattern it follows, and the example's text."""

    text: str
    name: str | None = None
    pattern: str | None = None
    # For a parameter inside a segment (`run_{run_id}.zip`): the fixed text around it.
    prefix: str = ""
    suffix: str = ""


Segment = str | Varying


@dataclass
class Template:
    """One path template and the interactions it covers, with what each varying segment was seen as."""

    key: tuple[str, ...]
    interactions: list[Interaction] = field(default_factory=list)
    seen: list[list[Segment]] = field(default_factory=list)
    path: str = ""
    parameters: list[dict[str, Any]] = field(default_factory=list)


def segments_of(interaction: Interaction, bound: re.Match[str] | None) -> list[Segment]:
    """The interaction's path split into segments, each fixed text or Varying."""
    path = interaction.path
    texts = path.split("/")[1:]
    segments: list[Segment] = list(texts)
    if interaction.path_expression:
        for index, piece in enumerate(interaction.path_expression.split("/")[1:]):
            found = _EXPRESSION.fullmatch(piece)
            if found and index < len(segments):
                segments[index] = Varying(texts[index], name=_identifier(found.group(1)))
    rule = interaction.path_rule
    regex = next((str(m.get("regex")) for m in rule.matchers if m.get("match") == "regex"), None) if rule else None
    if regex is not None:
        pieces = _split_regex(regex)
        if pieces is not None and len(pieces) == len(texts):
            for index, piece in enumerate(pieces):
                if _unescaped(piece) != texts[index] and isinstance(segments[index], str):
                    segments[index] = Varying(texts[index], pattern=anchored(piece))
    if bound is not None:
        _bind(segments, texts, bound)
    return segments


def _bind(segments: list[Segment], texts: list[str], bound: re.Match[str]) -> None:
    """Name the segments a stateful route's pattern captures (a whole segment, or a part of one)."""
    starts, offset = [], 1
    for text in texts:
        starts.append(offset)
        offset += len(text) + 1
    for name, value in bound.groupdict().items():
        if value is None:
            continue
        start, end = bound.span(name)
        index = next((i for i, s in enumerate(starts) if s <= start <= s + len(texts[i])), None)
        if index is None or end > starts[index] + len(texts[index]):
            continue
        text = texts[index]
        prefix, suffix = text[: start - starts[index]], text[end - starts[index] :]
        current = segments[index]
        pattern = current.pattern if isinstance(current, Varying) and not (prefix or suffix) else None
        segments[index] = Varying(text, name=_identifier(name), pattern=pattern, prefix=prefix, suffix=suffix)


def _split_regex(regex: str) -> list[str] | None:
    """A path regex's segments (split on `/` outside classes and groups), or None when it cannot be split."""
    body = regex[1:] if regex.startswith("^") else regex
    body = body[:-1] if body.endswith("$") and not body.endswith("\\$") else body
    if not body.startswith("/"):
        return None
    pieces, current, depth, in_class, escaped = [], "", 0, False, False
    for char in body[1:]:
        if escaped:
            current, escaped = current + char, False
            continue
        if char == "\\":
            current, escaped = current + char, True
        elif in_class:
            in_class = char != "]"
            current += char
        elif char == "[":
            current, in_class = current + char, True
        elif char in "()":
            depth += 1 if char == "(" else -1
            current += char
        elif char == "/" and depth == 0:
            pieces.append(current)
            current = ""
        else:
            current += char
    pieces.append(current)
    return None if depth or in_class else pieces


def _unescaped(piece: str) -> str | None:
    """The fixed text a regex segment stands for, or None when it has regex syntax (it varies)."""
    if _METACHARACTERS.search(piece):
        return None
    return re.sub(r"\\(.)", r"\1", piece)


def templates_of(routed: Iterable[tuple[Interaction, re.Match[str] | None]]) -> list[Template]:
    """The path templates, in the order their first interaction comes; each with its parameters."""
    templates: dict[tuple[str, ...], Template] = {}
    for interaction, bound in routed:
        segments = segments_of(interaction, bound)
        key = tuple(_VARYING if isinstance(s, Varying) or _ID_LIKE.fullmatch(s) else s for s in segments)
        template = templates.get(key)
        if template is None:
            template = templates[key] = Template(key)
        template.interactions.append(interaction)
        template.seen.append(segments)
    for template in templates.values():
        _render(template)
    return list(templates.values())


def _render(template: Template) -> None:
    parts: list[str] = []
    names: set[str] = set()
    for index, fixed in enumerate(template.key):
        column = [segments[index] for segments in template.seen]
        texts = list(dict.fromkeys(s.text if isinstance(s, Varying) else s for s in column))
        if fixed != _VARYING or (len(texts) == 1 and all(isinstance(s, str) for s in column)):
            parts.append(texts[0])
            continue
        name = _unique(_name_for(column, parts), names)
        varying = [s for s in column if isinstance(s, Varying)]
        prefix, suffix = _shared_affixes(varying, len(column))
        parts.append(f"{prefix}{{{name}}}{suffix}")
        template.parameters.append(_path_parameter(name, column, texts, bool(prefix or suffix)))
    template.path = "/" + "/".join(parts)


def _shared_affixes(varying: list[Varying], count: int) -> tuple[str, str]:
    affixes = {(s.prefix, s.suffix) for s in varying}
    if len(varying) == count and len(affixes) == 1:
        return next(iter(affixes))
    return "", ""


def _name_for(column: list[Segment], before: list[str]) -> str:
    named = next((s.name for s in column if isinstance(s, Varying) and s.name), None)
    if named:
        return named
    previous = next((p for p in reversed(before) if "{" not in p and p), None)
    if previous is None:
        return "id"
    singular = previous[:-1] if previous.endswith("s") and len(previous) > 3 else previous
    return _identifier(f"{singular}_id")


def _path_parameter(name: str, column: list[Segment], texts: list[str], partial: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    patterns = list(dict.fromkeys(s.pattern for s in column if isinstance(s, Varying) and s.pattern))
    free = any(isinstance(s, Varying) and not s.pattern for s in column)
    fixed = list(dict.fromkeys(s for s in column if isinstance(s, str)))
    if not free and not partial:
        if patterns:
            unmatched = [text for text in fixed if not any(_matches(p, text) for p in patterns)]
            alternatives = patterns + [literal_pattern(text) for text in unmatched]
            schema["pattern"] = (
                alternatives[0] if len(alternatives) == 1 else "|".join(f"(?:{p})" for p in alternatives)
            )
        elif len(fixed) <= MAX_ENUM:
            schema["enum"] = fixed
    parameter: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema}
    if not partial:
        parameter["example"] = texts[0]
    if len(fixed) > MAX_ENUM and not patterns and not free:
        parameter["description"] = f"one of the {len(fixed)} values the pacts name (others answer 404 no-interaction)"
    return parameter


def _matches(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False  # a dialect Python does not read: the text is listed beside it


def _identifier(text: str) -> str:
    return re.sub(r"\W+", "_", text).strip("_") or "param"


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name}{number}", number + 1
    taken.add(candidate)
    return candidate
