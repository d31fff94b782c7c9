"""The one place a contract's regex is compiled: RE2, so that matching takes time linear in the text.

Python's `re` backtracks: `^(\\w+\\s?)*$` against 31 characters of `aaaa…!` holds a worker (and the GIL)
for minutes. RE2 never backtracks. The price is its syntax: no backreferences, no lookaround, no
possessive quantifiers, repetition counts up to 1,000. A pattern outside it is refused with the reason
(`RegexRefused`), never run on a backtracking engine. The reference stub (pact-stub-server 0.7.1) runs
regexes on Oniguruma with a retry limit and so accepts lookaround and backreferences; pactmock refuses
them rather than let one request hold a worker (docs/contract-engine.md).

Perl classes follow the reference's Unicode meaning (`\\w` matches `é`, `\\d` matches `١`): RE2's are
ASCII, so `\\d`, `\\w`, `\\s` and their negations are rewritten to Unicode classes before compiling.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from re import _constants as _c  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

import re2
from re2 import _re2

# Unicode meanings of the Perl classes, written for use inside a character class.
_WORD = r"\p{L}\p{M}\p{Nd}\p{Pc}"
_SPACE = r"\t\n\x0B\f\r \x{85}\p{Z}"
# Python's and Oniguruma's \Z (end, or before a final newline) has no RE2 escape of its own.
_OUTSIDE = {
    "Z": r"\n?\z",
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
}
# Inside a class a negated union cannot be written; \W and \S keep RE2's ASCII meaning there.
_INSIDE = {"d": r"\p{Nd}", "D": r"\P{Nd}", "w": _WORD, "s": _SPACE}
_BOTH = _re2.RE2.Anchor.ANCHOR_BOTH
_SLASH = ord("/")
_HEX4 = re.compile(r"[0-9A-Fa-f]{4}")
# Answers kept per regex for texts up to this long: header and query values repeat from request to request.
_MEMO_TEXT = 256
_MEMO_ENTRIES = 1024


class RegexRefused(ValueError):
    """A contract's regex that pactmock will not run; the message says why."""


class ContractRegex:
    """A compiled contract regex. `fullmatch` answers whether the whole text matches."""

    __slots__ = ("_memo", "_program", "pattern", "translated")

    def __init__(self, pattern: str, translated: str, program: Any) -> None:
        self.pattern = pattern
        self.translated = translated
        self._program = program
        self._memo: dict[str, bool] = {}

    def fullmatch(self, text: str) -> bool:
        """Whether the whole of ``text`` matches; answers for short texts are remembered (a bounded number)."""
        found = self._memo.get(text)
        if found is not None:
            return found
        data = text.encode("utf-8", "surrogatepass")
        answer = self._program.Match(_BOTH, data, 0, len(data))[0][0] >= 0
        if len(text) <= _MEMO_TEXT:
            if len(self._memo) >= _MEMO_ENTRIES:
                self._memo.clear()  # bounded however many distinct values clients send
            self._memo[text] = answer
        return answer

    def search(self, text: str) -> Any:
        """The first match anywhere in the text, with its groups (RE2's own `re`-like match object)."""
        return _searcher(self.translated).search(text)


@lru_cache(maxsize=4096)
def contract_regex(pattern: str) -> ContractRegex:
    """The compiled form of a contract's regex; RegexRefused when pactmock cannot run it in linear time."""
    translated = unicode_classes(pattern)
    options = _re2.RE2.Options()
    options.log_errors = False
    program = _re2.RE2(translated.encode("utf-8", "surrogatepass"), options)
    if not program.ok():
        raise RegexRefused(_reason(pattern, _message(program.error())))
    return ContractRegex(pattern, translated, program)


def regex_problem(pattern: str) -> str | None:
    """Why a contract's regex is refused, or None when it can be used."""
    try:
        contract_regex(pattern)
    except RegexRefused as exc:
        return str(exc)
    return None


@lru_cache(maxsize=256)
def _searcher(translated: str) -> Any:
    options = re2.Options()
    options.log_errors = False
    return re2.compile(translated, options)


def _message(error: Any) -> str:
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)


def _reason(pattern: str, engine_error: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"regex {pattern!r} is invalid ({exc})"
    except (RecursionError, OverflowError):
        return f"regex {pattern!r} is invalid (nested or repeated too deeply)"
    features = [
        (r"\(\?<?[=!]", "lookaround"),
        (r"\\[1-9]|\(\?P=", "a backreference"),
        (r"[*+?}]\+", "a possessive quantifier"),
        (r"\(\?>", "an atomic group"),
    ]
    found = [name for probe, name in features if re.search(probe, pattern)]
    what = " and ".join(found) if found else "syntax"
    return (
        f"regex {pattern!r} is refused: it uses {what} that RE2, the linear-time engine pactmock matches "
        f"with, does not support ({engine_error})"
    )


def unicode_classes(pattern: str) -> str:
    """`pattern` with \\d, \\w, \\s (and negations) rewritten to their Unicode classes, \\uHHHH to \\x{HHHH}."""
    if "\\" not in pattern:
        return pattern
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and pattern[i + 1 : i + 2] == "u" and _HEX4.fullmatch(pattern, i + 2, i + 6):
            out.append(f"\\x{{{pattern[i + 2 : i + 6]}}}")  # \uHHHH, which RE2 writes \x{HHHH}
            i += 6
            continue
        if char == "\\" and i + 1 < len(pattern):
            letter = pattern[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(letter, char + letter))
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            i += 1
            # A "]" (after an optional "^") first in a class is a member, not the end.
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":
                out.append("]")
                i += 1
            continue
        if char == "[" and in_class and pattern[i + 1 : i + 2] == ":":
            end = pattern.find(":]", i + 2)
            if end > 0:  # a POSIX class such as [:alpha:] stays whole
                out.append(pattern[i : end + 2])
                i = end + 2
                continue
        if char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def most_slashes(pattern: str) -> float:
    """The most "/" characters a text the regex fully matches can hold (math.inf when unbounded).

    Routing uses it to refuse early a path deeper than any served interaction allows. The pattern is
    read with Python's parser, which only looks at it; anything it cannot read counts as unbounded.
    """
    try:
        tree = _parser.parse(pattern)
    except (re.error, RecursionError, OverflowError, ValueError):
        return math.inf
    return _slashes(tree)


def _slashes(items: Any) -> float:
    total = 0.0
    for op, argument in items:
        if op is _c.LITERAL:
            total += argument == _SLASH
        elif op is _c.NOT_LITERAL:
            total += argument != _SLASH
        elif op is _c.ANY:
            total += 1
        elif op is _c.IN:
            total += _class_has_slash(argument)
        elif op is _c.BRANCH:
            total += max(_slashes(branch) for branch in argument[1])
        elif op is _c.SUBPATTERN:
            total += _slashes(argument[-1])
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            _, high, inner = argument
            each = _slashes(inner)
            total += 0 if each == 0 else math.inf if high is _c.MAXREPEAT else each * high
        elif op is not _c.AT:
            return math.inf  # lookaround, references, ...: not worth bounding
    return total


def _class_has_slash(items: Any) -> bool:
    negated = any(op is _c.NEGATE for op, _ in items)
    named = any(
        (op is _c.LITERAL and argument == _SLASH) or (op is _c.RANGE and argument[0] <= _SLASH <= argument[1])
        for op, argument in items
    )
    if negated:
        return not named  # [^/] cannot hold one; [^\d] can
    # \D, \W, \S (and anything this does not know) may hold a "/"; \d, \w, \s cannot.
    return named or any(
        op is not _c.LITERAL and op is not _c.RANGE and not (op is _c.CATEGORY and "NOT" not in str(argument))
        for op, argument in items
    )
