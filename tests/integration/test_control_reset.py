"""POST /_mock/reset with many rows present, on SQLite and PostgreSQL (its fast paths, app/store/fast_reset.py):
everything goes back to what a fresh mock exports, the servers' bookkeeping stays, and the store still refuses a
reference to a job that is not there once the reset is done (SQLite empties the tables with its foreign keys off)."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import insert

from app.domain import state
from app.domain.errors import Conflict
from app.settings import Settings
from app.store.tables import RunRow
from app.store.unit_of_work import SqlStore
from tests.support.epx import EPX_HEADERS, OCTET_STREAM, run_request
from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
FLOW_AUTH = {"Authorization": "Bearer test-reset", "Content-Type": "application/json"}
# More jobs than fast_reset.TRUNCATE_FROM_JOBS: PostgreSQL takes its TRUNCATE path.
JOBS = 1_200


def pact_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pacts"
    shutil.copytree(ROOT / "pacts", folder)
    for name in ("FlowUI-Flow.json", "FlowUI-Flow.model.yaml"):
        shutil.copy(ROOT / "examples" / "flow" / name, folder / name)
    return folder


def exported(mock: RunningMock) -> dict[str, Any]:
    reply = requests.get(mock.url + "/_mock/state", timeout=60)
    assert reply.status_code == 200, reply.text
    document: dict[str, Any] = reply.json()
    return document


def many_rows(mock: RunningMock) -> dict[str, Any]:
    """The state after one job, run, upload and task were made, copied to JOBS of each (items too)."""
    job = requests.post(mock.url + "/jobs/register", json={"tags": ["a"]}, headers=EPX_HEADERS, timeout=10).json()
    runs = requests.post(mock.url + "/runs", json={"runRequests": [run_request(job["id"])]}, headers=EPX_HEADERS)
    assert runs.status_code == 200, runs.text
    upload = requests.post(
        mock.url + "/jobs", json={"jobId": job["id"], "context": "job", "type": "input"}, headers=EPX_HEADERS
    ).json()["url"]
    assert requests.put(upload, data=b"zip", headers=OCTET_STREAM, timeout=10).status_code == 200
    task = {"name": "train", "node_count": 1, "labels": {}}
    assert requests.post(mock.url + "/api/v1/tasks", json=task, headers=FLOW_AUTH, timeout=10).status_code == 201
    document = exported(mock)
    tables = document["tables"]
    one = {name: tables[name][0] for name in ("jobs", "runs", "uploads", "items")}
    tables["jobs"] = [{**one["jobs"], "id": 1000 + n} for n in range(JOBS)]
    tables["runs"] = [{**one["runs"], "id": 5000 + n, "job_id": 1000 + n} for n in range(JOBS)]
    tables["uploads"] = [{**one["uploads"], "id": 1 + n, "job_id": 1000 + n} for n in range(JOBS)]
    items = []
    for n in range(JOBS):
        item = copy.deepcopy(one["items"])
        item.update(id=f"copy-{n:05d}", seq=10_000 + n)
        items.append(item)
    tables["items"] = items
    for counter in tables["id_counters"]:
        counter["next_value"] = {"jobs": 1000 + JOBS, "runs": 5000 + JOBS}.get(counter["name"], counter["next_value"])
    return document


def test_a_reset_with_thousands_of_rows_gives_back_a_fresh_mock(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(pact_dir(tmp_path), DATABASE_URL=database_url)
    assert requests.post(mock.url + "/_mock/reset", timeout=60).status_code == 200
    fresh = exported(mock)  # every provider started (its start marker), nothing else
    document = many_rows(mock)
    assert requests.put(mock.url + "/_mock/state", json=document, timeout=120).json()["rows"] > 4 * JOBS
    at = "2031-02-03T04:05:06Z"
    assert requests.post(mock.url + "/_mock/clock", json={"action": "freeze", "at": at}, timeout=10).ok
    rule = {"match": {"route": "GET /api/v1/tasks"}, "error": {"status": 503}}
    assert requests.put(mock.url + "/_mock/faults", json={"rules": [rule]}, timeout=10).status_code == 200
    servers_before = requests.get(mock.url + "/_mock/journal", timeout=10).json()["servers"]

    reset = requests.post(mock.url + "/_mock/reset", timeout=60)

    assert reset.status_code == 200 and reset.json()["reset"] == "everything", reset.text
    assert exported(mock) == fresh
    assert requests.get(mock.url + "/api/v1/tasks", headers=FLOW_AUTH, timeout=10).json()["total"] == 0  # no fault
    assert requests.get(mock.url + "/_mock/clock", timeout=10).json()["frozen"] is False
    job = requests.post(mock.url + "/jobs/register", json={"tags": []}, headers=EPX_HEADERS, timeout=10).json()
    assert job["id"] == 123
    assert requests.get(mock.url + "/_mock/journal", timeout=10).json()["servers"] == servers_before


def test_epistemix_alone_is_reset_with_thousands_of_rows_and_flow_keeps_its_items(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(pact_dir(tmp_path), DATABASE_URL=database_url)
    document = many_rows(mock)
    assert requests.put(mock.url + "/_mock/state", json=document, timeout=120).status_code == 200

    reset = requests.post(mock.url + "/_mock/reset", json={"provider": "Epistemix"}, timeout=60)

    assert reset.status_code == 200, reset.text
    after = exported(mock)["tables"]
    assert (after["jobs"], after["runs"], after["uploads"]) == ([], [], [])
    assert {c["name"]: c["next_value"] for c in after["id_counters"]} == {"jobs": 123, "runs": 978}
    assert len(after["items"]) == JOBS


@pytest.fixture
def migrated_store(database_url: str) -> SqlStore:
    """The store of a fresh database at head, in this process."""
    environment = {**os.environ, "DATABASE_URL": database_url}
    subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], env=environment, check=True, capture_output=True)
    return SqlStore.connect(Settings.from_env(environment))


def test_the_store_still_refuses_a_run_of_a_missing_job_after_a_reset(migrated_store: SqlStore) -> None:
    state.reset(migrated_store, None)
    dangling = {
        "id": 1,
        "job_id": 424_242,
        "user_id": 1,
        "request": {},
        "status": "DONE",
        "status_ts": datetime.now(UTC),
        "created_ts": datetime.now(UTC),
        "user_deleted": False,
        "epx_client_version": None,
    }
    with pytest.raises(Conflict), migrated_store.writing() as uow:
        uow.session.execute(insert(RunRow).values(**dangling))
