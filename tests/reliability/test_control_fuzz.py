"""The control-plane fuzzer: every /_mock/ call of the real app's URL map, sent broken, against the real server on
SQLite and on PostgreSQL. Every answer must be under 500 and every 4xx a problem (test_fuzz.problem_with); the
server's log stays clean (no traceback, no ERROR line).

A request starts from one method of one rule (the rule list comes from the app itself, control_rules.py, so a new
call is fuzzed with no change here), with a body that call takes when there is one (an export the server just made
for PUT /_mock/state, a fault rule, a clock change...). Then it is broken: the body replaced by JSON of a random
shape, by the call's own keys holding values of the wrong type, huge or odd numbers, or by malformed JSON; random
query parameters, the call's own filters with odd values; another method; and the reliability fuzzer's own
mutations of body bytes, headers, path and framing (fuzz_requests.py).

The dashboard's pages (/_mock/ui/) are pages for a browser: a 4xx there may be an HTML page (it is counted, not
failed), but never a 5xx.

The pacts served are the Epistemix ones with the flow and Teraslice examples beside them, so the generic
providers' calls (reset and export of one provider, a generated collection's volume, fixtures) are reached too.

FUZZ_SEED=<n> draws a different sequence (for shaking out bugs by hand); CI runs the fixed one.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from .conftest import EPX_HEADERS, RunningMock
from .control_rules import PACT_DIR, Call, app_rules, control_calls
from .fuzz_requests import (
    JSON_MUTATIONS,
    ODD_INTEGERS,
    ODD_NUMBERS,
    ODD_QUERY_VALUES,
    OTHER_MUTATIONS,
    Draft,
    Draw,
    Exemplar,
    Raw,
    json_values,
)
from .raw_http import RawConnection, WireRequest
from .test_fuzz import EXCEPTION_LINE, problem_with

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REQUESTS_PER_BACKEND = 2_000
BATCH = 50
# Path variables that name something real in the served pacts, so the calls behind them are reached.
REAL_VALUES = {"provider": "Teraslice", "collection": "jobs", "key": "job_input"}
# The bodies the calls take (by rule and method), which the fuzzer starts from and breaks.
BODIES: dict[tuple[str, str], Any] = {
    ("/_mock/provider-states", "POST"): {"state": "job 123 exists", "params": {"jobId": 123}, "action": "setup"},
    ("/_mock/reset", "POST"): {"provider": "Epistemix"},
    ("/_mock/clock", "POST"): {"action": "advance", "seconds": 60, "at": "2030-01-01T00:00:00Z"},
    ("/_mock/faults", "PUT"): {
        "seed": 7,
        "rules": [{"match": {"route": "GET /runs"}, "delay": {"fixed": 1}, "probability": 0.5}],
    },
    ("/_mock/faults", "POST"): {"match": {"route": "POST /nowhere"}, "error": {"status": 503}},
    ("/_mock/scenarios", "POST"): {
        "activate": [{"state": "job 123 exists", "params": {}}, {"provider": "Flow", "fixture": "all_scenarios"}],
        "deactivate": [{"state": "job 9000 exists"}],
    },
    ("/_mock/journal/verify", "POST"): {"method": "POST", "path": "/runs", "times": 1, "body": {}, "query": "a=1"},
    ("/_mock/near-miss", "POST"): {"method": "GET", "path": "/runs", "query": {"job_id": "123"}, "headers": {}},
    ("/_mock/resources/<provider>/<collection>", "PUT"): {"count": 250},
}
# The query parameters the calls read, given odd values as often as random ones are added.
QUERY_NAMES = [b"provider", b"method", b"path", b"status", b"interaction", b"since", b"limit", b"merged", b"token"]
HUGE_NUMBERS = [Raw(n) for n in ODD_NUMBERS] + [Raw(b"1" + b"0" * 400), Raw(b"-1e-999"), *ODD_INTEGERS]


def fuzz_pacts(folder: Path) -> Path:
    """The Epistemix pacts with the flow and Teraslice examples (pact, model file, hooks) beside them."""
    shutil.copytree(PACT_DIR, folder)
    for example in ("flow", "teraslice"):
        for path in (EXAMPLES / example).iterdir():
            if path.suffix in (".json", ".yaml", ".py"):
                shutil.copy(path, folder / path.name)
    return folder


def exemplars(calls: list[Call], export: Any) -> list[Exemplar]:
    """One exemplar per call: its method and path, and the body it takes (the export for PUT /_mock/state)."""
    made = []
    for call in calls:
        body = export if (call.rule, call.method) == ("/_mock/state", "PUT") else BODIES.get((call.rule, call.method))
        headers = (("Content-Type", "application/json"),) if body is not None else ()
        made.append(Exemplar(str(call), (), call.method, call.path, (), headers, b"", body))
    return made


def _wrong_types(draw: Draw, document: Any) -> Any:
    """The document's own keys (at every depth), each value maybe swapped for one of another type or size."""
    if isinstance(document, dict):
        return {key: _wrong_types(draw, value) for key, value in document.items()}
    if isinstance(document, list):
        return [_wrong_types(draw, value) for value in document]
    if draw(st.integers(0, 3)) == 0:
        return draw(json_values | st.sampled_from(HUGE_NUMBERS))
    return document


@st.composite
def control_requests(draw: Draw, exemplars: list[Exemplar]) -> WireRequest:
    """One call, its body reshaped or broken, with odd query parameters and the reliability fuzzer's mutations."""
    exemplar = draw(st.sampled_from(exemplars))
    draft = Draft.of(exemplar)
    body = draw(st.sampled_from(["as is", "random shape", "wrong types", "malformed", "huge number", "as is"]))
    if body == "random shape":
        draft.document = draw(json_values | st.dictionaries(st.text(max_size=8), json_values, max_size=5))
    elif body == "wrong types" and draft.document is not None:
        draft.document = _wrong_types(draw, draft.document)
    elif body == "malformed":
        draft.body = draw(
            st.sampled_from([b"{", b'{"a": }', b"[1, 2", b"{'single': 1}", b'{"a": 1,}', b"\xff\xfe{}", b"nul"])
            | st.binary(max_size=64)
        )
    elif body == "huge number":
        if isinstance(draft.document, dict) and draft.document:
            draft.document[draw(st.sampled_from(sorted(draft.document)))] = draw(st.sampled_from(HUGE_NUMBERS))
        else:
            draft.document = draw(st.sampled_from(HUGE_NUMBERS))
    if body != "as is":
        draft.mutations.append(f"body {body}")
        if not any(name.lower() == b"content-type" for name, _ in draft.headers):
            draft.headers.append((b"Content-Type", b"application/json"))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        name = draw(st.sampled_from(QUERY_NAMES) | st.binary(min_size=1, max_size=8).map(lambda b: b.hex().encode()))
        draft.query.append((name, draw(st.sampled_from(ODD_QUERY_VALUES) | st.sampled_from([b"Flow", b"1", b"4xx"]))))
        draft.mutations.append(f"query {name[:20]!r}")
    mutations = JSON_MUTATIONS if draft.document is not None else []
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        mutate = draw(st.sampled_from(mutations + OTHER_MUTATIONS))
        mutate(draw, draft)
    return draft.build()


def _dashboard_page(request: WireRequest) -> bool:
    """A request for the dashboard (/_mock/ui/, not its assets): a browser's page, whose 4xx is an HTML page."""
    path = request.target.split(b"?")[0]
    return path.startswith(b"/_mock/ui") and not path.startswith(b"/_mock/ui/assets/")


@pytest.fixture
def fuzzed_mock(serve: Any, database_url: str, tmp_path: Path) -> Iterator[RunningMock]:
    """The server on the fuzz pacts, with a job, a run and an upload stored, so an export has rows of each."""
    mock: RunningMock = serve(database_url, "--pact-dir", str(fuzz_pacts(tmp_path / "pacts")))
    registered = requests.post(mock.url + "/jobs/register", json={"tags": ["fuzz"]}, headers=EPX_HEADERS, timeout=30)
    assert registered.status_code == 200, registered.text
    yield mock


def test_every_control_call_answers_bad_input_with_a_problem_never_a_server_error(
    fuzzed_mock: RunningMock, tmp_path: Path
) -> None:
    url = fuzzed_mock.url
    calls = control_calls(app_rules(tmp_path / "pacts"), REAL_VALUES)
    export = requests.get(url + "/_mock/state", timeout=30).json()
    assert export["tables"]["jobs"], export  # the import's exemplar holds rows to break
    statuses: Counter[int] = Counter()
    per_call: Counter[str] = Counter()
    failures: dict[str, str] = {}
    html_refusals: Counter[int] = Counter()
    connection = RawConnection(url)
    fixed_seed = os.environ.get("FUZZ_SEED")

    @settings(
        max_examples=REQUESTS_PER_BACKEND // BATCH,
        deadline=None,
        derandomize=fixed_seed is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(control_requests(exemplars(calls, export)), min_size=BATCH, max_size=BATCH))
    def send_batch(batch: list[WireRequest]) -> None:
        for request in batch:
            reply = connection.send(request)
            per_call[request.target.split(b"?")[0].decode("latin-1")[:80]] += 1
            if reply is not None:
                statuses[reply.status] += 1
            problem = problem_with(reply, request)
            if problem is not None and reply is not None and reply.status < 500 and _dashboard_page(request):
                html_refusals[reply.status] += 1  # a page for a browser answers in HTML
                continue
            if problem is not None:
                failures.setdefault(f"{problem} after {request.mutations}", request.describe())

    if fixed_seed is not None:
        send_batch = seed(int(fixed_seed))(send_batch)
    try:
        send_batch()
    finally:
        connection.close()

    summary = (
        f"{sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}, "
        f"dashboard pages' HTML refusals {dict(html_refusals)}"
    )
    print(summary)
    errors = [line for line in fuzzed_mock.log().splitlines() if " ERROR " in line or EXCEPTION_LINE.match(line)]
    listed = [f"{what}\n{request}" for what, request in failures.items()]
    assert listed == [], f"{summary}\n" + "\n\n".join(listed[:15]) + "\n--- mock log ---\n" + "\n".join(errors[:30])
    assert sum(statuses.values()) >= REQUESTS_PER_BACKEND * 0.95, summary
    # Every call was reached, and some of them were accepted: the fuzz went past the first check.
    unreached = {call.path for call in calls} - set(per_call)
    assert not unreached, unreached
    assert statuses[200] > 0 and sum(n for s, n in statuses.items() if 400 <= s < 500) > 0, summary
    assert requests.get(url + "/_mock/health", timeout=30).status_code == 200
