"""Many clients at once against the two generic stateful examples (issue 16, "How it is proven"), each served
by `pactmock serve --workers 2` on SQLite and on PostgreSQL.

- 32 clients claim from one pool at once: each gets its own pod, the pool grows by exactly what was missing,
  and the pool's listing, its status and the database agree afterwards.
- 32 clients move one task at once: each move is applied once or refused with a 409 naming a state the task
  really was in; the moves applied form a valid chain and the task ends where the chain ends.
- 32 clients create tasks at once: 32 distinct ids, all listed.

The contract still judges every request: the Flow pact's demo transition takes any status but "pending" as a
move it answers with the task, and "pending" as one it refuses (409); the state machine decides the rest.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from .conftest import (
    WORKERS,
    RunningMock,
    as_json,
    assert_clean_log,
    query,
    set_up_state,
    start_server,
    stop_mock,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLIENTS = 32
# Races per kind of move mix: a race of 32 clients takes well under a second.
ROUNDS = 8
AUTH = {"Authorization": "Bearer test-concurrency"}
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
# Flow's state machine, as examples/flow/FlowUI-Flow.model.yaml declares it.
FLOW_MOVES = {
    "pending": {"running", "cancelled", "failed"},
    "running": {"preempting", "completed", "failed", "cancelled"},
    "preempting": {"pending", "running", "failed", "cancelled"},
}


@dataclass
class Answer:
    """What one client sent and got."""

    client: int
    asked: str  # the state asked for, or "cancel" for the cancel action
    move: str  # the state asked for ("cancelled" for the cancel action)
    status: int
    content_type: str
    body: Any


def all_at_once(count: int, request: Callable[[requests.Session, int], requests.Response]) -> list[requests.Response]:
    """`count` clients, each with its own session (its own connection), send their request at the same moment."""
    sessions = [requests.Session() for _ in range(count)]
    barrier = threading.Barrier(count)

    def client(index: int) -> requests.Response:
        barrier.wait(timeout=60)
        return request(sessions[index], index)

    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(client, range(count)))
    finally:
        for session in sessions:
            session.close()


def server_errors(responses: list[requests.Response]) -> list[str]:
    return [
        f"{r.request.method} {r.request.url} -> {r.status_code} {r.text[:300]}"
        for r in responses
        if r.status_code >= 500
    ]


# --- Pool Manager: claims ----------------------------------------------------------------------------


def claim_all(mock: RunningMock, pool: str) -> dict[str, dict[str, Any]]:
    """32 clients claim from `pool` at once, client i for workspace w<i>; the pods they got, by workspace."""
    responses = all_at_once(
        CLIENTS,
        lambda session, i: session.get(
            f"{mock.url}/pools/{pool}/workspace", params={"workspaceId": f"w{i}"}, headers=AUTH, timeout=60
        ),
    )
    assert server_errors(responses) == []
    refused = [f"w{i}: {r.status_code} {r.text[:300]}" for i, r in enumerate(responses) if r.status_code != 200]
    assert refused == [], f"{len(refused)} of {CLIENTS} claims were not served:\n" + "\n".join(refused)
    return {f"w{i}": r.json() for i, r in enumerate(responses)}


def assert_claims_hold(mock: RunningMock, database: str, pool: str, claimed: dict[str, dict[str, Any]]) -> None:
    """Every client got a pod of its own, marked with its name; the listing, status and rows all agree."""
    pod_of = {workspace: pod["id"] for workspace, pod in claimed.items()}
    shared = {pod: n for pod, n in Counter(pod_of.values()).items() if n > 1}
    assert shared == {}, f"pods handed to more than one client (pod: clients): {shared}"
    wrong = {
        w: (p["pool"], p["usage"], p["claimedBy"])
        for w, p in claimed.items()
        if (p["pool"], p["usage"], p["claimedBy"]) != (pool, "used", w)
    }
    assert wrong == {}, f"claim answers not (pool, used, own workspace): {wrong}"

    status = requests.get(f"{mock.url}/pools/{pool}/status", headers=AUTH, timeout=30).json()
    totals = {key: status[key] for key in ("total", "available", "used")}
    assert totals == {"total": CLIENTS, "available": 0, "used": CLIENTS}, (
        f"{pool} status after {CLIENTS} claims: {totals}"
    )

    for where, listing in (
        ("status", status["pods"]),
        ("listing", requests.get(f"{mock.url}/pools/{pool}/workspaces", headers=AUTH, timeout=30).json()["workspaces"]),
        (
            "second listing",
            requests.get(f"{mock.url}/pools/{pool}/workspaces", headers=AUTH, timeout=30).json()["workspaces"],
        ),
    ):
        holder = {pod["id"]: pod["claimedBy"] for pod in listing}
        assert holder == {pod: w for w, pod in pod_of.items()}, (
            f"the pool's {where} disagrees with the claims: {holder}"
        )

    rows = query(database, "SELECT id, document FROM items WHERE collection = 'pods'")
    stored = {row.id: as_json(row.document) for row in rows if as_json(row.document).get("pool") == pool}
    assert {pod: doc["claimedBy"] for pod, doc in stored.items()} == {pod: w for w, pod in pod_of.items()}, (
        f"the database's {pool} pods disagree with the claims"
    )


def test_32_clients_claim_from_the_default_pool_each_gets_its_own_pod(serve, database_url: str) -> None:
    mock = serve(database_url, PACT_DIR=str(EXAMPLES / "pool-manager"))
    before = requests.get(f"{mock.url}/pools/default-pool/status", headers=AUTH, timeout=30).json()
    assert (before["total"], before["available"]) == (5, 5), before

    claimed = claim_all(mock, "default-pool")

    assert_claims_hold(mock, database_url, "default-pool", claimed)
    # 5 free pods at the start, 27 made for the clients who found none free: the ids run on without a gap.
    assert {pod["id"] for pod in claimed.values()} == {f"pod-{n}" for n in range(1, CLIENTS + 1)}


def test_32_clients_claim_from_a_pool_never_named_before(serve, database_url: str) -> None:
    mock = serve(database_url, PACT_DIR=str(EXAMPLES / "pool-manager"))

    claimed = claim_all(mock, "burst-pool")

    # Auto-created once with 3 pods, then one more per client who found none free: 32, not 32 + 3 per racer.
    assert_claims_hold(mock, database_url, "burst-pool", claimed)
    default = requests.get(f"{mock.url}/pools/default-pool/status", headers=AUTH, timeout=30).json()
    assert (default["total"], default["available"]) == (5, 5), f"default-pool changed: {default}"


# --- Flow: transitions and creates -------------------------------------------------------------------


def race_moves(mock: RunningMock, task_id: str, moves: list[str]) -> list[Answer]:
    """Client i asks for moves[i]: "cancel" is the cancel action, a state is asked of the demo transition."""

    def move(session: requests.Session, i: int) -> requests.Response:
        if moves[i] == "cancel":
            return session.post(f"{mock.url}/api/v1/tasks/{task_id}/cancel", headers=AUTH, timeout=60)
        return session.post(
            f"{mock.url}/api/v1/demo/transition_task/{task_id}",
            json={"status": moves[i]},
            headers=JSON_AUTH,
            timeout=60,
        )

    responses = all_at_once(len(moves), move)
    return [
        Answer(
            i,
            moves[i],
            "cancelled" if moves[i] == "cancel" else moves[i],
            r.status_code,
            r.headers.get("Content-Type", ""),
            r.json() if r.content else None,
        )
        for i, r in enumerate(responses)
    ]


def valid_chain(start: str, targets: list[str], end: str) -> list[str] | None:
    """An order of all `targets` in which each is a legal move from the one before, from `start` to `end`."""
    if not targets:
        return [start] if start == end else None
    for target in sorted(set(targets)):
        if target in FLOW_MOVES.get(start, set()):
            rest = list(targets)
            rest.remove(target)
            chain = valid_chain(target, rest, end)
            if chain is not None:
                return [start, *chain]
    return None


def assert_never_torn(mock: RunningMock, task_id: str, start: str, answers: list[Answer]) -> list[str]:
    """Each answer is an applied move (200) or a 409 refusal; the applied ones chain from `start`; the task
    ends at the chain's end; every refusal names a state of the chain and a move not legal from it."""
    odd = [a for a in answers if a.status not in (200, 409)]
    assert odd == [], f"answers neither 200 nor 409: {odd}"
    not_problems = [a for a in answers if a.status == 409 and a.content_type != "application/problem+json"]
    assert not_problems == [], f"409s that are not problem+json: {not_problems}"

    applied = [a for a in answers if a.status == 200]
    wrong_answers = [a for a in applied if a.body.get("status") != a.move or a.body.get("id") != task_id]
    assert wrong_answers == [], f"200s whose task is not in the state asked for: {wrong_answers}"
    task = requests.get(f"{mock.url}/api/v1/tasks/{task_id}", headers=AUTH, timeout=30).json()
    # An applied move answers the task: its keys and nothing else (no key of a problem example, say).
    foreign = [(a.move, sorted(a.body.keys() - task.keys())) for a in applied if a.body.keys() != task.keys()]
    assert foreign == [], f"200s whose body is not the task (move, keys the task lacks): {foreign}"
    moves = sorted(a.move for a in applied)
    chain = valid_chain(start, moves, task["status"])
    assert chain is not None, (
        f"{task_id}: the moves applied, {moves}, form no chain of legal moves from {start!r} to where it ended, "
        f"{task['status']!r} (a move applied twice, or on a state it was not legal from)"
    )

    for refusal in (a for a in answers if a.status == 409):
        current = refusal.body.get("current")
        assert current in chain, f"a 409 saw the task {current!r}, never a state of {chain}: {refusal}"
        assert refusal.move not in FLOW_MOVES.get(current, set()), f"a legal move was refused: {refusal}"
    return chain


def create_task(mock: RunningMock, name: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "node_count": 1, "labels": {"team": "race"}}
    reply = requests.post(f"{mock.url}/api/v1/tasks", json=body, headers=JSON_AUTH, timeout=30)
    assert reply.status_code == 201, reply.text
    return reply.json()


def half_and_half(first: str, second: str) -> list[str]:
    return [first if i % 2 == 0 else second for i in range(CLIENTS)]


def test_32_clients_move_one_task_each_move_applied_once_or_refused(serve, database_url: str) -> None:
    mock = serve(database_url, PACT_DIR=str(EXAMPLES / "flow"))
    chains: list[list[str]] = []

    # A new task is pending: running and cancelled are both legal from it, and cancelled from running too.
    for round_number in range(ROUNDS):
        task = create_task(mock, f"race-{round_number}")
        assert task["status"] == "pending", task
        moves = half_and_half("running", "cancelled")
        chain = assert_never_torn(mock, task["id"], "pending", race_moves(mock, task["id"], moves))
        assert chain in (["pending", "cancelled"], ["pending", "running", "cancelled"]), chain
        chains.append(chain)

    # More ways at once, the cancel action among them: running <-> preempting may go round more than once.
    for round_number in range(ROUNDS):
        task = create_task(mock, f"mixed-{round_number}")
        moves = [("running", "preempting", "cancel", "completed")[i % 4] for i in range(CLIENTS)]
        chains.append(assert_never_torn(mock, task["id"], "pending", race_moves(mock, task["id"], moves)))

    # The pact's running task: completed, failed or cancelled wins, once; "pending" is never legal from running.
    set_up_state(mock, "a task task_000001 exists in state running")
    moves = [("completed", "pending", "cancel", "failed")[i % 4] for i in range(CLIENTS)]
    chain = assert_never_torn(mock, "task_000001", "running", race_moves(mock, "task_000001", moves))
    assert chain[:1] == ["running"] and len(chain) == 2 and chain[1] != "pending", chain
    chains.append(chain)
    print("applied chains:", chains)


def test_32_clients_move_a_preempting_task_along_a_chain_of_two(tmp_path: Path, database_url: str) -> None:
    """preempting -> pending -> cancelled, or preempting -> cancelled: two moves may both be applied, in order."""
    # Started and checked here rather than by the serve fixture: a broken log must fail the test, not its teardown.
    mock = start_server(
        tmp_path, ("--workers", str(WORKERS)), DATABASE_URL=database_url, PACT_DIR=str(EXAMPLES / "flow")
    )
    try:
        race_a_preempting_task(mock)
    finally:
        stop_mock(mock)
    assert_clean_log(mock)


def race_a_preempting_task(mock: RunningMock) -> None:
    chains: list[list[str]] = []

    # A preempting task (scenario "paused") may go to pending and then be cancelled, or be cancelled at once.
    reply = requests.post(f"{mock.url}/api/v1/demo/create_all_scenarios", headers=AUTH, timeout=30)
    assert reply.status_code == 200, reply.text
    # Only one move is legal here, whichever client comes first: preempting -> pending.
    moves = half_and_half("pending", "completed")
    chain = assert_never_torn(mock, "task_s18", "preempting", race_moves(mock, "task_s18", moves))
    assert chain == ["preempting", "pending"], chain
    chains.append(chain)
    for task_id in ("task_s19", "task_s20"):
        moves = [("pending", "cancel", "completed")[i % 3] for i in range(CLIENTS)]
        chain = assert_never_torn(mock, task_id, "preempting", race_moves(mock, task_id, moves))
        assert chain in (["preempting", "cancelled"], ["preempting", "pending", "cancelled"]), chain
        chains.append(chain)
    print("applied chains:", chains)


def test_32_clients_create_tasks_at_once_each_gets_its_own_id(serve, database_url: str) -> None:
    mock = serve(database_url, PACT_DIR=str(EXAMPLES / "flow"))

    responses = all_at_once(
        CLIENTS,
        lambda session, i: session.post(
            f"{mock.url}/api/v1/tasks",
            json={"name": f"burst-{i}", "node_count": i, "labels": {"team": f"t{i}"}},
            headers=JSON_AUTH,
            timeout=60,
        ),
    )

    assert server_errors(responses) == []
    assert [r.status_code for r in responses] == [201] * CLIENTS, [
        r.text[:200] for r in responses if r.status_code != 201
    ]
    created = {r.json()["id"]: r.json() for r in responses}
    assert len(created) == CLIENTS, f"ids handed out twice: {Counter(r.json()['id'] for r in responses)}"
    assert set(created) == {f"task_{n:06d}" for n in range(1, CLIENTS + 1)}, sorted(created)
    mixed = [
        r.json() for i, r in enumerate(responses) if (r.json()["name"], r.json()["node_count"]) != (f"burst-{i}", i)
    ]
    assert mixed == [], f"answers holding another client's task: {mixed[:3]}"

    listing = requests.get(f"{mock.url}/api/v1/tasks", headers=AUTH, timeout=30).json()
    assert listing["total"] == CLIENTS, listing["total"]
    assert {task["id"]: task for task in listing["tasks"]} == created
