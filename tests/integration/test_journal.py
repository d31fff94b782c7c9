"""The request journal through the control plane (issue 18 item 5), against the real server (`pactmock serve`,
two worker processes): what each request left in the journal, filters, verification, near misses, its bound.

The journal is per server and kept outside the database; the tests where a handler answers from the store run
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from app.web.journal_slots import disk_bytes, read_slot
from tests.support.epx import EPX_HEADERS
from tests.support.mock_process import RunningMock, start_mock, stop_mock

PACTS = Path(__file__).resolve().parents[2] / "pacts"
SIMPLE_HEADERS = {"Content-Type": "application/json"}
# A provider without handlers: every answer is the contract's own (a stub).
STOCK_PACT = {
    "consumer": {"name": "Shop"},
    "provider": {"name": "Stock"},
    "interactions": [
        {
            "description": "a stock count",
            "request": {"method": "GET", "path": "/stock/1"},
            "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"id": 1, "count": 5}},
        },
        {
            "description": "a stock order",
            "request": {
                "method": "POST",
                "path": "/stock/orders",
                "headers": {"Content-Type": "application/json"},
                "body": {"item": 1, "quantity": 2},
            },
            "response": {"status": 201, "headers": {"Content-Type": "application/json"}, "body": {"ordered": True}},
        },
        {
            "description": "a stock order cancelled",
            "request": {"method": "DELETE", "path": "/stock/orders"},
            "response": {"status": 204},
        },
    ],
    "metadata": {"pactSpecification": {"version": "3.0.0"}},
}
ORDER = {"item": 1, "quantity": 2}


def write_pacts(folder: Path) -> Path:
    folder.mkdir()
    (folder / "shop-stock.json").write_text(json.dumps(STOCK_PACT))
    shutil.copy(PACTS / "epx-epistemix.json", folder)
    return folder


@pytest.fixture
def pact_dir(tmp_path: Path) -> Path:
    return write_pacts(tmp_path / "pacts")


@pytest.fixture(scope="module")
def one_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningMock]:
    """One server for every bad-input case: starting one per case would take most of the tests' time."""
    folder = tmp_path_factory.mktemp("journal")
    mock = start_mock(write_pacts(folder / "pacts"), folder)
    yield mock
    stop_mock(mock)


def journal(url: str, **filters: Any) -> dict[str, Any]:
    reply = requests.get(url + "/_mock/journal", params=filters, timeout=10)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def verify(url: str, **expectation: Any) -> dict[str, Any]:
    reply = requests.post(url + "/_mock/journal/verify", json=expectation, timeout=10)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def journal_directory(mock: Any) -> Path:
    port = mock.url.rpartition(":")[2]
    return Path(tempfile.gettempdir()) / f"pactmock-journal-{os.getuid()}" / f"{port}-{mock.process.pid}"


def send_concurrently(calls: list[Any]) -> list[requests.Response]:
    # Each call opens its own connection, several at once: the two workers both take some.
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_stubs_handler_answers_and_refusals_of_both_workers_are_all_journaled(
    run_mock: Any, pact_dir: Path, database_url: str
) -> None:
    mock = run_mock(pact_dir, DATABASE_URL=database_url)
    url = mock.url
    batch = [lambda: requests.get(url + "/stock/1", timeout=10) for _ in range(4)]
    batch += [
        lambda: requests.post(url + "/jobs/register", json={"tags": ["info_job"]}, headers=EPX_HEADERS, timeout=10)
        for _ in range(2)
    ]
    batch += [lambda: requests.post(url + "/stock/orders", json={"item": 9}, timeout=10) for _ in range(2)]
    # Which worker accepts a connection is the kernel's choice: batches go until both have answered some.
    batches = 0
    deadline = time.monotonic() + 60
    while batches < 3 or (len(journal(url)["workers"]) < 2 and time.monotonic() < deadline):
        replies = send_concurrently(batch)
        assert sorted(r.status_code for r in replies) == [200] * 6 + [400] * 2
        batches += 1
    requests.get(url + "/health", timeout=10)  # pactmock's own page and the control plane are not journaled
    requests.get(url + "/_mock/", timeout=10)

    seen = journal(url, limit=1000)
    assert seen["enabled"] is True and seen["scope"] == "server" and "per server" in seen["note"]
    assert seen["total"] == 8 * batches
    records = seen["requests"]
    assert len({r["id"] for r in records}) == 8 * batches
    # Both workers answered, and the journal any worker gives holds both.
    assert len(seen["workers"]) == 2
    assert {int(r["id"].split("-")[0]) for r in records} == set(seen["workers"])
    times = [r["time"] for r in records]
    assert times == sorted(times, reverse=True)

    stubs = [r for r in records if r["path"] == "/stock/1"]
    assert len(stubs) == 4 * batches
    assert stubs[0]["answeredBy"] == {
        "interaction": "a stock count",
        "provider": "Stock",
        "consumer": "Shop",
        "providerStates": [],
    }
    assert stubs[0]["status"] == 200 and stubs[0]["method"] == "GET" and stubs[0]["durationMs"] >= 0

    handled = [r for r in records if r["path"] == "/jobs/register"]
    assert len(handled) == 2 * batches
    assert handled[0]["answeredBy"]["interaction"] == "a request to register an info job"
    assert handled[0]["answeredBy"]["provider"] == "Epistemix"
    assert handled[0]["answeredBy"]["handler"].endswith("register_job")
    assert json.loads(handled[0]["body"]) == {"tags": ["info_job"]}

    refused = [r for r in records if r["path"] == "/stock/orders"]
    assert len(refused) == 2 * batches
    first = refused[0]
    assert first["status"] == 400 and first["refusal"] == "contract-mismatch" and "answeredBy" not in first
    assert first["closest"]["description"] == "a stock order"
    assert {m["path"] for m in first["mismatches"]} >= {"$.quantity"}


def test_credentials_are_withheld(run_mock: Any, pact_dir: Path) -> None:
    mock = run_mock(pact_dir)
    secrets = {
        "Authorization": "Bearer very-secret-1",
        "Cookie": "session=very-secret-2",
        "X-Api-Key": "very-secret-3",
        "X-Client-Secret": "very-secret-4",
        "X-Mock-Admin-Token": "very-secret-5",
        "Offline-Token": "Bearer very-secret-6",
        "X-Password": "very-secret-7",
        "X-Trace": "visible",
    }
    requests.get(mock.url + "/stock/1?api_key=very-secret-8&page=2", headers=secrets, timeout=10)
    [record] = journal(mock.url)["requests"]
    text = json.dumps(record)
    assert "very-secret" not in text
    for name in secrets:
        expected = "visible" if name == "X-Trace" else "(withheld)"
        assert record["headers"][name.lower()] == expected
    assert record["query"] == {"api_key": ["(withheld)"], "page": ["2"]}


def test_filters_and_clearing(run_mock: Any, pact_dir: Path) -> None:
    mock = run_mock(pact_dir)
    url = mock.url
    requests.get(url + "/stock/1", timeout=10)
    requests.post(url + "/stock/orders", json=ORDER, timeout=10)
    time.sleep(0.05)
    middle = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    requests.post(url + "/stock/orders", json={"item": 2}, timeout=10)
    requests.delete(url + "/stock/orders", timeout=10)
    requests.get(url + "/nowhere", timeout=10)

    def paths(**filters: Any) -> list[str]:
        return [f"{r['method']} {r['path']} {r['status']}" for r in journal(url, **filters)["requests"]]

    assert paths() == [
        "GET /nowhere 404",
        "DELETE /stock/orders 204",
        "POST /stock/orders 400",
        "POST /stock/orders 201",
        "GET /stock/1 200",
    ]
    assert paths(method="post") == ["POST /stock/orders 400", "POST /stock/orders 201"]
    assert paths(path="/stock/orders") == [
        "DELETE /stock/orders 204",
        "POST /stock/orders 400",
        "POST /stock/orders 201",
    ]
    assert paths(path="/stock/*", status="2xx") == [
        "DELETE /stock/orders 204",
        "POST /stock/orders 201",
        "GET /stock/1 200",
    ]
    assert paths(status="400") == ["POST /stock/orders 400"]
    # The interaction that answered, or the closest one of a refusal.
    assert paths(interaction="STOCK ORDER") == [
        "DELETE /stock/orders 204",
        "POST /stock/orders 400",
        "POST /stock/orders 201",
    ]
    assert paths(since=middle) == ["GET /nowhere 404", "DELETE /stock/orders 204", "POST /stock/orders 400"]
    limited = journal(url, limit=2)
    assert limited["total"] == 5 and limited["returned"] == 2

    cleared = requests.delete(url + "/_mock/journal", timeout=10)
    assert cleared.status_code == 200 and cleared.json()["cleared"] is True
    assert journal(url)["total"] == 0
    requests.get(url + "/stock/1", timeout=10)
    assert paths() == ["GET /stock/1 200"]


def test_verify_counts_matching_requests_and_explains_a_failure(run_mock: Any, pact_dir: Path) -> None:
    mock = run_mock(pact_dir)
    url = mock.url
    for body in (ORDER, ORDER, {"item": 3, "quantity": 2}):
        requests.post(url + "/stock/orders", json=body, headers={"X-Shop": "north"}, timeout=10)
    requests.get(url + "/stock/1", timeout=10)

    ok = verify(url, method="POST", path="/stock/orders", times=2, body={"item": 1})
    assert ok == {
        "ok": True,
        "matched": 2,
        "onRoute": 3,
        "expected": 'POST /stock/orders with a body containing {"item": 1}, exactly 2 times',
    }
    assert verify(url, method="POST", path="/stock/orders", at_least=3)["ok"] is True
    assert verify(url, method="POST", path="/stock/orders", at_most=1, body={"item": 3})["ok"] is True
    assert verify(url, method="POST", path="/stock/orders", headers={"x-shop": "north"}, times=3)["ok"] is True

    failed = verify(url, method="POST", path="/stock/orders", times=1, body={"item": 1, "quantity": 2})
    assert failed["ok"] is False and failed["matched"] == 2
    lines = failed["failure"].splitlines()
    assert lines[0] == (
        'expected POST /stock/orders with a body containing {"item": 1, "quantity": 2}, exactly 1 time, '
        "but it was received 2 times."
    )
    assert lines[1] == "POST /stock/orders was received 3 times (newest first):"
    assert lines[2].endswith("400 /stock/orders: does not match: $.item is 3, not 1")
    assert lines[3].endswith("201 /stock/orders: matches")

    nothing = verify(url, method="PUT", path="/stock/1")
    assert nothing["ok"] is False
    assert (
        "Nothing was received on PUT /stock/1; the journal holds: POST /stock/orders (3), GET /stock/1 (1)."
        in (nothing["failure"])
    )
    wrong_header = verify(url, method="POST", path="/stock/orders", headers={"X-Shop": "south"})
    assert "header X-Shop is 'north', not 'south'" in wrong_header["failure"]


def test_near_miss_gives_the_three_closest_interactions_with_their_mismatches(run_mock: Any, pact_dir: Path) -> None:
    mock = run_mock(pact_dir)
    asked = {
        "method": "POST",
        "path": "/stock/orders",
        "headers": {"Authorization": "Bearer hidden"},
        "body": {"item": 1},
    }
    reply = requests.post(mock.url + "/_mock/near-miss", json=asked, timeout=10)
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert found["matched"] is False
    described = [(c["interaction"]["description"], c["interaction"]["request"]) for c in found["closest"]]
    assert described[:2] == [
        ("a stock order", "POST /stock/orders"),
        ("a stock order cancelled", "DELETE /stock/orders"),
    ]
    assert len(described) == 3
    first = found["closest"][0]["mismatches"]
    assert [(m["part"], m["path"]) for m in first] == [("body", "$.quantity")]
    assert found["closest"][1]["mismatches"][0]["part"] == "method"
    # Nothing asked is journaled, and a request that matches says so.
    matching = {**asked, "body": ORDER}
    again = requests.post(mock.url + "/_mock/near-miss", json=matching, timeout=10).json()
    assert again["matched"] is True and again["closest"][0]["mismatches"] == []
    assert journal(mock.url)["total"] == 0


def test_the_journal_keeps_the_last_n_requests_in_bounded_files(run_mock: Any, pact_dir: Path) -> None:
    size = 25
    mock = run_mock(pact_dir, PACTMOCK_JOURNAL_SIZE=str(size), PACTMOCK_JOURNAL_BODY_BYTES="64")
    url = mock.url
    big = {"item": 1, "quantity": 2, "note": "x" * 5000}
    calls = [(lambda n=n: requests.post(f"{url}/stock/orders?n={n}", json=big, timeout=10)) for n in range(3 * size)]
    send_concurrently(calls)
    requests.get(url + "/stock/1?n=last", timeout=10)  # refused (the pact has no query here), journaled all the same

    seen = journal(url, limit=size)
    assert seen["total"] == size and seen["size"] == size
    assert seen["requests"][0]["query"] == {"n": ["last"]}
    clipped = seen["requests"][1]
    assert clipped["bodyClipped"] is True and clipped["bodyBytes"] > 5000 and len(clipped["body"]) == 64
    # Two slot files per worker, each of at most `size` records of a clipped body: the disk taken stays bounded.
    files = list(journal_directory(mock).glob("*.journal"))
    assert 2 <= len(files) <= 4
    for path in files:
        assert 0 < len(read_slot(path).splitlines()) <= size
    assert sum(disk_bytes(p) for p in files) < 4 * size * 2048


def test_a_journal_of_size_zero_is_off(run_mock: Any, pact_dir: Path) -> None:
    mock = run_mock(pact_dir, PACTMOCK_JOURNAL_SIZE="0")
    requests.get(mock.url + "/stock/1", timeout=10)
    seen = journal(mock.url)
    assert seen["enabled"] is False and seen["requests"] == [] and "PACTMOCK_JOURNAL_SIZE=0" in seen["note"]
    refused = requests.post(mock.url + "/_mock/journal/verify", json={"method": "GET", "path": "/stock/1"}, timeout=10)
    assert refused.status_code == 400 and "off" in refused.json()["detail"]
    assert not journal_directory(mock).exists()


@pytest.mark.parametrize(
    ("call", "payload", "says"),
    [
        ("GET /_mock/journal?status=abc", None, "status must be"),
        ("GET /_mock/journal?limit=0", None, "limit must be"),
        ("GET /_mock/journal?limit=5000", None, "limit must be"),
        ("GET /_mock/journal?since=yesterday", None, "since must be"),
        ("GET /_mock/journal?since=2030-01-01T00:00:00", None, "zone"),
        ("GET /_mock/journal?colour=red", None, "unknown filters"),
        ("GET /_mock/journal?method=GET%20X", None, "method must be"),
        ("POST /_mock/journal/verify", "not json", "expected a JSON object"),
        ("POST /_mock/journal/verify", {"path": "/stock/1"}, "method must be"),
        ("POST /_mock/journal/verify", {"method": "GET", "path": "stock"}, "path must start with /"),
        ("POST /_mock/journal/verify", {"method": "GET", "path": "/s", "times": -1}, "times must be"),
        ("POST /_mock/journal/verify", {"method": "GET", "path": "/s", "times": True}, "times must be"),
        ("POST /_mock/journal/verify", {"method": "GET", "path": "/s", "times": 1, "at_most": 2}, "cannot be given"),
        ("POST /_mock/journal/verify", {"method": "GET", "path": "/s", "at_least": 3, "at_most": 2}, "more than"),
        ("POST /_mock/journal/verify", {"method": "GET", "path": "/s", "bodies": {}}, "unknown keys"),
        ("POST /_mock/journal/verify", {"method": "GET", "path": "/s", "headers": []}, "headers must be"),
        ("POST /_mock/near-miss", [1], "expected a JSON object"),
        ("POST /_mock/near-miss", {"method": "GET"}, "path must start with /"),
        ("POST /_mock/near-miss", {"method": "GET", "path": "/s", "query": 5}, "query must be"),
        ("POST /_mock/near-miss", {"method": "GET", "path": "/s", "headers": {"A": 1}}, "header A must be"),
        ("POST /_mock/near-miss", {"method": "GET", "path": "/s", "cookies": {}}, "unknown keys"),
    ],
)
def test_bad_input_gets_a_400_problem(one_mock: RunningMock, call: str, payload: Any, says: str) -> None:
    mock = one_mock
    method, target = call.split(" ")
    data = payload if isinstance(payload, str) else json.dumps(payload)
    reply = requests.request(method, mock.url + target, data=data, headers=SIMPLE_HEADERS, timeout=10)
    assert reply.status_code == 400, reply.text
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert says in reply.json()["detail"]
