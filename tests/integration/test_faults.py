"""Fault injection (issue 18 item 6) against the real server (`pactmock serve`, two workers), on SQLite and
PostgreSQL: each kind of fault seen over HTTP, faults only where a rule says and at its rate, a write under an
after-fault stored and under a before-fault not (the journal says which), bad rules refused, the rules of a file
given at start, and the same rules obeyed by two servers on one database.
"""

from __future__ import annotations

import http.client
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.integration.test_journal import ORDER, write_pacts
from tests.support.epx import EPX_HEADERS
from tests.support.mock_process import RunningMock, start_mock, stop_mock

STOCK = "/stock/1"  # a stub: {"id": 1, "count": 5}
CANCEL = "/stock/orders"  # DELETE: a stub, 204
REGISTER = "a request to register an info job"
# The two-sided binomial interval's z at 99.9%.
Z_999 = 3.2905


def put_faults(url: str, rule_set: Any) -> dict[str, Any]:
    reply = requests.put(url + "/_mock/faults", json=rule_set, timeout=10)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def journal(url: str, **filters: Any) -> list[dict[str, Any]]:
    return list(requests.get(url + "/_mock/journal", params={"limit": 1000, **filters}, timeout=10).json()["requests"])


def jobs_stored(url: str) -> int:
    return len(requests.get(url + "/_mock/state", timeout=10).json()["tables"]["jobs"])


@pytest.fixture
def mock(tmp_path: Path, database_url: str) -> Any:
    started = start_mock(write_pacts(tmp_path / "pacts"), tmp_path, DATABASE_URL=database_url)
    yield started
    stop_mock(started)


def test_each_kind_of_fault_is_seen_over_http(mock: RunningMock) -> None:
    url = mock.url
    assert requests.get(url + "/_mock/faults", timeout=10).json()["rules"] == []  # off by default
    assert requests.get(url + STOCK, timeout=10).json() == {"id": 1, "count": 5}

    put_faults(url, {"seed": 1, "rules": [{"match": {"route": f"GET {STOCK}"}, "error": {"status": 503}}]})
    reply = requests.get(url + STOCK, timeout=10)
    assert reply.status_code == 503 and reply.headers["Content-Type"] == "application/problem+json"
    problem = reply.json()
    assert problem["type"].endswith("/injected-fault") and problem["rule"] == 1 and problem["applied"] is True
    assert requests.delete(url + CANCEL, timeout=10).status_code == 204  # another route: untouched

    put_faults(url, [{"match": {"route": "GET /stock/*"}, "reset": {}}])
    with pytest.raises(requests.ConnectionError):
        requests.get(url + STOCK, timeout=10)
    assert requests.delete(url + CANCEL, timeout=10).status_code == 204

    put_faults(url, [{"match": {"interaction": "a stock count"}, "body": {"kind": "empty"}}])
    reply = requests.get(url + STOCK, timeout=10)
    assert (reply.status_code, reply.content) == (200, b"")

    put_faults(url, [{"match": {"provider": "Stock"}, "body": {"kind": "malformed"}}])
    reply = requests.get(url + STOCK, timeout=10)
    assert reply.status_code == 200 and reply.content.startswith(b'{"count"'[:2])
    with pytest.raises(ValueError):
        reply.json()

    put_faults(url, [{"match": {"route": f"GET {STOCK}"}, "body": {"kind": "truncated"}}])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url + STOCK, timeout=10).content  # noqa: B018 - the body ends before its Content-Length

    put_faults(url, [{"match": {"route": f"GET {STOCK}"}, "dribble": {"bytes_per_second": 20}}])
    started = time.monotonic()
    reply = requests.get(url + STOCK, timeout=10)
    assert reply.json() == {"id": 1, "count": 5}
    assert time.monotonic() - started >= 0.8  # 21 bytes at 20 bytes a second

    put_faults(url, [{"match": {"route": f"GET {STOCK}"}, "delay": {"fixed": 400}}])
    started = time.monotonic()
    assert requests.get(url + STOCK, timeout=10).status_code == 200
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    requests.delete(url + CANCEL, timeout=10)
    assert time.monotonic() - started < 0.4

    records = journal(url, path=STOCK)
    kinds = [sorted(set(r["fault"]) - {"rules", "applied", "answeredStatus"}) for r in records if "fault" in r]
    assert kinds == [["delayMs"], ["dribble"], ["body"], ["body"], ["body"], ["reset"], ["error"]]
    reset_record = next(r for r in records if "reset" in r.get("fault", {}))
    assert reset_record["status"] == 0 and reset_record["fault"]["applied"] is True
    assert all("fault" not in r for r in journal(url, path=CANCEL))

    assert requests.post(url + "/_mock/reset", timeout=10).status_code == 200  # reset clears the faults
    assert requests.get(url + "/_mock/faults", timeout=10).json()["rules"] == []
    assert requests.get(url + STOCK, timeout=10).status_code == 200


def _send(connection: http.client.HTTPConnection, method: str, path: str) -> int:
    connection.request(method, path)
    reply = connection.getresponse()
    reply.read()
    return reply.status


def test_a_rule_on_one_route_faults_that_route_alone_at_its_rate(mock: RunningMock, database_url: str) -> None:
    requests_sent = 10_000  # half on the faulted route, half on another
    chance = 0.1
    put_faults(
        mock.url, {"seed": 42, "rules": [{"match": {"route": f"GET {STOCK}"}, "error": {"probability": chance}}]}
    )
    address = urlsplit(mock.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    faulted: list[int] = []
    other: list[int] = []
    started = time.monotonic()
    for _ in range(requests_sent // 2):
        faulted.append(_send(connection, "GET", STOCK))
        other.append(_send(connection, "DELETE", CANCEL))
    seconds = time.monotonic() - started
    print(f"{database_url.split(':')[0]}: {requests_sent} requests in {seconds:.1f} s")
    assert set(other) == {204}
    assert set(faulted) <= {200, 503}
    n = len(faulted)
    half_width = Z_999 * math.sqrt(n * chance * (1 - chance))
    count = faulted.count(503)
    assert abs(count - n * chance) <= half_width, f"{count} faults in {n}, expected {n * chance} ± {half_width:.0f}"

    # Seeded: the same rule set again (its counts start again) gives the same faults to the same requests.
    put_faults(
        mock.url, {"seed": 42, "rules": [{"match": {"route": f"GET {STOCK}"}, "error": {"probability": chance}}]}
    )
    again = [_send(connection, "GET", STOCK) for _ in range(300)]
    assert again == faulted[:300]
    connection.close()


def test_a_write_under_an_after_fault_is_stored_and_under_a_before_fault_is_not(mock: RunningMock) -> None:
    url = mock.url
    register = {"tags": ["info_job"]}
    before = jobs_stored(url)
    put_faults(url, [{"match": {"interaction": REGISTER}, "error": {"status": 500}}])
    reply = requests.post(url + "/jobs/register", json=register, headers=EPX_HEADERS, timeout=10)
    assert reply.status_code == 500 and reply.json()["applied"] is True
    assert jobs_stored(url) == before + 1

    put_faults(url, [{"match": {"interaction": REGISTER}, "error": {"status": 503, "before": True}}])
    reply = requests.post(url + "/jobs/register", json=register, headers=EPX_HEADERS, timeout=10)
    assert reply.status_code == 503 and reply.json()["applied"] is False
    put_faults(url, [{"match": {"route": "POST /jobs/register"}, "reset": {"before": True}}])
    with pytest.raises(requests.ConnectionError):
        requests.post(url + "/jobs/register", json=register, headers=EPX_HEADERS, timeout=10)
    assert jobs_stored(url) == before + 1

    faults = [r["fault"] for r in journal(url, path="/jobs/register")]
    assert [(f["applied"], f.get("answeredStatus")) for f in faults] == [(False, None), (False, None), (True, 200)]


@pytest.mark.parametrize(
    ("rule_set", "where"),
    [
        ([{"match": {"route": "GET /x"}}], "rules[0]"),
        ([{"match": {"route": "nothing"}, "delay": {"fixed": 1}}], "rules[0].match.route"),
        ([{"match": {"host": "a"}, "delay": {"fixed": 1}}], "rules[0].match"),
        ([{"match": {"provider": "P"}, "error": {"status": 200}}], "rules[0].error.status"),
        ([{"match": {"provider": "P"}, "error": {"probability": 1.5}}], "rules[0].error.probability"),
        ([{"match": {"provider": "P"}, "delay": {"uniform": [5, 1]}}], "rules[0].delay.uniform"),
        ([{"match": {"provider": "P"}, "body": {"kind": "odd"}}], "rules[0].body.kind"),
        ({"seed": "x", "rules": []}, "seed"),
    ],
)
def test_bad_rules_are_refused_and_change_nothing(one_faults_mock: RunningMock, rule_set: Any, where: str) -> None:
    url = one_faults_mock.url
    reply = requests.put(url + "/_mock/faults", json=rule_set, timeout=10)
    assert reply.status_code == 400 and reply.headers["Content-Type"] == "application/problem+json"
    assert reply.json()["detail"].startswith(where + ":") or reply.json()["detail"].startswith(where)
    assert requests.get(url + "/_mock/faults", timeout=10).json()["rules"] == []
    assert requests.post(url + "/_mock/faults", data="{", timeout=10).status_code == 400
    assert requests.delete(url + "/_mock/faults/9", timeout=10).status_code == 404


@pytest.fixture(scope="module")
def one_faults_mock(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("faults")
    started = start_mock(write_pacts(folder / "pacts"), folder)
    yield started
    stop_mock(started)


def test_rules_are_added_and_removed_one_at_a_time(one_faults_mock: RunningMock) -> None:
    url = one_faults_mock.url
    added = requests.post(
        url + "/_mock/faults", json={"match": {"route": "POST /stock/*"}, "delay": {"fixed": 1}}, timeout=10
    )
    assert added.status_code == 201
    rule_id = added.json()["id"]
    assert [r["id"] for r in requests.get(url + "/_mock/faults", timeout=10).json()["rules"]] == [rule_id]
    assert requests.post(url + "/stock/orders", json=ORDER, timeout=10).status_code == 201
    assert requests.delete(url + f"/_mock/faults/{rule_id}", timeout=10).json() == {"removed": rule_id}
    assert requests.get(url + "/_mock/faults", timeout=10).json()["rules"] == []


def test_a_faults_file_is_applied_at_start_and_a_bad_one_stops_serve(tmp_path: Path) -> None:
    pacts = write_pacts(tmp_path / "pacts")
    good = tmp_path / "faults.yaml"
    good.write_text(f"seed: 3\nrules:\n  - match: {{route: GET {STOCK}}}\n    error: {{status: 502}}\n")
    started = start_mock(pacts, tmp_path, PACTMOCK_FAULTS_FILE=str(good))
    try:
        assert requests.get(started.url + "/_mock/faults", timeout=10).json()["seed"] == 3
        assert requests.get(started.url + STOCK, timeout=10).status_code == 502
    finally:
        stop_mock(started)

    bad = tmp_path / "bad.yaml"
    bad.write_text(f"rules:\n  - match: {{route: GET {STOCK}}}\n    error:\n      status: 200\n")
    served = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve"],
        env={**os.environ, "PACT_DIR": str(pacts), "PACTMOCK_FAULTS_FILE": str(bad)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert served.returncode == 2
    assert f"{bad}:4: rules[0].error.status: must be a status from 400 to 599" in served.stderr


def test_two_servers_on_one_database_obey_the_same_rules(tmp_path: Path, database_url: str) -> None:
    pacts = write_pacts(tmp_path / "pacts")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = start_mock(pacts, tmp_path / "one", DATABASE_URL=database_url)
    second = start_mock(pacts, tmp_path / "two", DATABASE_URL=database_url)
    try:
        for _ in range(3):
            put_faults(first.url, [{"match": {"route": f"GET {STOCK}"}, "error": {"status": 503}}])
            assert requests.get(second.url + STOCK, timeout=10).status_code == 503
            assert requests.post(second.url + "/_mock/reset", timeout=10).status_code == 200
            assert requests.get(first.url + STOCK, timeout=10).status_code == 200
    finally:
        stop_mock(first)
        stop_mock(second)
