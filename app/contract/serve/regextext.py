"""Text for a regex: what the `Regex` generator writes into a stub response.

The pattern is parsed by recursive descent over the regex subset contracts use in practice and a random
string it matches is emitted; unbounded repetition (`*`, `+`, `{n,}`) stops a few repeats above its minimum.
"""

from __future__ import annotations

import functools
import random
import re
import string
from typing import Any

ALPHANUMERIC = string.ascii_letters + string.digits
_PRINTABLE = "".join(chr(code) for code in range(0x20, 0x7F))
_WORD = ALPHANUMERIC + "_"
# Unbounded repetition (*, +, {n,}) stops this many repeats above its minimum.
_REPEAT_CAP = 5

# Nodes are tuples: ("chars", candidates), ("seq", nodes), ("alt", nodes), ("repeat", node, low, high).
_Node = tuple[Any, ...]
_CLASS_ESCAPES = {
    "d": string.digits,
    "w": _WORD,
    "s": " ",
    "D": "".join(c for c in _PRINTABLE if c not in string.digits),
    "W": "".join(c for c in _PRINTABLE if c not in _WORD),
    "S": _PRINTABLE.replace(" ", ""),
}
_CONTROL_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v"}
_QUANTIFIER = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")


class _RegexParser:
    """Recursive descent over the regex subset contracts use in practice."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.pos = 0

    def fail(self, problem: str) -> ValueError:
        return ValueError(f"Regex generator cannot handle {self.pattern!r}: {problem} at position {self.pos}")

    def peek(self) -> str:
        return self.pattern[self.pos] if self.pos < len(self.pattern) else ""

    def parse(self) -> _Node:
        node = self.alternation()
        if self.pos < len(self.pattern):
            raise self.fail("unbalanced ')'")
        return node

    def alternation(self) -> _Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else ("alt", tuple(branches))

    def sequence(self) -> _Node:
        items: list[_Node] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            if atom is not None:
                items.append(self.quantified(atom))
        return ("seq", tuple(items))

    def atom(self) -> _Node | None:
        char = self.peek()
        self.pos += 1
        if char in "^$":
            return None  # generated text is always the whole match
        if char == ".":
            return ("chars", _PRINTABLE)
        if char == "\\":
            return ("chars", self.escape())
        if char == "[":
            return ("chars", self.char_class())
        if char == "(":
            return self.group()
        if char in "*+?":
            raise self.fail(f"nothing to repeat before {char!r}")
        return ("chars", char)

    def group(self) -> _Node:
        if self.pattern.startswith("?:", self.pos):
            self.pos += 2
        elif named := re.match(r"\?P?<[A-Za-z_]\w*>", self.pattern[self.pos :]):
            self.pos += named.end()
        elif self.peek() == "?":
            raise self.fail("lookaround and inline flags are not supported")
        node = self.alternation()
        if self.peek() != ")":
            raise self.fail("missing ')'")
        self.pos += 1
        return node

    def quantified(self, atom: _Node) -> _Node:
        char = self.peek()
        if char == "?":
            low, high = 0, 1
        elif char == "*":
            low, high = 0, _REPEAT_CAP
        elif char == "+":
            low, high = 1, 1 + _REPEAT_CAP
        elif (found := _QUANTIFIER.match(self.pattern, self.pos)) and found.group(0) != "{}":
            low = int(found.group(1) or 0)
            high = low if not found.group(2) else int(found.group(3)) if found.group(3) else low + _REPEAT_CAP
            if high < low:
                raise self.fail(f"bad repetition {found.group(0)}")
            self.pos = found.end() - 1
        else:
            return atom
        self.pos += 1
        if self.peek() in ("?", "+"):  # lazy and possessive forms generate the same strings
            self.pos += 1
        if self.peek() in ("?", "*", "+"):
            raise self.fail("multiple repeat")
        return ("repeat", atom, low, high)

    def escape(self) -> str:
        char = self.peek()
        self.pos += 1
        if char in _CLASS_ESCAPES:
            return _CLASS_ESCAPES[char]
        if char in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[char]
        width = {"x": 2, "u": 4}.get(char)
        if width:
            digits = self.pattern[self.pos : self.pos + width]
            if len(digits) != width or not all(c in string.hexdigits for c in digits):
                raise self.fail(f"bad \\{char} escape")
            self.pos += width
            return chr(int(digits, 16))
        if not char or char.isalnum():
            raise self.fail(f"unsupported escape \\{char}")
        return char

    def char_class(self) -> str:
        negate = self.peek() == "^"
        self.pos += negate
        members: set[str] = set()
        first = True
        while first or self.peek() != "]":
            if not self.peek():
                raise self.fail("unterminated character class")
            first = False
            start = self.class_member()
            if self.peek() == "-" and self.pattern[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.pos += 1
                end = self.class_member()
                if len(start) != 1 or len(end) != 1 or start > end:
                    raise self.fail(f"bad range {start!r}-{end!r}")
                members.update(chr(code) for code in range(ord(start), ord(end) + 1))
            else:
                members.update(start)
        self.pos += 1
        chars = "".join(c for c in _PRINTABLE if c not in members) if negate else "".join(sorted(members))
        if not chars:
            raise self.fail("character class matches nothing printable")
        return chars

    def class_member(self) -> str:
        char = self.peek()
        self.pos += 1
        return self.escape() if char == "\\" else char


@functools.lru_cache(maxsize=256)
def _parse_regex(pattern: str) -> _Node:
    return _RegexParser(pattern).parse()


def _emit(node: _Node, rng: random.Random, out: list[str]) -> None:
    kind = node[0]
    if kind == "chars":
        out.append(rng.choice(node[1]))
    elif kind == "seq":
        for item in node[1]:
            _emit(item, rng, out)
    elif kind == "alt":
        _emit(rng.choice(node[1]), rng, out)
    else:
        for _ in range(rng.randint(node[2], node[3])):
            _emit(node[1], rng, out)


def text_for(pattern: str, rng: random.Random) -> str:
    """A random text the regex matches whole; ValueError naming what cannot be handled."""
    out: list[str] = []
    _emit(_parse_regex(pattern), rng, out)
    return "".join(out)
