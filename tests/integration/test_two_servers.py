"""Two pactmock servers on one PostgreSQL behind a client that alternates between them (issue 18, item 8):
what one is told through the control plane, the other obeys on its next request, and ids stay gap-free."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import requests

from tests.support.epx import EPX_HEADERS, run_request
from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
SLOW_RUNS = {f"PACTMOCK_RUN_{step}_SECONDS": "600" for step in ("NOT_STARTED", "QUEUED", "RUNNING")}


def test_two_servers_agree_on_clock_scenarios_and_ids(
    run_mock: Callable[..., RunningMock], postgres_url_for_comparison: str, tmp_path: Path
) -> None:
    folder = tmp_path / "pacts"
    shutil.copytree(ROOT / "pacts", folder)
    one = run_mock(folder, DATABASE_URL=postgres_url_for_comparison, **SLOW_RUNS)
    two = run_mock(folder, DATABASE_URL=postgres_url_for_comparison, **SLOW_RUNS)
    servers = [one, two]

    # Ids: jobs registered alternately through both servers are one gap-free sequence.
    ids = [
        requests.post(servers[n % 2].url + "/jobs/register", json={"tags": []}, headers=EPX_HEADERS, timeout=10).json()[
            "id"
        ]
        for n in range(10)
    ]
    assert ids == list(range(123, 133))

    # The clock: frozen and advanced through one, obeyed by the other at once.
    requests.post(one.url + "/_mock/clock", json={"action": "freeze", "at": "2030-01-01T00:00:00Z"}, timeout=10)
    runs = requests.post(
        two.url + "/runs", json={"runRequests": [run_request(ids[0])]}, headers=EPX_HEADERS, timeout=10
    )
    assert runs.status_code == 200, runs.text

    def status(server: RunningMock) -> str:
        [run] = requests.get(f"{server.url}/runs?job_id={ids[0]}", headers=EPX_HEADERS, timeout=10).json()["runs"]
        return str(run["status"])

    assert (status(one), status(two)) == ("NOT_STARTED", "NOT_STARTED")
    requests.post(one.url + "/_mock/clock", json={"action": "advance", "seconds": 601}, timeout=10)
    assert status(two) == "QUEUED"
    requests.post(two.url + "/_mock/clock", json={"action": "advance", "seconds": 1202}, timeout=10)
    assert status(one) == "DONE"

    # A scenario switched on through one: the other answers from it on its next request.
    assert requests.get(two.url + "/runs?job_id=9000", headers=EPX_HEADERS, timeout=10).status_code == 404
    on = requests.post(one.url + "/_mock/scenarios", json={"activate": [{"state": "job 9000 exists"}]}, timeout=10)
    assert on.status_code == 200, on.text
    assert requests.get(two.url + "/runs?job_id=9000", headers=EPX_HEADERS, timeout=10).status_code == 200


def test_each_server_keeps_its_journal_and_either_gives_the_merged_one(
    run_mock: Callable[..., RunningMock], postgres_url_for_comparison: str, tmp_path: Path
) -> None:
    folder = tmp_path / "pacts"
    shutil.copytree(ROOT / "pacts", folder)
    one = run_mock(folder, DATABASE_URL=postgres_url_for_comparison)
    two = run_mock(folder, DATABASE_URL=postgres_url_for_comparison)
    for n, server in enumerate([one, two, one, two, two]):
        reply = requests.post(
            server.url + "/jobs/register", json={"tags": [f"via-{n}"]}, headers=EPX_HEADERS, timeout=10
        )
        assert reply.status_code == 200, reply.text
    # A reset between tests must not make the servers forget each other.
    assert requests.post(one.url + "/_mock/reset", timeout=10).status_code == 200

    own = requests.get(one.url + "/_mock/journal", timeout=10).json()
    assert own["scope"] == "server" and "merged=1" in own["note"]
    assert own["server"] == one.url
    assert own["servers"] == sorted([one.url, two.url])
    assert [r["body"] for r in own["requests"]] == ['{"tags": ["via-2"]}', '{"tags": ["via-0"]}']

    for asked in (one, two):
        merged = requests.get(asked.url + "/_mock/journal", params={"merged": 1}, timeout=10).json()
        assert merged["scope"] == "merged"
        assert {s["url"]: (s["status"], s["total"]) for s in merged["servers"]} == {
            one.url: ("ok", 2),
            two.url: ("ok", 3),
        }
        assert merged["total"] == 5
        # Newest first across both servers, each record naming the server that answered it.
        assert [(r["body"], r["server"]) for r in merged["requests"]] == [
            (f'{{"tags": ["via-{n}"]}}', server.url)
            for n, server in reversed(list(enumerate([one, two, one, two, two])))
        ]
    filtered = requests.get(one.url + "/_mock/journal", params={"merged": 1, "limit": 2}, timeout=10).json()
    assert filtered["returned"] == 2 and filtered["total"] == 5

    # The servers' bookkeeping is not state: an export leaves it out.
    exported = requests.get(one.url + "/_mock/state", timeout=10).json()
    assert [row["name"] for row in exported["tables"]["mock_settings"]] == []
