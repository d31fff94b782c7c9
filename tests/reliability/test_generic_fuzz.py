"""The bad-input fuzzer on the two generic stateful examples (issue 16): requests near each interaction of
examples/flow and examples/pool-manager, against `pactmock serve` of that example, on SQLite and PostgreSQL.

A request starts from an interaction's example and gets what a client of a stateful API gets wrong: another
id (one that exists, one that does not, one that cannot), another status or pool size in the body, another
filter or workspace value in the query, a missing or wrong bearer key; then, often, one or two of the
reliability fuzzer's own mutations (fuzz_requests.py) of its body, headers, query, path or method. Some
requests stay valid, so tasks are created and moved, pods claimed and released, pools made, all the while.

Every answer must be under 500 and every 4xx a problem naming what is wrong (test_fuzz.problem_with); the
server's log stays clean; afterwards the stored items are whole: every task in a state of its machine and
counted right, every pod free or used and the pool's totals adding up.

FUZZ_SEED=<n> draws a different sequence; CI runs the fixed one. About 30 s per example and backend.
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from .conftest import WORKERS, RunningMock, as_json, query, start_server, stop_mock
from .fuzz_requests import JSON_MUTATIONS, OTHER_MUTATIONS, Draft, Draw, Exemplar, load_exemplars
from .raw_http import RawConnection, RawReply, WireRequest
from .test_fuzz import EXCEPTION_LINE, problem_with

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REQUESTS_PER_RUN = 2_000
BATCH = 50
FLOW_STATES = ["pending", "running", "preempting", "completed", "failed", "cancelled"]


@dataclass(frozen=True)
class Example:
    """One example directory and what a client of it might send instead of the pact's values."""

    directory: str
    states: tuple[str, ...]  # provider states set up again before each batch, in this order
    ids: tuple[str, ...]  # item ids: existing ones, absent ones, impossible ones
    names: tuple[str, ...]  # pool names: the default, new ones, impossible ones
    body_values: dict[str, tuple[Any, ...]]  # per body field
    query_values: dict[str, tuple[str, ...]]  # per query parameter


FLOW = Example(
    directory="flow",
    states=("a task task_000001 exists in state running",),
    ids=(
        *(f"task_{n:06d}" for n in (1, 2, 3, 5, 8, 13, 40)),
        *(f"task_s{n:02d}" for n in (1, 5, 11, 18, 19, 23, 24)),
        "task_999999",
        "task_0",
        "task_",
        "task_%2F1",
        "task_%C3%A9",
        "task_" + "9" * 300,
        "TASK_000001",
    ),
    names=(),
    body_values={"status": (*FLOW_STATES, "PENDING", "", "unknown", 1, None, ["pending"], {"status": "pending"})},
    query_values={"status": (*FLOW_STATES, "", "x" * 300, "pending,running", "%00", "%C3%A9")},
)
POOL_MANAGER = Example(
    directory="pool-manager",
    states=("the default pool has free pods", "pod pod-1 is used"),
    ids=(*(f"pod-{n}" for n in (1, 2, 3, 5, 6, 9, 30)), "pod-0", "pod-99999", "pod-", "pod-%2F", "pod-" + "9" * 300),
    names=("default-pool", "team-pool", "fresh-1", "fresh-2", "F", "a" * 150, "-bad", "bad%20pool", "%C3%A9t%C3%A9"),
    body_values={
        "size": (0, 1, 3, 50, 10_001, -1, 2**63, 2.5, "3", True, None),
        "name": ("default-pool", "team-pool", "fresh-3", "", "-bad", "a" * 300, 7, None),
        "repositories": ([], ["x"], ["https://github.com/example/app.git"] * 20, [1, None], "x", None),
    },
    query_values={
        "workspaceId": ("ws-1", "ws-2", "w" * 300, "", "%20", "%C3%A9", "a%00b"),
        "usage": ("free", "used", ""),
    },
)
EXAMPLE_SETS = {"flow": FLOW, "pool-manager": POOL_MANAGER}


# --- mutations near the interactions ------------------------------------------------------------


def other_id(draw: Draw, draft: Draft, example: Example) -> None:
    """An id-like segment (task_..., pod-...) or a pool name in the path, swapped for another."""
    segments = draft.path.split(b"/")
    spots = [i for i, s in enumerate(segments) if s.startswith((b"task_", b"pod-"))]
    names = [i for i, s in enumerate(segments) if i == 2 and segments[1] == b"pools" and len(segments) > 3]
    choices = [(i, example.ids) for i in spots] + [(i, example.names) for i in names]
    if not choices:
        return
    index, values = draw(st.sampled_from(choices))
    segments[index] = draw(st.sampled_from(values)).encode()
    draft.path = b"/".join(segments)
    draft.mutations.append(f"id {segments[index][:40]!r}")


def other_body_value(draw: Draw, draft: Draft, example: Example) -> None:
    if not isinstance(draft.document, dict):
        return
    fields = [name for name in example.body_values if name in draft.document]
    if not fields:
        return
    name = draw(st.sampled_from(fields))
    # A copy: later mutations change the document in place, and must not change the value list.
    draft.document[name] = copy.deepcopy(draw(st.sampled_from(example.body_values[name])))
    draft.mutations.append(f"body {name}={json.dumps(draft.document[name])[:40]}")


def other_query_value(draw: Draw, draft: Draft, example: Example) -> None:
    name = draw(st.sampled_from(sorted(example.query_values)))
    value = draw(st.sampled_from(example.query_values[name])).encode()
    kept = [(n, v) for n, v in draft.query if n != name.encode()]
    # Sometimes beside the pact's query, sometimes on a request whose pact has none (a filter on a list).
    draft.query = kept + [(name.encode(), value)] if draw(st.booleans()) else [(name.encode(), value)]
    draft.mutations.append(f"query {name}={value[:40]!r}")


AUTHORIZATIONS = [
    None,
    b"Bearer prod-key",
    b"Bearer test-",
    b"bearer test-lower",
    b"Bearer  test-two-spaces",
    b"Basic dGVzdDp0ZXN0",
    b"Bearer test-" + b"k" * 9_000,
    b"Bearer test-\xc3\xa9",
    b"test-no-scheme",
]


def other_auth(draw: Draw, draft: Draft, example: Example) -> None:
    value = draw(st.sampled_from(AUTHORIZATIONS))
    draft.headers = [(n, v) for n, v in draft.headers if n.lower() != b"authorization"]
    if value is not None:
        draft.headers.append((b"Authorization", value))
    draft.mutations.append(f"Authorization {value[:30] if value else None!r}")


NEAR_MUTATIONS: list[Callable[[Draw, Draft, Example], None]] = [
    other_id,
    other_id,
    other_body_value,
    other_query_value,
    other_auth,
]


@st.composite
def near_requests(draw: Draw, exemplars: list[Exemplar], example: Example) -> WireRequest:
    """An interaction's request with 0 to 2 mutations a stateful client makes, then 0 to 2 of the fuzzer's own."""
    draft = Draft.of(draw(st.sampled_from(exemplars)))
    for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
        draw(st.sampled_from(NEAR_MUTATIONS))(draw, draft, example)
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2]))):
        draw(st.sampled_from(JSON_MUTATIONS + OTHER_MUTATIONS))(draw, draft)
    return draft.build()


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    acknowledged: Counter[str] = field(default_factory=Counter)  # 2xx per method and pact path
    unanswered: int = 0
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + self.unanswered

    def record(self, request: WireRequest, reply: RawReply | None) -> None:
        problem = problem_with(reply, request)
        if problem is not None:
            # One reproducer per kind of failure and mutation, so a bug shows once, not a thousand times.
            self.failures.setdefault(f"{problem} after {request.mutations}", request.describe())
        if reply is None:
            self.unanswered += 1
            return
        self.statuses[reply.status] += 1
        if 200 <= reply.status < 300:
            self.acknowledged[request.method.decode("latin-1")] += 1


def set_up_states(url: str, example: Example) -> None:
    """Tear the provider states down and set them up again, as the Pact verifier does between interactions."""
    for action, states in (("teardown", reversed(example.states)), ("setup", example.states)):
        for state in states:
            reply = requests.post(url + "/_mock/provider-states", json={"state": state, "action": action}, timeout=30)
            assert reply.status_code == 200, reply.text


def fuzz(url: str, exemplars: list[Exemplar], example: Example, tally: Tally) -> None:
    connection = RawConnection(url)
    fixed_seed = os.environ.get("FUZZ_SEED")

    @settings(
        max_examples=REQUESTS_PER_RUN // BATCH,
        deadline=None,
        derandomize=fixed_seed is None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(near_requests(exemplars, example), min_size=BATCH, max_size=BATCH))
    def send_batch(batch: list[WireRequest]) -> None:
        set_up_states(url, example)
        for request in batch:
            tally.record(request, connection.send(request))

    if fixed_seed is not None:
        send_batch = seed(int(fixed_seed))(send_batch)
    try:
        send_batch()
    finally:
        connection.close()


def stored(database: str, collection: str) -> list[dict[str, Any]]:
    rows = query(database, f"SELECT document FROM items WHERE collection = '{collection}'")
    return [as_json(row.document) for row in rows]


def flow_problems(mock: RunningMock, database: str) -> list[str]:
    auth = {"Authorization": "Bearer test-fuzz"}
    listing = requests.get(mock.url + "/api/v1/tasks", headers=auth, timeout=30).json()
    problems = [
        f"task {t['id']} is {t.get('status')!r}" for t in listing["tasks"] if t.get("status") not in FLOW_STATES
    ]
    if listing["total"] != len(listing["tasks"]):
        problems.append(f"total {listing['total']} beside {len(listing['tasks'])} tasks")
    ids = [task["id"] for task in stored(database, "tasks")]
    if sorted(ids) != sorted(task["id"] for task in listing["tasks"]):
        problems.append(f"the listing holds {len(listing['tasks'])} tasks, the database {len(ids)}")
    return problems


def pool_problems(mock: RunningMock, database: str) -> list[str]:
    auth = {"Authorization": "Bearer test-fuzz"}
    pods = stored(database, "pods")
    problems = [
        f"pod {p.get('id')} has usage {p.get('usage')!r}" for p in pods if p.get("usage") not in ("free", "used")
    ]
    for pool in sorted({str(p.get("pool")) for p in pods})[:20]:
        status = requests.get(f"{mock.url}/pools/{pool}/status", headers=auth, timeout=30)
        if status.status_code != 200:
            continue  # a pool name the contract's path rule refuses: made by no valid request, so none to check
        totals = status.json()
        members = [p for p in pods if p.get("pool") == pool]
        if (totals["total"], totals["available"] + totals["used"]) != (len(members), len(members)):
            problems.append(
                f"pool {pool}: {totals['total']} total, {totals['available']} + {totals['used']}, {len(members)} stored"
            )
    return problems


MARKS = ("[ERROR]", "[CRITICAL]", " ERROR ", " CRITICAL ", "Traceback", "breaks the contract")


def log_errors(mock: RunningMock) -> list[str]:
    """The log's error lines, as conftest.assert_clean_log finds them."""
    return [
        line for line in mock.log().splitlines() if any(mark in line for mark in MARKS) or EXCEPTION_LINE.match(line)
    ]


@pytest.mark.parametrize("name", sorted(EXAMPLE_SETS))
def test_requests_near_the_examples_get_a_problem_never_a_server_error(
    tmp_path: Path, database_url: str, name: str
) -> None:
    example = EXAMPLE_SETS[name]
    mock = start_server(
        tmp_path, ("--workers", str(WORKERS)), DATABASE_URL=database_url, PACT_DIR=str(EXAMPLES / example.directory)
    )
    tally = Tally()
    try:
        fuzz(mock.url, load_exemplars(EXAMPLES / example.directory), example, tally)
        assert requests.get(mock.url + "/health", timeout=30).status_code == 200
        check = flow_problems if name == "flow" else pool_problems
        state_problems = check(mock, database_url)
    finally:
        stop_mock(mock)

    summary = (
        f"{name}: {tally.sent} requests, statuses {dict(sorted(tally.statuses.items()))}, "
        f"unanswered {tally.unanswered}, acknowledged {dict(tally.acknowledged)}"
    )
    print(summary)
    errors = log_errors(mock)
    failures = [f"{what}\n{request}" for what, request in tally.failures.items()]
    assert failures == [], (
        f"{summary}\n{len(failures)} kind(s) of failure:\n\n"
        + "\n\n".join(failures[:15])
        + ("\n--- errors in the mock log ---\n" + "\n".join(errors[:30]))
    )
    assert errors == [], "\n".join(errors[:20])
    assert tally.sent >= REQUESTS_PER_RUN, summary
    # Valid requests are drawn too: state was written, so the checks below look at something.
    assert tally.acknowledged["POST"] > 0, summary
    assert state_problems == []
