"""Judge a request by the contracts: a stub answer, a refusal, or the provider's handler bound to its route.

`judge` takes the request as a plain werkzeug request; the contract front (front.py), the one entrance for
every route a pact defines, acts on its verdict.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response
from werkzeug.http import parse_options_header
from werkzeug.wrappers import Request

from ..contract.match.rules import sniff_content_type
from ..contract.match.uripath import wire_path
from ..contract.model import MISSING, Body, Interaction, Mismatch
from ..contract.model import Request as ContractRequest
from ..contract.model import Response as ContractResponse
from ..contract.read.normalize import is_binary_type, is_json_type
from ..contract.serve.generators import GeneratorContext, apply_generators
from ..providers.registry import Handler
from .problems import problem
from .served import Served

log = logging.getLogger(__name__)

# Set by clients and proxies for the transport, never a contract's business (README lists them).
TRANSPORT_HEADERS = frozenset(
    {"host", "content-length", "connection", "keep-alive", "accept-encoding", "transfer-encoding"}
)
# A mismatch on one of these means "who are you", answered 401 rather than 400.
CREDENTIAL_HEADERS = frozenset({"authorization", "offline-token"})
# Content types held to the upload limit rather than the (smaller) JSON one.
BINARY_TYPES = frozenset({"application/octet-stream", "application/gzip", "application/zip", "application/x-tar"})
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
# The entrance puts the request body here, received whole, so that judging it needs no stream read.
RECEIVED_BODY = "pactmock.received_body"
# A handler's answer the same request may get again puts here what it holds while (bound.py, replays.py): the store,
# the generation of item writes, the mock's clock and the instant its clock step ends (or None).
REUSABLE_AT = "pactmock.reusable_at"
# A logged request value (path, query, mismatch messages) is cut to this many characters: 60 KB of path
# must not make 60 KB of log.
LOGGED_CHARS = 300


@dataclass(frozen=True)
class Stub:
    """Answer with the interaction's own response (generators applied)."""

    interaction: Interaction


@dataclass(frozen=True)
class Bound:
    """A provider's handler answers (bound.handle)."""

    interaction: Interaction
    handler: Handler
    path_params: dict[str, str]


def judge(req: Request, served: Served, active_states: Callable[[], frozenset[str]]) -> Response | Stub | Bound:
    """What the contracts say to this request; a Response when the mock itself answers (refusals, preflight).

    `active_states` is called only when candidates compete by provider state.
    """
    if req.method == "OPTIONS" and "Access-Control-Request-Method" in req.headers:
        return _preflight(req)
    too_large = _too_large(req, served)
    if too_large is not None:
        return too_large
    actual = actual_request(req)
    result = served.router.route(actual, active_states, ignored_headers=TRANSPORT_HEADERS)
    interaction = result.interaction
    if interaction is not None:
        # DEBUG, not INFO: a line per answered request cost about a third of the stub path's CPU time.
        log.debug("%s %s -> %r", actual.method, clipped(actual.path), interaction.description)
        if interaction.problem is not None:
            # The contract's fault, not the client's: the interaction cannot be compiled (read/index.py).
            return problem("broken-interaction", interaction.problem, interaction=describe(interaction))
        contract = interaction.contract
        # Handlers take the path decoded, as the WSGI server gave it.
        bound = served.providers.find(contract.provider if contract else None, actual.method, req.path)
        if bound is not None:
            return Bound(interaction, bound[0], bound[1])
        return Stub(interaction)
    if result.too_deep is not None:
        log.info("%s %s -> no interaction: %s", actual.method, clipped(actual.path), result.too_deep)
        return problem("no-interaction", result.too_deep, closest=[])
    if result.closest is None:
        log.info("%s %s -> no interaction", actual.method, clipped(actual.path))
        suggestions = [describe(i) for i in result.suggestions]
        hint = f"; closest: {', '.join(s['request'] for s in suggestions)}" if suggestions else ""
        return problem(
            "no-interaction", f"no contract describes {actual.method} {clipped(actual.path)}{hint}", closest=suggestions
        )
    return _refuse(actual, result.closest, result.mismatches)


def clipped(value: str, limit: int = LOGGED_CHARS) -> str:
    """A request value fit for a log line or a problem's detail: cut at `limit` characters, visibly."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}...[{len(value) - limit} more characters]"


def actual_request(req: Request) -> ContractRequest:
    """The request as the engine judges it."""
    environ = req.environ
    # The headers as werkzeug names them ("X-Client-Version"), read from the environ directly: werkzeug's
    # header view costs as much as judging the headers does.
    headers: dict[str, list[str]] = {}
    for key, value in environ.items():
        found = _header_name(key)
        if found is not None and (value or not found[1]):
            headers.setdefault(found[0], []).append(value)
    data = received_body(req)
    query_string = environ.get("QUERY_STRING")
    # Most requests carry no query: parsing an empty one still builds a MultiDict.
    args = req.args if query_string else None
    return ContractRequest(
        method=req.method,
        # The path as a client sends it (the server handed it over decoded); the engine compares URI paths.
        path=wire_path(req.path),
        query={name: args.getlist(name) for name in args} if args else {},
        headers=headers,
        body=Body(data if data else MISSING, environ.get("CONTENT_TYPE")),
    )


@functools.lru_cache(maxsize=1024)
def _header_name(environ_key: str) -> tuple[str, bool] | None:
    """The header an environ key carries, named as werkzeug names it, and whether it is a CGI key (skipped when
    empty, as werkzeug skips it); None for a key that is no header."""
    if environ_key.startswith("HTTP_") and environ_key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
        return environ_key[5:].replace("_", "-").title(), False
    if environ_key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return environ_key.replace("_", "-").title(), True
    return None


def received_body(req: Request) -> bytes:
    """The request body: as the entrance received it (whole, before the request was judged), else read."""
    body = req.environ.get(RECEIVED_BODY)
    return body if body is not None else req.get_data(cache=True)


def _too_large(req: Request, served: Served) -> Response | None:
    """Binary bodies (uploads) may be up to the upload limit; every other body up to the JSON limit.

    The app-wide MAX_CONTENT_LENGTH already refuses anything over the upload limit while reading.
    """
    limit = served.settings.max_json_bytes
    mimetype = _mimetype(req.environ.get("CONTENT_TYPE") or "")
    if mimetype in BINARY_TYPES or is_binary_type(mimetype):
        limit = served.settings.max_upload_bytes
    received = req.environ.get(RECEIVED_BODY)
    size = len(received) if received is not None else req.content_length
    if size is None:
        size = len(req.get_data(cache=True))
    if size <= limit:
        return None
    return problem(
        "body-too-large",
        f"the body is over {limit} bytes, the most this mock accepts for {mimetype or 'this content'}",
        limit=limit,
    )


@functools.lru_cache(maxsize=256)
def _mimetype(content_type: str) -> str:
    """The media type of a Content-Type value, lower-cased and without parameters (werkzeug's `mimetype`)."""
    return parse_options_header(content_type)[0].lower()


def _redact(mismatch: Mismatch, interaction: Interaction) -> Mismatch:
    """Credentials never appear in a log line or an error body, neither the client's nor the contract's example."""
    if mismatch.part != "header" or mismatch.path.lower() not in CREDENTIAL_HEADERS:
        return mismatch
    rules = {k.lower(): v for k, v in (interaction.request.rules.get("header") or {}).items()}
    rule = rules.get(mismatch.path.lower())
    regexes = [m["regex"] for m in rule.matchers if m["match"] == "regex"] if rule else []
    form = f"a value matching /{regexes[0]}/" if regexes else "the value the contract requires"
    state = "is missing" if mismatch.actual is None else "does not have the form the contract requires"
    message = f"header {mismatch.path!r} {state}: expected {form} (values withheld: credential)"
    return Mismatch("header", mismatch.path, "<withheld>", None if mismatch.actual is None else "<withheld>", message)


def _refuse(actual: ContractRequest, closest: Interaction, mismatches: list[Mismatch]) -> Response:
    mismatches = [_redact(m, closest) for m in mismatches]
    status = 401 if any(m.part == "header" and m.path.lower() in CREDENTIAL_HEADERS for m in mismatches) else 400
    log.warning(
        "%s %s refused (%d): %s",
        actual.method,
        clipped(actual.path),
        status,
        clipped("; ".join(m.message for m in mismatches), 4 * LOGGED_CHARS),
    )
    return problem(
        "unauthorized" if status == 401 else "contract-mismatch",
        "; ".join(m.message for m in mismatches),
        interaction=describe(closest),
        mismatches=[m.as_dict() for m in mismatches],
    )


def describe(interaction: Interaction) -> dict[str, Any]:
    """An interaction as a problem names it: description, request line, provider states, contract."""
    contract = interaction.contract
    return {
        "description": interaction.description,
        "request": f"{interaction.method} {interaction.path}",
        "providerStates": list(interaction.state_names),
        "contract": f"{contract.consumer} -> {contract.provider}" if contract else None,
    }


def stub_answer(interaction: Interaction, served: Served, req: Request) -> Response:
    """The interaction's own response, its generators applied for this request."""
    try:
        generated = generated_response(interaction, served, req)
    except ValueError as exc:
        # A generator the contract declares cannot run: the contract's fault, not the client's.
        log.error("interaction %r cannot be answered: %s", interaction.description, exc)
        return problem("bad-generator", str(exc), interaction=describe(interaction))
    return to_flask(generated)


def generated_response(interaction: Interaction, served: Served, req: Request) -> ContractResponse:
    """The interaction's response with its generators applied for this request; ValueError when one cannot run."""
    params: dict[str, Any] = {}
    for provider_state in interaction.provider_states:
        params.update(provider_state.params)
    injected = interaction.request.injected
    if injected is not None:
        # Values the request carries where a provider state writes them (`/api/hello/John`): the state that
        # chose them is the one this answer speaks of, so they win over the pact's own parameters.
        params.update(injected.bind(actual_request(req)))
    context = GeneratorContext(
        provider_state_params=params,
        mock_server_url=served.settings.mock_server_url or base_url(req),
        seed=served.settings.generator_seed,
    )
    return apply_generators(interaction.response, context)


def encoded_body(response: ContractResponse) -> tuple[bytes, str | None]:
    """A contract response's body as bytes, encoded as its content type says, else as the reference would; and
    the Content-Type it goes with when the contract's headers name none."""
    body = response.body.value
    content_type = response.body.content_type
    if body is MISSING or body is None:
        return b"", content_type
    if isinstance(body, bytes):
        return body, content_type or (sniff_content_type(body) if body else None)
    if isinstance(body, str) and not is_json_type(content_type):
        return body.encode("utf-8"), content_type or (default_content_type(body) if body else None)
    # A JSON value, or text the contract says is JSON but is not (the reference sends it as a JSON string).
    return json.dumps(body, ensure_ascii=False).encode("utf-8"), content_type or "application/json"


def to_flask(response: ContractResponse) -> Response:
    """A contract response as HTTP: the body encoded as its content type says, else as the reference would."""
    data, content_type = encoded_body(response)
    flask_response = Response(data, status=response.status)
    # Never werkzeug's default (text/html; charset=utf-8): the contract's header, else what its body is.
    del flask_response.headers["Content-Type"]
    for name, values in response.headers.items():
        flask_response.headers[name] = ", ".join(values)
    if content_type and "Content-Type" not in flask_response.headers:
        flask_response.headers["Content-Type"] = content_type
    return flask_response


def default_content_type(text: str) -> str:
    """The Content-Type the reference stub gives a text body its pact leaves without one (no charset)."""
    start = text.lstrip()[:64]
    upper = start.upper()
    if start.startswith("<?xml"):
        return "application/xml"
    if upper.startswith("<!DOCTYPE") or "<HTML>" in upper:
        return "text/html"
    if _JSON_START.match(start):
        return "application/json"
    if _XML_START.match(start):
        return "application/xml"
    return "text/plain"


# How the reference recognises text that is JSON or XML by its first characters.
_JSON_START = re.compile(r'(?:true|false|null|[0-9]|"\w*|\{\s*(?:\}|"\w)|\[)')
_XML_START = re.compile(r"<\w")


def _preflight(req: Request) -> Response:
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = ", ".join(ALL_METHODS)
    requested = req.headers.get("Access-Control-Request-Headers")
    if requested:
        response.headers["Access-Control-Allow-Headers"] = requested
    response.headers["Access-Control-Max-Age"] = "600"
    return response


# Werkzeug's host_url, remembered per (scheme, Host, server name, port): it decodes the host as an IRI, which
# was 4% of a POST /runs (py-spy, docs/architecture.md). Bounded: clients choose the Host header.
BASE_URLS: dict[tuple[object, ...], str] = {}
BASE_URLS_KEPT = 64


def base_url(request: Request) -> str:
    """The URL the client reached this server by, for URLs in answers (as werkzeug's host_url, no slash)."""
    environ = request.environ
    key = (
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
    )
    found = BASE_URLS.get(key)
    if found is None:
        if len(BASE_URLS) >= BASE_URLS_KEPT:
            BASE_URLS.clear()
        found = BASE_URLS[key] = request.host_url.rstrip("/")
    return found
