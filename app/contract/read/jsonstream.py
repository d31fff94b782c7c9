"""Read a JSON object from a file member by member, never holding the whole document decoded.

A pact is large because of one array ("interactions"). That array comes element by
element, each with where its bytes lie in the file so it can be read again on its
own later; every other member comes whole. Values are decoded by the standard
decoder (`raw_decode` from an index) over a window of the file that slides
forward, so the peak is one chunk plus the largest single element; only the
structure between members is scanned here. A syntax error names the line and
column in the whole file, as `json.loads` would.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, NamedTuple

CHUNK_BYTES = 1 << 20
_SPACE = re.compile(r"[ \t\n\r]*")
# An element's separator and the whitespace around it, when the next element starts in the window.
_AFTER_ELEMENT = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*(?=[^ \t\n\r])")
_DECODER = json.JSONDecoder()
# A value cut off by the end of the window fails within a few characters of it (or as an
# unterminated string): only then is more of the file read and the value decoded again.
_CUT_OFF_REACH = 8
_MARGIN_CHARS = 64 * 1024


class JsonSyntaxError(ValueError):
    """Invalid JSON, with the line and column in the whole file, as `json.loads` reports them."""

    def __init__(self, reason: str, line: int, column: int) -> None:
        super().__init__(f"{reason} at line {line} column {column}")
        self.reason = reason
        self.line = line
        self.column = column


class NotAnObject(ValueError):
    """The file holds valid JSON whose top level is not an object."""


class Member(NamedTuple):
    """One member of the top-level object with its value decoded whole (the streamed array's comes empty)."""

    key: str
    value: Any


class Element(NamedTuple):
    """One element of the streamed array and the byte range of its text in the file."""

    value: Any
    offset: int
    length: int


def read_members(stream: BinaryIO, streamed: str) -> Iterator[Member | Element]:
    """The members of the JSON object in ``stream``, in file order.

    The member named ``streamed``, when it is an array, comes as ``Member(streamed, [])``
    followed by one ``Element`` per item.
    """
    window = _Window(stream)
    if window.peek() != "{":
        window.decode()  # invalid JSON is reported as such before its shape is
        window.expect_end()
        raise NotAnObject
    window.pos += 1
    char = window.peek()
    while char != "}":
        if char != '"':
            raise window.error("Expecting property name enclosed in double quotes")
        key = window.decode()[0]
        if window.peek() != ":":
            raise window.error("Expecting ':' delimiter")
        window.pos += 1
        if window.peek() == "[" and key == streamed:
            yield Member(key, [])
            yield from _elements(window)
        else:
            yield Member(key, window.decode()[0])
        char = window.peek()
        if char == ",":
            window.pos += 1
            char = window.peek()
            if char == "}":
                raise window.error("Expecting property name enclosed in double quotes")
        elif char != "}":
            raise window.error("Expecting ',' delimiter")
    window.pos += 1
    window.expect_end()


def _elements(window: _Window) -> Iterator[Element]:
    window.pos += 1  # past "["
    if window.peek() == "]":
        window.pos += 1
        return
    # This loop runs once per interaction of the largest pacts: the usual element (well inside the
    # window, followed by a comma or the closing bracket) takes one decode and one match; anything
    # else goes through the window's careful path, which reads more and reports errors.
    raw_decode = _DECODER.raw_decode
    after = _AFTER_ELEMENT.match
    while True:
        text, start = window.text, window.pos
        end = -1
        if len(text) - start >= _MARGIN_CHARS:
            try:
                value, end = raw_decode(text, start)
            except json.JSONDecodeError:
                end = -1
        if end < 0 or end == len(text):
            value, start, end = window.decode()
            text = window.text
        offset = window.byte_offset(start)
        yield Element(value, offset, window.byte_offset(end) - offset)
        found = after(text, end)
        if found is not None:
            window.pos = found.end()
            if found.group(1) == "]":
                return
            continue
        window.pos = end
        char = window.peek()
        if char == "]":
            window.pos += 1
            return
        if char != ",":
            raise window.error("Expecting ',' delimiter")
        window.pos += 1
        window.peek()


class _Window:
    """The part of the file's text not yet consumed, with what is needed to place an index in the file."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0
        self.eof = False
        self._ascii = True
        # The byte offset in the file of text[_mark]; marks only move forward.
        self._mark = 0
        self._mark_byte = 0
        self._chars_before = 0  # characters dropped before text[0]

    def fill(self, at_least: int = CHUNK_BYTES) -> bool:
        """Drop the consumed text and read more (at least ``at_least`` bytes); False at the end of the file."""
        if self.eof:
            return False
        data = self._stream.read(max(at_least, CHUNK_BYTES))
        self.eof = not data
        added = self._decoder.decode(data, final=self.eof)
        self._drop_consumed()
        self.text += added
        self._ascii = self.text.isascii()
        return True

    def _drop_consumed(self) -> None:
        self._mark_byte = self.byte_offset(self.pos)
        self._mark = 0
        self._chars_before += self.pos
        self.text = self.text[self.pos :]
        self.pos = 0

    def byte_offset(self, index: int) -> int:
        """The byte offset in the file of ``text[index]`` (``index`` at or after the last one asked for)."""
        if self._ascii:
            self._mark_byte += index - self._mark
        else:
            self._mark_byte += len(self.text[self._mark : index].encode("utf-8"))
        self._mark = index
        return self._mark_byte

    def peek(self) -> str:
        """The next character that is not whitespace, moving past the whitespace; "" at the end of the file."""
        while True:
            match = _SPACE.match(self.text, self.pos)
            assert match is not None  # the pattern matches the empty string
            self.pos = match.end()
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return ""

    def decode(self) -> tuple[Any, int, int]:
        """The value next in the file and where its text starts and ends in ``text``; ``pos`` moves past it."""
        self.peek()
        if len(self.text) - self.pos < _MARGIN_CHARS:
            self.fill()  # so that a value is rarely cut off by the end of the window and decoded twice
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                cut_off = exc.pos >= len(self.text) - _CUT_OFF_REACH or exc.msg.startswith("Unterminated string")
                if not cut_off or not self.fill(len(self.text) - self.pos):
                    raise self.error(exc.msg, exc.pos) from None
                continue
            # A number or literal that ends the window may go on in the file ("12" of "123").
            if end == len(self.text) and self.fill(len(self.text) - self.pos):
                continue
            start, self.pos = self.pos, end
            return value, start, end

    def expect_end(self) -> None:
        if self.peek() != "":
            raise self.error("Extra data")

    def error(self, reason: str, index: int | None = None) -> JsonSyntaxError:
        """The error at ``text[index]``, placed by line and column by reading the file again up to it:
        counting lines as the window slides would cost every good file time for the sake of the bad ones."""
        remaining = self._chars_before + (self.pos if index is None else index)
        self._stream.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        line, column = 1, 1
        while remaining > 0:
            data = self._stream.read(CHUNK_BYTES)
            text = decoder.decode(data, final=not data)
            if not data and not text:
                break
            text = text[:remaining]
            remaining -= len(text)
            newlines = text.count("\n")
            line += newlines
            column = len(text) - text.rfind("\n") if newlines else column + len(text)
        return JsonSyntaxError(reason, line, column)
