"""Every /_mock/ call refuses a client on another host: one test per rule of the real app's URL map and method.

The rules are read from the app `pactmock serve` builds (factory.build_app), so a control-plane call added later
is covered without touching this file, and a rule that answers a non-loopback caller fails its test. The caller
is real: the mock listens on 0.0.0.0 and is called at this machine's own non-loopback address, so the server
sees a non-loopback peer on a real socket (no faked REMOTE_ADDR). Each refusal is checked against the same call
from 127.0.0.1, which gets past the guard: the refusal is about the caller's address, nothing else.

With MOCK_ADMIN_TOKEN set, every guarded call is 401 without the token and with a wrong one, and passes with it.
The public pages (health, problem types, the docs' static files) are listed here explicitly and stay open.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.integration.conftest import RunningMock, start_mock, stop_mock

from .control_rules import PACT_DIR, Call, app_rules, control_calls
from .test_security import outward_address

ADMIN_TOKEN = "admin-guard-5d1c8e2f07b94a36"
# The rules anyone may call, from anywhere, without a token (control.py's PUBLIC_CONTROL_*): a rule listed
# here that the app no longer has, or a /_mock/ rule that answers a stranger and is not listed, fails.
PUBLIC_RULES = frozenset({"/_mock/health", "/_mock/problems/", "/_mock/problems/<slug>", "/_mock/docs/assets/<name>"})
# The dashboard's static files, public when a dashboard is served (its rule comes with it).
PUBLIC_IF_SERVED = ("/_mock/ui/assets/",)
# pactmock's own pages outside /_mock/ (front.py's OWN_PAGES, where no pact defines the path): the same index,
# health and API reference as under /_mock/. The index and health are open; the API reference pages embed the
# OpenAPI document /_mock/openapi.json guards, so they are guarded as it is (GUARDED_ALIASES).
OPEN_ALIASES = frozenset({"/", "/health", "/docs", "/redoc"})
GUARDED_ALIASES = ("/docs", "/redoc")


def _public(call: Call) -> bool:
    return call.rule in PUBLIC_RULES or call.rule.startswith(PUBLIC_IF_SERVED)


RULES = app_rules()
CONTROL_CALLS = control_calls(RULES)
GUARDED = [call for call in CONTROL_CALLS if not _public(call)]
PUBLIC = [call for call in CONTROL_CALLS if _public(call)]


@pytest.fixture(scope="module")
def open_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    """The mock on every interface with no admin token: loopback callers only."""
    folder = tmp_path_factory.mktemp("guard-open")
    mock = start_mock(PACT_DIR, folder, FLASK_HOST="0.0.0.0", PACTMOCK_JOURNAL_SIZE="100")
    yield mock
    stop_mock(mock)


@pytest.fixture(scope="module")
def token_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    """The mock on every interface with MOCK_ADMIN_TOKEN: callers anywhere, with the token."""
    folder = tmp_path_factory.mktemp("guard-token")
    mock = start_mock(PACT_DIR, folder, FLASK_HOST="0.0.0.0", MOCK_ADMIN_TOKEN=ADMIN_TOKEN)
    yield mock
    stop_mock(mock)


def _outside(mock: RunningMock) -> str:
    return mock.url.replace("127.0.0.1", outward_address())


def _call(base: str, call: Call, **headers: str) -> requests.Response:
    # A JSON body a call could act on: what is refused must be refused for who calls, not for what is sent.
    body = b'{"action": "freeze"}' if call.method in ("POST", "PUT", "PATCH") else None
    sent = {"Content-Type": "application/json", **headers} if body else headers
    return requests.request(call.method, base + call.path, data=body, headers=sent, timeout=30)


def _problem_type(reply: requests.Response) -> str:
    assert reply.headers.get("Content-Type") == "application/problem+json", (reply.status_code, reply.text[:300])
    if reply.request.method == "HEAD":
        return ""
    return str(reply.json()["type"]).rpartition("/")[2]


def test_the_rules_are_read_from_the_app() -> None:
    """The lists the tests below run over are the app's own, and the exceptions are the ones named here."""
    rules = {rule.rule for rule in RULES}
    assert {"/_mock/reset", "/_mock/state", "/_mock/journal", "/_mock/faults", "/_mock/clock"} <= rules
    assert rules >= PUBLIC_RULES, PUBLIC_RULES - rules
    assert {rule for rule in rules if not rule.startswith("/_mock")} <= OPEN_ALIASES | {"/static/<path:filename>"}
    assert len(GUARDED) > 30, [str(c) for c in GUARDED]


@pytest.mark.parametrize("call", GUARDED, ids=str)
def test_a_caller_on_another_host_without_the_token_is_refused(open_mock: RunningMock, call: Call) -> None:
    refused = _call(_outside(open_mock), call)
    assert refused.status_code == 403, (
        f"{call} answered a non-loopback caller: {refused.status_code} {refused.text[:300]}"
    )
    assert _problem_type(refused) in ("", "control-plane-forbidden")
    if call.method != "HEAD":
        assert "loopback clients only" in refused.json()["detail"]
    # The same call from loopback gets past the guard: the refusal above was for the caller's address.
    allowed = _call(open_mock.url, call)
    assert allowed.status_code not in (401, 403), f"{call} from loopback: {allowed.status_code} {allowed.text[:300]}"


@pytest.mark.parametrize("call", GUARDED, ids=str)
def test_with_an_admin_token_a_wrong_or_missing_one_is_401_and_the_right_one_passes(
    token_mock: RunningMock, call: Call
) -> None:
    outside = _outside(token_mock)
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"X-Mock-Admin-Token": ADMIN_TOKEN[:-1]}):
        refused = _call(outside, call, **headers)
        assert refused.status_code == 401, f"{call} with {headers}: {refused.status_code} {refused.text[:300]}"
        assert _problem_type(refused) in ("", "control-plane-unauthorized")
        assert ADMIN_TOKEN[:-1] not in refused.text
    passed = _call(outside, call, Authorization=f"Bearer {ADMIN_TOKEN}")
    assert passed.status_code not in (401, 403), f"{call} with the token: {passed.status_code} {passed.text[:300]}"


@pytest.mark.parametrize("call", PUBLIC, ids=str)
def test_public_pages_answer_a_caller_on_another_host(
    open_mock: RunningMock, token_mock: RunningMock, call: Call
) -> None:
    for mock in (open_mock, token_mock):
        reply = _call(_outside(mock), call)
        assert reply.status_code not in (401, 403), f"{call}: {reply.status_code} {reply.text[:300]}"
        if call.method == "GET" and call.rule in PUBLIC_RULES:
            assert reply.status_code == 200, f"{call}: {reply.status_code} {reply.text[:300]}"


@pytest.mark.parametrize("path", GUARDED_ALIASES)
def test_the_api_reference_at_the_root_is_guarded_like_the_document_it_embeds(
    open_mock: RunningMock, path: str
) -> None:
    refused = requests.get(_outside(open_mock) + path, timeout=30)
    assert refused.status_code == 403, refused.text[:300]
    assert _problem_type(refused) == "control-plane-forbidden"
    shown = requests.get(open_mock.url + path, timeout=30)
    assert shown.status_code == 200 and "openapi" in shown.text.lower(), shown.text[:300]
