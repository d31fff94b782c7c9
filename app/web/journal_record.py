"""One journal record, made on the request path: the request with its credentials withheld, and what answered.

It is made for every contract request, so it is cheap: the line is written as JSON text piece by piece (the
headers a client sends again and again, and the description of the interaction that answered, are encoded once
and reused), with no dictionary built and no general JSON encoder run. Only a refusal (rare, and already slow)
has its problem body read back for its mismatches.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring  # the C encoder of a JSON string, non-ASCII kept as it is
from typing import Any
from urllib.parse import parse_qsl

from ..domain.sessions import DEFAULT, InvalidSessionName, checked_name
from .dispatch import Bound, Stub, clipped
from .session_scope import HEADER_IN_ENVIRON

# The front puts its verdict (a Stub or a Bound) here; a request without one was refused by the mock itself.
ANSWERED_BY = "pactmock.answered_by"
# The front marks requests for the control plane and pactmock's own pages here: they are never journaled.
NOT_JOURNALED = "pactmock.not_journaled"

WITHHELD = "(withheld)"
# Headers and query parameters whose values are credentials, by name or by a word in their name.
CREDENTIAL_NAMES = frozenset({"authorization", "proxy-authorization", "cookie", "offline-token", "x-mock-admin-token"})
CREDENTIAL_WORDS = ("token", "secret", "key", "password", "passwd", "credential", "cookie", "authorization")
# A header value, the path and the query are kept up to these many characters; mismatches up to these.
HEADER_CHARS = 512
PATH_CHARS = 2048
MISMATCHES_KEPT = 20
MISMATCH_CHARS = 300
# Encoded header sets and answering interactions kept for reuse; past it the store starts again.
REUSED = 512


@functools.lru_cache(maxsize=1024)
def is_credential(name: str) -> bool:
    """Whether a header or parameter of this name carries a credential, whose value the journal withholds."""
    lowered = name.lower()
    return lowered in CREDENTIAL_NAMES or any(word in lowered for word in CREDENTIAL_WORDS)


@functools.lru_cache(maxsize=1024)
def _header_field(cgi_key: str) -> tuple[str, bool]:
    """The header an environ key carries (HTTP_X_API_KEY -> "x-api-key", encoded) and whether it is a credential."""
    name = (cgi_key[5:] if cgi_key.startswith("HTTP_") else cgi_key).lower().replace("_", "-")
    return encode_basestring(name), is_credential(name)


_ENCODED_HEADERS: dict[tuple[tuple[str, str], ...], str] = {}


def headers_json(cgi_headers: Mapping[str, str]) -> str:
    """The request's headers (CGI-named, as the entrance reads them) as a JSON object of lower-case names,
    credentials withheld and long values clipped; a set of headers seen before is encoded once."""
    key = tuple(cgi_headers.items())
    found = _ENCODED_HEADERS.get(key)
    if found is not None:
        return found
    fields = []
    for cgi_key, value in key:
        name, credential = _header_field(cgi_key)
        shown = WITHHELD if credential else clipped(value, HEADER_CHARS)
        fields.append(f"{name}:{encode_basestring(shown)}")
    encoded = "{" + ",".join(fields) + "}"
    if len(_ENCODED_HEADERS) >= REUSED:
        _ENCODED_HEADERS.clear()
    _ENCODED_HEADERS[key] = encoded
    return encoded


def query_of(query_string: str) -> dict[str, list[str]]:
    """The query's parameters, values of credential-named ones withheld."""
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string[:PATH_CHARS], keep_blank_values=True):
        query.setdefault(name, []).append(WITHHELD if is_credential(name) else value)
    return query


def body_json(body: bytes, limit: int) -> str:
    """The body's fields of the record (`,"body":...` and its size), or nothing: text up to `limit` bytes,
    base64 when it is not UTF-8."""
    if not body:
        return ""
    kept = body[:limit]
    size = f',"bodyBytes":{len(body)},"bodyClipped":{"true" if len(body) > limit else "false"}'
    try:
        return f',"body":{encode_basestring(kept.decode("utf-8"))}{size}'
    except UnicodeDecodeError as error:
        if len(body) > limit and error.start >= len(kept) - 3:  # a character cut in two by the clip
            return f',"body":{encode_basestring(kept[: error.start].decode("utf-8"))}{size}'
        return f',"bodyBase64":"{base64.b64encode(kept).decode("ascii")}"{size}'


DEFAULT_SESSION_JSON = f',"session":{encode_basestring(DEFAULT)}'


@functools.lru_cache(maxsize=1024)
def _named_session_json(raw: str) -> str:
    """The `session` field of a request that names one: X-Pactmock-Session as the mock folds it."""
    try:
        name = checked_name(raw)
    except InvalidSessionName:  # refused before it is journaled; kept as sent (clipped) should one get here
        name = clipped(raw, 80)
    return f',"session":{encode_basestring(name)}'


_ENCODED_ANSWERS: dict[tuple[int, int], tuple[Any, str]] = {}


def answered_json(verdict: Any) -> str:
    """The `answeredBy` field of a request a contract's interaction (and maybe a handler) answered, else ""."""
    if not isinstance(verdict, Stub | Bound):
        return ""
    interaction = verdict.interaction
    handler = verdict.handler if isinstance(verdict, Bound) else None
    key = (id(interaction), id(handler))
    found = _ENCODED_ANSWERS.get(key)
    if found is not None and found[0] is interaction:
        return found[1]
    contract = interaction.contract
    # Written piece by piece: under requests spread over 100,000 interactions nearly every one is a first, and
    # json.dumps of a dictionary cost four times this (3 against 11-15 µs, timeit).
    states = ",".join(encode_basestring(name) for name in interaction.state_names)
    encoded = (
        f',"answeredBy":{{"interaction":{encode_basestring(interaction.description)},'
        f'"provider":{_text_or_null(contract.provider if contract else None)},'
        f'"consumer":{_text_or_null(contract.consumer if contract else None)},"providerStates":[{states}]'
    )
    if handler is not None:
        name = f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"
        encoded += f',"handler":{encode_basestring(name)}'
    encoded += "}"
    if len(_ENCODED_ANSWERS) >= REUSED:
        _ENCODED_ANSWERS.clear()
    _ENCODED_ANSWERS[key] = (interaction, encoded)
    return encoded


def _text_or_null(text: str | None) -> str:
    return "null" if text is None else encode_basestring(text)


def refusal_json(answer: Iterable[bytes]) -> str:
    """What the mock's own problem+json refusal says (type, detail, closest interaction, mismatches), as fields."""
    fields = refusal(answer)
    return "," + json.dumps(fields, ensure_ascii=False, separators=(",", ":"))[1:-1] if fields else ""


def refusal(answer: Iterable[bytes]) -> dict[str, Any]:
    """The refusal's fields: its type, its detail, the closest interaction and its mismatches, credentials withheld."""
    try:
        problem = json.loads(b"".join(answer))
    except (ValueError, RecursionError):
        return {}
    if not isinstance(problem, dict):
        return {}
    fields: dict[str, Any] = {"refusal": str(problem.get("type", "")).rpartition("/")[2]}
    detail = str(problem.get("detail", ""))
    if isinstance(problem.get("interaction"), dict):
        fields["closest"] = problem["interaction"]
    mismatches = problem.get("mismatches")
    if isinstance(mismatches, list):
        kept = [_compact(withheld(m)) for m in mismatches[:MISMATCHES_KEPT] if isinstance(m, dict)]
        fields["mismatches"] = kept
        # The detail repeats the mismatches' messages, credentials and all: it is said again without them.
        detail = "; ".join(str(m.get("message")) for m in kept)
    fields["detail"] = clipped(detail, 1000)
    return fields


def _compact(mismatch: dict[str, Any]) -> dict[str, Any]:
    """A mismatch whose values or message are long (a whole body, say) as text clipped to a few hundred characters."""
    compact = dict(mismatch)
    for key in ("expected", "actual", "message"):
        value = compact.get(key)
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        if len(text) > MISMATCH_CHARS:
            compact[key] = clipped(text, MISMATCH_CHARS)
    return compact


def withheld(mismatch: dict[str, Any]) -> dict[str, Any]:
    """A mismatch (as JSON) with the values withheld when it is about a header, a query parameter or a body
    field named like a credential: neither the client's value nor the contract's example is shown."""
    name = str(mismatch.get("path", ""))
    if mismatch.get("part") == "body":
        name = name.rpartition(".")[2]
    if mismatch.get("part") not in ("header", "query", "body") or not is_credential(name):
        return mismatch
    state = "is missing" if mismatch.get("actual") is None else "does not match the contract"
    return {
        **mismatch,
        "expected": WITHHELD,
        "actual": None if mismatch.get("actual") is None else WITHHELD,
        "message": f"{mismatch.get('part')} {name!r} {state} (values withheld: credential)",
    }


def request_parts(
    environ: Mapping[str, Any],
    cgi_headers: Mapping[str, str],
    body: bytes,
    status: int,
    answer: list[bytes],
    body_bytes: int,
) -> tuple[str, str]:
    """What the request and its answer decide of a record, before its status and after its duration: the same
    for a request repeated byte for byte and answered alike, so the entrance keeps them with a replayed answer."""
    query = environ.get("QUERY_STRING") or ""
    query_text = json.dumps(query_of(query), ensure_ascii=False, separators=(",", ":")) if query else "{}"
    path = environ.get("PATH_INFO") or ""
    if not path.isascii():
        path = path.encode("latin-1").decode("utf-8", "replace")  # WSGI's latin-1 text back to what was sent
    if len(path) > PATH_CHARS:
        path = clipped(path, PATH_CHARS)
    raw_session = environ.get(HEADER_IN_ENVIRON)  # no session named: the default one's
    session = DEFAULT_SESSION_JSON if raw_session is None else _named_session_json(raw_session)
    answered = answered_json(environ.get(ANSWERED_BY))
    if not answered and status >= 400:
        answered = refusal_json(answer)
    before = (
        f'"method":{encode_basestring(environ.get("REQUEST_METHOD") or "")},'
        f'"path":{encode_basestring(path)}{session},"query":{query_text},'
        f'"headers":{headers_json(cgi_headers)},'
    )
    return before, f"{body_json(body, body_bytes)}{answered}}}\n"


def assembled(record_id: str, arrived_ns: int, finished_ns: int, status: int, parts: tuple[str, str]) -> bytes:
    """One record's line from its request's parts."""
    return (
        f'{{"id":"{record_id}","ns":{arrived_ns},{parts[0]}'
        f'"status":{status},"durationMs":{(finished_ns - arrived_ns) / 1e6:.3f}{parts[1]}'
    ).encode()
