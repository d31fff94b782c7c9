"""The contract front (app/web/front.py) is the one entrance for every route a pact defines.

Each request below is answered in process by the front, never by Flask behind it, with the status (and
problem type) it should get; the same bytes again when replayed, and when decided on the event loop.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import run_wsgi_app

from app import create_app
from app.settings import Settings
from app.store import migrate
from app.web.front import NeedsThread
from tests.support.epx import EPX_HEADERS

REGISTER_RULES = {
    "header": {
        "Offline-Token": {"matchers": [{"match": "regex", "regex": "^Bearer \\S+$"}]},
        "fredcli-version": {"matchers": [{"match": "regex", "regex": "^\\d+\\.\\d+\\.\\d+$"}]},
    },
    "body": {"$.tags": {"matchers": [{"match": "type", "min": 1}]}},
}


def interaction(description: str, method: str, path: str, response: dict[str, Any], **extra: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "path": path}
    request.update(extra.pop("request", {}))
    return {"type": "Synchronous/HTTP", "description": description, "request": request, "response": response, **extra}


def json_body(content: Any) -> dict[str, Any]:
    return {"content": content, "contentType": "application/json", "encoded": False}


INTERACTIONS = [
    interaction(
        "register a job",
        "POST",
        "/jobs/register",
        {
            "status": 200,
            "headers": {"Content-Type": ["application/json"], "X-Trace": ["a", "b"]},
            "body": json_body({"id": 123, "userId": 456, "tags": ["info_job"]}),
        },
        request={
            "headers": {k: [v] for k, v in EPX_HEADERS.items()},
            "body": json_body({"tags": ["info_job"]}),
            "matchingRules": REGISTER_RULES,
        },
    ),
    interaction(
        "a generated id",
        "GET",
        "/generated",
        {
            "status": 200,
            "body": json_body({"id": 1, "self": "http://example.test/generated"}),
            "generators": {
                "body": {
                    "$.id": {"type": "RandomInt", "min": 1, "max": 1000000},
                    "$.self": {"type": "MockServerURL", "regex": ".*(/generated)$", "example": "x"},
                }
            },
        },
    ),
    interaction(
        "a broken generator",
        "GET",
        "/broken",
        {"status": 200, "generators": {"status": {"": {"type": "RandomString"}}}},
    ),
    interaction("no content", "DELETE", "/jobs/1", {"status": 204, "body": json_body({"ignored": True})}),
    interaction(
        "a head",
        "HEAD",
        "/head",
        {"status": 200, "headers": {"Content-Type": ["text/plain"]}, "body": {"content": "hello"}},
    ),
    interaction("plain text", "GET", "/text", {"status": 299, "body": {"content": "no type given"}}),
    interaction("nothing at all", "GET", "/empty", {"status": 202}),
    interaction(
        "a located answer",
        "GET",
        "/moved",
        {"status": 301, "headers": {"Location": ["/über"], "Access-Control-Allow-Origin": ["x"]}},
    ),
    interaction(
        "query",
        "GET",
        "/runs",
        {"status": 200, "body": json_body({"runs": []})},
        request={"query": {"job_id": ["123"]}},
    ),
    interaction(
        "state a", "GET", "/state", {"status": 200, "body": json_body({"which": "a"})}, providerStates=[{"name": "a"}]
    ),
    interaction(
        "state b", "GET", "/state", {"status": 200, "body": json_body({"which": "b"})}, providerStates=[{"name": "b"}]
    ),
    interaction(
        "upload",
        "PUT",
        "/blobs/1",
        {"status": 200},
        request={"headers": {"Content-Type": ["application/octet-stream"]}},
    ),
]


def environ(
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    query: str = "",
    chunked: bool = False,
) -> dict[str, Any]:
    """A WSGI environ as a server builds it; `chunked` sends the body without a Content-Length."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:5000",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if chunked:
        env["HTTP_TRANSFER_ENCODING"] = "chunked"
        env["wsgi.input_terminated"] = True
    elif body:
        env["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        env[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return env


REGISTER = json.dumps({"tags": ["info_job"]}).encode()
ORIGIN = {"Origin": "http://app.test"}
CASES: dict[str, dict[str, Any]] = {
    "stub": environ("POST", "/jobs/register", EPX_HEADERS, REGISTER),
    "stub from an allowed origin": environ("POST", "/jobs/register", {**EPX_HEADERS, **ORIGIN}, REGISTER),
    "stub from another origin": environ("POST", "/jobs/register", {**EPX_HEADERS, "Origin": "http://x.test"}, REGISTER),
    "stub, lower-case method": environ("post", "/jobs/register", EPX_HEADERS, REGISTER),
    "stub, trailing slash": environ("POST", "/jobs/register/", EPX_HEADERS, REGISTER),
    "stub, leading double slash": environ("POST", "//jobs/register", EPX_HEADERS, REGISTER),
    "stub, inner double slash": environ("POST", "/jobs//register", EPX_HEADERS, REGISTER),
    "generators": environ("GET", "/generated"),
    "broken generator": environ("GET", "/broken"),
    "204 with an example body": environ("DELETE", "/jobs/1"),
    "HEAD": environ("HEAD", "/head"),
    "unusual status, text body": environ("GET", "/text"),
    "no body": environ("GET", "/empty"),
    "location and a contract's own CORS header": environ("GET", "/moved", ORIGIN),
    "query": environ("GET", "/runs", query="job_id=123"),
    "query mismatch": environ("GET", "/runs", query="job_id=124&job_id=1&x"),
    "provider states compete": environ("GET", "/state"),
    "missing credential": environ("POST", "/jobs/register", {"Content-Type": "application/json"}, REGISTER),
    "body mismatch": environ("POST", "/jobs/register", EPX_HEADERS, b'{"tags": [], "extra": 1}'),
    "body not JSON": environ("POST", "/jobs/register", EPX_HEADERS, b"\xff\xfe{"),
    "no interaction": environ("GET", "/jobs/registr", ORIGIN),
    "path with a newline": environ("GET", "/jobs/reg\nister"),
    "path not UTF-8": environ("GET", "/jobs/\xff\xfe"),
    "path in UTF-8": environ("GET", "/\xc3\xbcber"),
    "path with control characters": environ("GET", "/jobs/\r\t\x00\x0b\x0c\x1c\x85"),
    "path with a space, ? and %": environ("GET", "/jobs/a b?c%20"),
    "JSON over the limit": environ("POST", "/jobs/register", EPX_HEADERS, b'{"tags": ["' + b"x" * 3000 + b'"]}'),
    "chunked JSON over the limit": environ("POST", "/jobs/register", EPX_HEADERS, b"x" * 3000, chunked=True),
    "chunked upload at the limit": environ(
        "PUT", "/blobs/1", {"Content-Type": "application/octet-stream"}, b"x" * 5000, chunked=True
    ),
    "chunked upload over the limit": environ(
        "PUT", "/blobs/1", {"Content-Type": "application/octet-stream"}, b"x" * 9000, chunked=True
    ),
    "chunked, server does not terminate input": {
        **environ("PUT", "/blobs/1", {"Content-Type": "application/octet-stream"}, b"x" * 10, chunked=True),
        "wsgi.input_terminated": None,
    },
    "Content-Length not a number": {
        **environ("PUT", "/blobs/1", {"Content-Type": "application/octet-stream"}),
        "CONTENT_LENGTH": "ten",
    },
    "body shorter than its Content-Length": {
        **environ("PUT", "/blobs/1", {"Content-Type": "application/octet-stream"}, b"x" * 10),
        "CONTENT_LENGTH": "20",
    },
    "preflight": environ("OPTIONS", "/jobs/register", {"Access-Control-Request-Method": "POST", **ORIGIN}),
    "plain OPTIONS": environ("OPTIONS", "/jobs/register"),
    "unknown method": environ("PROPFIND", "/jobs/register"),
    "root, not GET": environ("POST", "/"),
}
# What each case is answered with: status, and the problem type of a refusal. Recorded from the Flask
# catch-all view that used to answer contract routes beside the front, and kept when the front became the
# one entrance; two answers changed on purpose: a path with an inner "//" or a newline is judged by the
# contracts like any other path (Flask redirected, or answered its own 404). A leading "//" is one slash
# to werkzeug, as it was to Flask.
EXPECTED: dict[str, tuple[int, str]] = {
    "stub": (200, ""),
    "stub from an allowed origin": (200, ""),
    "stub from another origin": (200, ""),
    "stub, lower-case method": (200, ""),
    "stub, trailing slash": (404, "no-interaction"),
    "stub, leading double slash": (200, ""),
    "stub, inner double slash": (404, "no-interaction"),
    "generators": (200, ""),
    "broken generator": (500, "bad-generator"),
    "204 with an example body": (204, ""),
    "HEAD": (200, ""),
    "unusual status, text body": (299, ""),
    "no body": (202, ""),
    "location and a contract's own CORS header": (301, ""),
    "query": (200, ""),
    "query mismatch": (400, "contract-mismatch"),
    "provider states compete": (200, ""),
    "missing credential": (401, "unauthorized"),
    "body mismatch": (400, "contract-mismatch"),
    "body not JSON": (400, "contract-mismatch"),
    "no interaction": (404, "no-interaction"),
    "path with a newline": (404, "no-interaction"),
    "path not UTF-8": (404, "no-interaction"),
    "path in UTF-8": (404, "no-interaction"),
    "path with control characters": (404, "no-interaction"),
    "path with a space, ? and %": (404, "no-interaction"),
    "JSON over the limit": (413, "body-too-large"),
    "chunked JSON over the limit": (413, "body-too-large"),
    "chunked upload at the limit": (200, ""),
    "chunked upload over the limit": (413, "body-too-large"),
    "chunked, server does not terminate input": (200, ""),
    "Content-Length not a number": (200, ""),
    "body shorter than its Content-Length": (400, "bad-request"),
    "preflight": (204, ""),
    "plain OPTIONS": (404, "no-interaction"),
    "unknown method": (405, "method-not-allowed"),
    "root, not GET": (404, "no-interaction"),
}


@pytest.fixture(scope="module", params=["http://app.test", "*"])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("front")
    (folder / "pacts").mkdir()
    pact = {
        "consumer": {"name": "epx"},
        "provider": {"name": "StubbedApi"},
        "interactions": INTERACTIONS,
        "metadata": {"pactSpecification": {"version": "4.0"}},
    }
    (folder / "pacts" / "stubbed.json").write_text(json.dumps(pact))
    url = f"sqlite:///{folder / 'front.sqlite3'}"
    migrate.upgrade(url)
    settings = replace(
        Settings.from_env({}),
        pact_dir=str(folder / "pacts"),
        database_url=url,
        cors_origins=(request.param,),
        generator_seed=7,
        max_json_bytes=2000,
        max_upload_bytes=5000,
    )
    yield create_app(settings)


def answer(wsgi_app: Any, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    env = dict(env)
    env["wsgi.input"] = io.BytesIO(env["wsgi.input"].getvalue())
    if env.get("wsgi.input_terminated") is None:
        env.pop("wsgi.input_terminated", None)
    app_iter, status, headers = run_wsgi_app(wsgi_app, env)
    try:
        body = b"".join(app_iter)
    finally:
        getattr(app_iter, "close", lambda: None)()
    return status, headers.to_wsgi_list(), body


@pytest.mark.parametrize("case", list(CASES))
def test_front_answers_every_contract_route_itself(app: Flask, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    front = app.wsgi_app.app  # type: ignore[attr-defined]  # inside the BodyGuard
    handed_over: list[str] = []

    def recording_flask_app(env: dict[str, Any], start_response: Any) -> Any:
        handed_over.append(env["PATH_INFO"])
        raise AssertionError("a contract route reached Flask")

    monkeypatch.setattr(front, "flask_app", recording_flask_app)
    first = answer(front, CASES[case])
    status, problem_type = EXPECTED[case]
    assert int(first[0].split()[0]) == status, first
    if problem_type:
        assert json.loads(first[2])["type"] == f"/_mock/problems/{problem_type}", first
    # The second answer of a stub without generators is a replay of the first; the event loop's decision
    # (entrance.py) and the thread's are the same answer.
    assert answer(front, CASES[case]) == first
    assert answer(_decided_on_the_loop(front), CASES[case]) == first
    assert handed_over == []


def _decided_on_the_loop(front: Any) -> Any:
    def app(env: dict[str, Any], start_response: Any) -> Any:
        outcome = front.decide(env, inline=True)
        return (outcome.run() if isinstance(outcome, NeedsThread) else outcome)(env, start_response)

    return app


def test_replayed_stub_is_the_contracts_answer(app: Flask) -> None:
    status, headers, body = answer(app.wsgi_app, CASES["stub from an allowed origin"])
    assert status == "200 OK"
    assert json.loads(body) == {"id": 123, "userId": 456, "tags": ["info_job"]}
    allowed = app.extensions["pactmock.served"].settings.cors_origins[0]
    assert ("Access-Control-Allow-Origin", allowed) in headers
    assert (("Vary", "Origin") in headers) == (allowed != "*")
    assert ("X-Trace", "a, b") in headers
    assert ("Content-Length", str(len(body))) in headers
