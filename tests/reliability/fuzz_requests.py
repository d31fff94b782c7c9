"""Requests built from the committed pacts, and hypothesis strategies that break them the ways a bad client does.

Each interaction's example request is the starting point; a drawn request carries up to three mutations
of its body (JSON structure and JSON text), headers, query string, path, method or framing.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from .raw_http import WireRequest

Draw = Callable[[st.SearchStrategy[Any]], Any]
Location = tuple[str | int, ...]


@dataclass(frozen=True)
class Exemplar:
    """One interaction's example request, as the pact file gives it."""

    description: str
    states: tuple[str, ...]
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: tuple[tuple[str, str], ...]
    body: bytes
    document: Any  # the body decoded when it is JSON, else None


def load_exemplars(pact_dir: Path) -> list[Exemplar]:
    exemplars = []
    for pact_file in sorted(pact_dir.glob("*.json")):
        for interaction in json.loads(pact_file.read_text())["interactions"]:
            request = interaction["request"]
            body, document = _example_body(request.get("body"))
            exemplars.append(
                Exemplar(
                    description=interaction["description"],
                    states=tuple(state["name"] for state in interaction.get("providerStates", [])),
                    method=request["method"],
                    path=request["path"],
                    query=tuple(
                        (name, value) for name, values in (request.get("query") or {}).items() for value in values
                    ),
                    headers=tuple(
                        (name, value) for name, values in (request.get("headers") or {}).items() for value in values
                    ),
                    body=body,
                    document=document,
                )
            )
    return exemplars


def _example_body(body: dict[str, Any] | None) -> tuple[bytes, Any]:
    """A V4 body (content, contentType, encoded) as bytes on the wire, and as JSON when it is JSON."""
    if not body:
        return b"", None
    content = body["content"]
    if body.get("encoded") == "base64":
        return base64.b64decode(content), None
    if "json" in (body.get("contentType") or ""):
        return json.dumps(content).encode(), content
    return str(content).encode(), None


# --- JSON text the standard encoder would never write ---


class Raw(bytes):
    """JSON text put into the body verbatim: bad escapes, bad bytes, deep nesting, odd numbers."""


class Pairs(list[tuple[str, Any]]):
    """An object written as (key, value) pairs, so one key can appear twice."""


def dump(value: Any) -> bytes:
    if isinstance(value, Raw):
        return bytes(value)
    if isinstance(value, dict):
        value = Pairs(value.items())
    if isinstance(value, Pairs):
        return b"{" + b", ".join(dump(str(key)) + b": " + dump(item) for key, item in value) + b"}"
    if isinstance(value, list):
        return b"[" + b", ".join(dump(item) for item in value) + b"]"
    # Should a string hold a lone surrogate, it goes out as the bytes a sloppy encoder writes (no UTF-8 decoder takes them).
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def locations(value: Any, here: Location = ()) -> list[Location]:
    """Every place in a JSON document, the root first."""
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += locations(item, here + (key,))
    elif isinstance(value, list) and not isinstance(value, Pairs):
        for index, item in enumerate(value):
            found += locations(item, here + (index,))
    return found


def get_at(document: Any, location: Location) -> Any:
    for step in location:
        document = document[step]
    return document


# --- what a request is while it is being broken ---


@dataclass
class Draft:
    method: bytes
    path: bytes
    query: list[tuple[bytes, bytes]]
    headers: list[tuple[bytes, bytes]]
    document: Any
    body: bytes | None  # replaces the serialised document when set
    chunked: bool = False
    mutations: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, exemplar: Exemplar) -> Draft:
        return cls(
            method=exemplar.method.encode(),
            path=quote(exemplar.path).encode(),
            query=[(quote(n).encode(), quote(v).encode()) for n, v in exemplar.query],
            headers=[(n.encode(), v.encode()) for n, v in exemplar.headers],
            document=json.loads(json.dumps(exemplar.document)),
            body=None if exemplar.document is not None else exemplar.body,
        )

    def body_bytes(self) -> bytes:
        return self.body if self.body is not None else dump(self.document) if self.document is not None else b""

    def set_at(self, location: Location, value: Any) -> None:
        if not location:
            self.document = value
            return
        get_at(self.document, location[:-1])[location[-1]] = value

    def build(self) -> WireRequest:
        target = self.path + (b"?" + b"&".join(n + b"=" + v for n, v in self.query) if self.query else b"")
        return WireRequest(self.method, target, self.headers, self.body_bytes(), self.chunked, self.mutations)


# --- values ---

ODD_INTEGERS = [0, -1, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30]
ODD_NUMBERS = [
    b"1e999",
    b"-1e999",
    b"-0",
    b"1" * 5000,
    b"0x10",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1.0",
    b"01",
    b"1E2",
]
BAD_STRINGS = [
    b'"\\ud800"',
    b'"\\udc00\\ud800"',
    b'"\\x41"',
    b'"\\u00"',
    b'"a\\u0000b"',
    b'"\xff\xfe"',
    b'"\xc3"',
    b'"tab\there"',
]
SIZES = [300, 5_000, 100_000, 400_000, 1_100_000]
DEPTHS = [50, 900, 3_000, 100_000]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(ODD_INTEGERS),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
# Header values a broken client may send: anything but the line break that would end the header.
header_bytes = st.binary(max_size=40).map(lambda data: data.replace(b"\r", b"").replace(b"\n", b""))
tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_0123456789", min_size=1, max_size=20).map(str.encode)


def _pick_location(draw: Draw, draft: Draft, *, containers: bool = False, root: bool = True) -> Location | None:
    places = [
        loc
        for loc in locations(draft.document)
        if (root or loc) and (not containers or _open_container(get_at(draft.document, loc)))
    ]
    return draw(st.sampled_from(places)) if places else None


def _open_container(value: Any) -> bool:
    # Pairs (a duplicated key) are written as they are; adding to them would lose the duplicate.
    return isinstance(value, dict | list) and not isinstance(value, Pairs)


# --- body: the JSON structure ---


def drop_field(draw: Draw, draft: Draft) -> None:
    location = _pick_location(draw, draft, root=False)
    if location is not None:
        del get_at(draft.document, location[:-1])[location[-1]]
        draft.mutations.append(f"drop {location}")


def add_field(draw: Draw, draft: Draft) -> None:
    location = _pick_location(draw, draft, containers=True)
    if location is None:
        return
    container, value = get_at(draft.document, location), draw(json_values)
    if isinstance(container, dict):
        container[draw(st.text(max_size=12))] = value
    else:
        container.append(value)
    draft.mutations.append(f"add to {location}")


def replace_value(draw: Draw, draft: Draft) -> None:
    location = _pick_location(draw, draft)
    if location is None:
        return
    kind = draw(st.sampled_from(["wrong type", "null", "huge string", "deep nesting", "odd number", "bad string"]))
    if kind == "wrong type":
        value: Any = draw(json_values)
    elif kind == "null":
        value = None
    elif kind == "huge string":
        value = draw(st.sampled_from(["x", "é", "\u2028", "\\"])) * draw(st.sampled_from(SIZES))
    elif kind == "deep nesting":
        depth = draw(st.sampled_from(DEPTHS))
        value = Raw(b"[" * depth + b"]" * depth if draw(st.booleans()) else b'{"a":' * depth + b"1" + b"}" * depth)
    elif kind == "odd number":
        value = Raw(draw(st.sampled_from(ODD_NUMBERS)))
    else:
        value = Raw(draw(st.sampled_from(BAD_STRINGS)))
    draft.set_at(location, value)
    draft.mutations.append(f"{kind} at {location}")


def duplicate_key(draw: Draw, draft: Draft) -> None:
    objects = [loc for loc in locations(draft.document) if isinstance(get_at(draft.document, loc), dict)]
    objects = [loc for loc in objects if get_at(draft.document, loc)]
    if not objects:
        return
    location = draw(st.sampled_from(objects))
    members = list(get_at(draft.document, location).items())
    key = draw(st.sampled_from([k for k, _ in members]))
    extra = (key, draw(json_values))
    draft.set_at(location, Pairs([extra, *members] if draw(st.booleans()) else [*members, extra]))
    draft.mutations.append(f"duplicate key {key!r} at {location}")


# --- body: the bytes ---


def break_body_bytes(draw: Draw, draft: Draft) -> None:
    data = draft.body_bytes()
    kind = draw(st.sampled_from(["truncate", "non-UTF-8", "replace", "prefix", "empty"]))
    if kind == "truncate" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "non-UTF-8":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80", b"\x00"])) + data[at:]
    elif kind == "replace":
        data = draw(
            st.sampled_from([b"null", b"[]", b'"text"', b"123", b"{}", b"{} {}", b"not json", b"<xml/>", b"a=1&b=2"])
            | st.binary(max_size=200)
        )
    elif kind == "prefix":
        data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b" \n\t", b"]"])) + data
    else:
        data = b""
    draft.body = data
    draft.mutations.append(f"body {kind}")


def binary_body(draw: Draw, draft: Draft) -> None:
    size = draw(st.sampled_from([0, 1, 1000, 1000, 100_000, 100_000, 2_000_000, 10 * 1024 * 1024 + 1]))
    pattern = draw(st.binary(min_size=1, max_size=64))
    draft.body = (pattern * (size // len(pattern) + 1))[:size]
    draft.mutations.append(f"binary body of {size} bytes")


def chunked(draw: Draw, draft: Draft) -> None:
    draft.chunked = True
    draft.mutations.append("chunked")


# --- headers ---

CONTENT_TYPES = [
    b"text/plain",
    b"application/json; charset=latin-1",
    b"application/json; charset=utf-16",
    b"application/problem+json",
    b"application/x-www-form-urlencoded",
    b"multipart/form-data",
    b"application/octet-stream",
    b"application/json; p=" + b"x" * 400,
    b"application/octet-stream; p=" + b"x" * 400,
    b"application/octet-stream; charset=\xff",
    b"\xff/\xfe",
    b"",
]


def break_header(draw: Draw, draft: Draft) -> None:
    if not draft.headers:
        return
    index = draw(st.integers(0, len(draft.headers) - 1))
    name, value = draft.headers[index]
    kind = draw(st.sampled_from(["drop", "duplicate", "oversized", "non-ASCII", "random", "empty", "name case"]))
    if kind == "drop":
        del draft.headers[index]
    elif kind == "duplicate":
        draft.headers.insert(index + 1, (name, value if draw(st.booleans()) else draw(header_bytes)))
    elif kind == "oversized":
        draft.headers[index] = (name, value + b"x" * draw(st.sampled_from([100, 9_000, 60_000, 500_000])))
    elif kind == "non-ASCII":
        extra = draw(st.sampled_from([b"\xe9", "é€".encode(), b"\xff\xfe", b"\x80"]))
        draft.headers[index] = (name, value + extra)
    elif kind == "random":
        draft.headers[index] = (name, draw(header_bytes))
    elif kind == "empty":
        draft.headers[index] = (name, b"")
    else:
        draft.headers[index] = (name.swapcase(), value)
    draft.mutations.append(f"header {name!r}: {kind}")


def add_headers(draw: Draw, draft: Draft) -> None:
    count = draw(st.sampled_from([1, 20, 99, 150]))
    # Many headers at once come from one seeded generator: a hypothesis draw per byte would cost seconds.
    rng = random.Random(draw(st.integers(0, 2**32)))
    odd_names = [b"X Space", b"X-\xff", b"X:Colon", b""]
    for _ in range(count):
        name = rng.choice(odd_names) if rng.random() < 0.05 else b"x-" + rng.randbytes(6).hex().encode()
        value = rng.randbytes(rng.randrange(40)).replace(b"\r", b"").replace(b"\n", b"")
        draft.headers.append((name, value))
    draft.mutations.append(f"{count} extra header(s)")


def content_type(draw: Draw, draft: Draft) -> None:
    value = draw(st.sampled_from(CONTENT_TYPES))
    draft.headers = [(n, v) for n, v in draft.headers if n.lower() != b"content-type"] + [(b"Content-Type", value)]
    draft.mutations.append(f"Content-Type {value[:40]!r}")


# --- query, path, method ---

ODD_QUERY_VALUES = [
    b"",
    b"abc",
    b"-1",
    b"0",
    b"1.5",
    b"9" * 19,
    b"9" * 20,
    b"9" * 5000,
    b"%zz",
    b"%ff",
    b"%00",
    b"%",
    b"%D9%A1%D9%A2%D9%A3",
    b"%C2%B2",
    b"123%20",
    b"+123",
    b"123;x=1",
    b"a" * 20_000,
]


def break_query(draw: Draw, draft: Draft) -> None:
    kind = draw(st.sampled_from(["drop", "duplicate", "value", "add", "raw"]))
    if kind == "drop" and draft.query:
        draft.query.pop(draw(st.integers(0, len(draft.query) - 1)))
    elif kind == "duplicate" and draft.query:
        name, _ = draw(st.sampled_from(draft.query))
        draft.query.append((name, draw(st.sampled_from(ODD_QUERY_VALUES))))
    elif kind == "value" and draft.query:
        index = draw(st.integers(0, len(draft.query) - 1))
        draft.query[index] = (draft.query[index][0], draw(st.sampled_from(ODD_QUERY_VALUES)))
    elif kind == "add":
        draft.query.append(
            (draw(tokens | st.sampled_from([b"%ff", b"", b"job_id%00"])), draw(st.sampled_from(ODD_QUERY_VALUES)))
        )
    else:
        draft.query = [(draw(st.sampled_from([b"&&", b"=", b";;", b"%", b"job_id=1&job_id", b"a" * 300_000])), b"")]
    draft.mutations.append(f"query {kind}")


def break_path(draw: Draw, draft: Draft) -> None:
    path = draft.path
    kind = draw(
        st.sampled_from(
            [
                "encoded slash",
                "dot-dot",
                "double slash",
                "trailing slash",
                "long",
                "slashes",
                "number",
                "escape",
                "case",
            ]
        )
    )
    segments = path.split(b"/")
    if kind == "encoded slash":
        path = b"%2F".join(segments) if draw(st.booleans()) else path.replace(b"/", b"%2f", 2)
    elif kind == "dot-dot":
        path = path + draw(st.sampled_from([b"/..", b"/../..", b"/./", b"/%2e%2e/jobs", b"/../../../etc/passwd"]))
    elif kind == "double slash":
        path = path.replace(b"/", b"//")
    elif kind == "trailing slash":
        path = path + b"/"
    elif kind == "long":
        path = path + b"/" + b"a" * draw(st.sampled_from([300, 9_000, 60_000, 500_000]))
    elif kind == "slashes":
        # One segment per "/a": a router that works per segment pays for each (60 KB once cost a worker 0.9 GB).
        # 30,000 stays under granian's 64 KB request line, so the app answers; 40,000 is granian's own 414.
        path = path + b"/a" * draw(st.sampled_from([100, 5_000, 30_000, 40_000]))
    elif kind == "number":
        numbered = [i for i, s in enumerate(segments) if s.isdigit()] or [len(segments) - 1]
        segments[draw(st.sampled_from(numbered))] = draw(st.sampled_from(ODD_QUERY_VALUES))
        path = b"/".join(segments)
    elif kind == "escape":
        path = path + draw(st.sampled_from([b"%ff", b"%00", b"%zz", b"%", "é".encode(), b"%E2%80%AE"]))
    else:
        path = path.swapcase()
    draft.path = path
    draft.mutations.append(f"path {kind}")


METHODS = [b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD", b"OPTIONS", b"get", b"post", b"FOO", b"M" * 200]


def break_method(draw: Draw, draft: Draft) -> None:
    draft.method = draw(st.sampled_from(METHODS))
    draft.mutations.append(f"method {draft.method[:20]!r}")


JSON_MUTATIONS = [drop_field, add_field, replace_value, replace_value, duplicate_key, break_body_bytes]
OTHER_MUTATIONS = [
    break_header,
    break_header,
    add_headers,
    content_type,
    break_query,
    break_path,
    break_method,
    chunked,
]


MUTATION_COUNTS = [0, 1, 1, 1, 1, 2, 2, 3]


@st.composite
def bad_requests(draw: Draw, exemplars: list[Exemplar]) -> WireRequest:
    """One exemplar with 0 to 3 mutations: some requests stay valid and really create data."""
    exemplar = draw(st.sampled_from(exemplars))
    draft = Draft.of(exemplar)
    body_mutations = JSON_MUTATIONS if exemplar.document is not None else [binary_body, break_body_bytes]
    # Mostly one mutation: a request broken in one place gets past the contract when that place is
    # free-form, and reaches the handlers and the database, where most bugs hide.
    for _ in range(draw(st.sampled_from(MUTATION_COUNTS))):
        mutate = draw(st.sampled_from(body_mutations + OTHER_MUTATIONS))
        mutate(draw, draft)
    return draft.build()
