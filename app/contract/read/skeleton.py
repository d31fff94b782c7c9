"""Read a pact for indexing with msgspec: each interaction as a skeleton, not decoded whole.

Indexing needs a handful of fields per interaction (description, type, method, path, the
path rule, provider states, pending, and which keys are present) plus where its bytes lie
in the file. Decoding every interaction in full with the standard decoder only to read
those was most of the time taken to load a large pact. Here msgspec checks the whole
document once, hands back each interaction's text undecoded (`msgspec.Raw`), and decodes
only the fields `loader._PactBuilder._add` reads; every other value is left as its Raw,
which the builder never looks into (it keeps only what `Interaction.indexed` needs and
reads the full interaction again from the file, `index.py`, when it is first used).

The result must be what jsonstream.py gives, so where msgspec and the standard decoder
could differ, the standard one decides: numbers and containers are decoded with `json`,
only strings and literals (decoded identically by both) with msgspec, and a file msgspec
will not read (NaN, lone surrogates, invalid JSON or UTF-8, duplicate top-level keys,
...) is read by jsonstream.py instead, which also words every syntax error. So is a file
over MAX_FAST_BYTES, to keep memory bounded.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import msgspec
from msgspec import UNSET, Raw, Struct, UnsetType, field

from .jsonstream import Element, Member, read_members

STREAMED = "interactions"
_SPACE = re.compile(rb"[ \t\n\r]*")
# A key of the top-level object (already checked by msgspec, so no need to reject what JSON forbids).
_KEY = re.compile(rb'"(?:[^"\\]|\\.)*+"', re.DOTALL)
_BETWEEN_ELEMENTS = re.compile(rb"[ \t\n\r]*,[ \t\n\r]*")
_UTF8_CHUNK = 1 << 20
# The fast reading holds the whole file in every worker while it indexes; past this size the streaming
# reader's window (a megabyte or so) is worth its slower pace. 512 MB is about 240,000 interactions of
# the benchmark's kind (tests/support/synthetic.py).
MAX_FAST_BYTES = 512 * 1024 * 1024

_OBJECT = msgspec.json.Decoder(dict[str, Raw])
_ARRAY = msgspec.json.Decoder(list[Raw])
_STRING = msgspec.json.Decoder(str)
# The fields of an interaction the builder reads the values of; the others only for being there.
_READ = ("description", "type", "pending", "providerStates", "providerState", "provider_state")
_PATH_RULE_KEYS = ("path", "$.path")  # what normalize.path_rule_of reads (V3/V4, then V2)


def read_pact(file: BinaryIO) -> Iterator[Member | Element]:
    """The members of the pact in ``file`` in file order, as `jsonstream.read_members(file, "interactions")`
    gives them, except that each interaction is a skeleton (see the module's docstring)."""
    start = file.tell()
    fast = _scan(file)
    if fast is not None:
        return fast
    file.seek(start)
    return read_members(file, STREAMED)


def _scan(file: BinaryIO) -> Iterator[Member | Element] | None:
    """The fast reading, or None when only jsonstream.py can read the file exactly."""
    try:
        if os.fstat(file.fileno()).st_size - file.tell() > MAX_FAST_BYTES:
            return None
        buffer = file.read()
    except (OSError, MemoryError):
        return None  # jsonstream.py words the error, or copes with a file too large to hold
    if not _is_utf8(buffer):
        return None
    try:
        top = _OBJECT.decode(buffer)
    except (msgspec.MsgspecError, RecursionError):
        return None
    starts = _member_starts(buffer, top)
    if starts is None:
        return None
    elements: list[Raw] | None = None  # None unless "interactions" is an array
    offsets: list[int] = []
    if STREAMED in starts and buffer[starts[STREAMED]] == ord("["):
        array = top[STREAMED]
        elements = _ARRAY.decode(array)
        found = _element_offsets(buffer, starts[STREAMED], len(array), elements)
        if found is None:
            return None
        offsets = found
    # The Raws point into the buffer: it is freed when the last of them goes, once the items are read.
    return _items(list(starts), top, elements, offsets)


def _items(
    keys: list[str], top: dict[str, Raw], elements: list[Raw] | None, offsets: list[int]
) -> Iterator[Member | Element]:
    for key in keys:
        if key == STREAMED and elements is not None:
            yield Member(key, [])
            for element, offset in zip(elements, offsets, strict=True):
                yield Element(skeleton(element), offset, len(element))
        else:
            yield Member(key, _full(top[key]))


def _is_utf8(buffer: bytes) -> bool:
    """msgspec does not check the UTF-8 of text it skips; jsonstream.py rejects a file that is not UTF-8."""
    if buffer.isascii():
        return True  # the usual case, checked at memory speed
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(buffer)
    try:
        for at in range(0, len(view), _UTF8_CHUNK):
            decoder.decode(view[at : at + _UTF8_CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _member_starts(buffer: bytes, top: dict[str, Raw]) -> dict[str, int] | None:
    """Where each top-level value starts, by key, in file order; None when a key comes twice.

    msgspec keeps only the last of a repeated key, where jsonstream.py gives each (a second
    "interactions" array adds its interactions), so such a file is left to jsonstream.py.
    Each value is checked to be its Raw's text, so a wrong step here cannot go unnoticed.
    """
    starts: dict[str, int] = {}
    pos = _space(buffer, _space(buffer, 0) + 1)  # msgspec has checked that the document is an object
    while buffer[pos] != ord("}"):
        key_match = _KEY.match(buffer, pos)
        if key_match is None:
            return None
        key = _STRING.decode(key_match.group())
        pos = _space(buffer, key_match.end())
        if key in starts or key not in top or buffer[pos] != ord(":"):
            return None
        pos = _space(buffer, pos + 1)
        raw = top[key]
        if not buffer.startswith(raw, pos):
            return None
        starts[key] = pos
        pos = _space(buffer, pos + len(raw))
        if buffer[pos] == ord(","):
            pos = _space(buffer, pos + 1)
    return starts if len(starts) == len(top) else None


def _element_offsets(buffer: bytes, start: int, length: int, elements: list[Raw]) -> list[int] | None:
    """The byte offset of each element of the array at ``start``, each checked to hold that element's text."""
    offsets = []
    pos = _space(buffer, start + 1)
    between = _BETWEEN_ELEMENTS.match
    for number, element in enumerate(elements):
        if number:
            found = between(buffer, pos)
            if found is None:
                return None
            pos = found.end()
        if not buffer.startswith(element, pos):
            return None
        offsets.append(pos)
        pos += len(element)
    closing = start + length - 1
    return offsets if _space(buffer, pos) == closing and buffer[closing] == ord("]") else None


def _space(buffer: bytes, pos: int) -> int:
    match = _SPACE.match(buffer, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _full(raw: Raw) -> Any:
    """The value decoded as the standard decoder (which jsonstream.py uses) decodes it."""
    try:
        return _STRING.decode(raw)  # by far the most common, and decoded alike by both
    except msgspec.MsgspecError:
        return json.loads(bytes(raw))


def _object(raw: Raw) -> dict[str, Raw] | None:
    try:
        return _OBJECT.decode(raw)
    except msgspec.MsgspecError:
        return None


def skeleton(element: Raw) -> Any:
    """The interaction as the builder reads it: the fields it reads decoded, the others left as Raw."""
    try:
        usual = _USUAL.decode(element)
    except msgspec.MsgspecError:
        return _unusual(element)
    fields: dict[str, Any] = msgspec.to_builtins(usual, builtin_types=(Raw,))
    states = fields.get("providerStates")
    if states is not None:
        fields["providerStates"] = _full(states)
    request = fields.get("request")
    if request is not None and "matchingRules" in request:
        request["matchingRules"] = {key: _full(rule) for key, rule in request["matchingRules"].items()}
    if request is not None and "generators" in request:
        # Read for a path a provider state writes (injection.path_expression_of); rare, so decoded whole.
        request["generators"] = _full(request["generators"])
    return fields


def _unusual(element: Raw) -> Any:
    """An interaction the usual shape does not fit (an unknown field, a value of another type, ...)."""
    fields: dict[str, Any] | None = _object(element)
    if fields is None:
        return _full(element)  # not an object: the builder says so
    for name in _READ:
        if name in fields:
            fields[name] = _full(fields[name])
    if "request" in fields:
        fields["request"] = _request(fields["request"])
    if "response" in fields:
        response = _object(fields["response"])
        fields["response"] = _full(fields["response"]) if response is None else response
    return fields


def _request(raw: Raw) -> Any:
    request: dict[str, Any] | None = _object(raw)
    if request is None:
        return _full(raw)
    for name in ("method", "path", "generators"):
        if name in request:
            request[name] = _full(request[name])
    if "matchingRules" in request:
        rules = _object(request["matchingRules"])
        if rules is None:
            request["matchingRules"] = _full(request["matchingRules"])
        else:
            request["matchingRules"] = {key: _full(rules[key]) for key in _PATH_RULE_KEYS if key in rules}
    return request


# The usual interaction in one msgspec call. A field missing from these lists, or a value of
# another type, only sends that interaction through `_unusual`: the result is the same.
_Absent = Raw | UnsetType


class _PathRules(Struct, gc=False):
    path: _Absent = UNSET
    v2_path: _Absent = field(name="$.path", default=UNSET)


class _Request(Struct, forbid_unknown_fields=True, gc=False):
    method: str | UnsetType = UNSET
    path: str | UnsetType = UNSET
    matchingRules: _PathRules | UnsetType = UNSET
    query: _Absent = UNSET
    headers: _Absent = UNSET
    body: _Absent = UNSET
    generators: _Absent = UNSET


class _Interaction(Struct, forbid_unknown_fields=True, gc=False):
    description: str | UnsetType = UNSET
    type: str | UnsetType = UNSET
    pending: bool | UnsetType = UNSET
    providerStates: _Absent = UNSET
    providerState: str | UnsetType = UNSET
    provider_state: str | UnsetType = UNSET
    request: _Request | UnsetType = UNSET
    response: dict[str, Raw] | UnsetType = UNSET
    key: _Absent = UNSET
    comments: _Absent = UNSET
    pluginConfiguration: _Absent = UNSET
    interactionMarkup: _Absent = UNSET
    transport: _Absent = UNSET
    underscore_id: _Absent = field(name="_id", default=UNSET)
    id: _Absent = UNSET
    contents: _Absent = UNSET
    metadata: _Absent = UNSET
    matchingRules: _Absent = UNSET
    generators: _Absent = UNSET


_USUAL = msgspec.json.Decoder(_Interaction)
