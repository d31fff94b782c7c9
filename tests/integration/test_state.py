"""Reset, export and import through the control plane, on SQLite and PostgreSQL: Epistemix data (jobs, runs
mid-lifecycle, uploads) and generic items; an export, a reset and an import give the same bytes again, and a
bad document changes nothing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.support.epx import EPX_HEADERS, OCTET_STREAM, run_request
from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
FLOW_AUTH = {"Authorization": "Bearer test-state", "Content-Type": "application/json"}
SLOW_RUNS = {f"PACTMOCK_RUN_{step}_SECONDS": "600" for step in ("NOT_STARTED", "QUEUED", "RUNNING")}


def pact_dir(tmp_path: Path) -> Path:
    """Epistemix's pacts and the Flow example, served together."""
    folder = tmp_path / "pacts"
    shutil.copytree(ROOT / "pacts", folder)
    for name in ("FlowUI-Flow.json", "FlowUI-Flow.model.yaml"):
        shutil.copy(ROOT / "examples" / "flow" / name, folder / name)
    return folder


def fill(mock: RunningMock) -> None:
    """Two jobs (one with a run mid-lifecycle and an upload) and two tasks (one moved)."""
    url = mock.url
    for tags in (["info_job"], ["other"]):
        job = requests.post(url + "/jobs/register", json={"tags": tags}, headers=EPX_HEADERS, timeout=10).json()
    runs = requests.post(url + "/runs", json={"runRequests": [run_request(job["id"])]}, headers=EPX_HEADERS, timeout=10)
    assert runs.status_code == 200, runs.text
    upload = requests.post(
        url + "/jobs", json={"jobId": job["id"], "context": "job", "type": "input"}, headers=EPX_HEADERS, timeout=10
    ).json()["url"]
    assert requests.put(upload, data=b"\x00\x01zip bytes", headers=OCTET_STREAM, timeout=10).status_code == 200
    for name in ("train", "eval"):
        created = requests.post(
            url + "/api/v1/tasks", json={"name": name, "node_count": 1, "labels": {}}, headers=FLOW_AUTH, timeout=10
        )
        assert created.status_code == 201, created.text
    moved = requests.post(
        url + "/api/v1/demo/transition_task/task_000001", json={"status": "running"}, headers=FLOW_AUTH, timeout=10
    )
    assert moved.status_code == 200, moved.text


def exported(mock: RunningMock, provider: str | None = None) -> bytes:
    reply = requests.get(mock.url + "/_mock/state", params={"provider": provider} if provider else None, timeout=30)
    assert reply.status_code == 200, reply.text
    return reply.content


def test_export_reset_import_gives_the_same_bytes(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(pact_dir(tmp_path), DATABASE_URL=database_url, **SLOW_RUNS)
    requests.post(mock.url + "/_mock/clock", json={"action": "freeze", "at": "2030-01-01T00:00:00Z"}, timeout=10)
    fill(mock)
    before = exported(mock)
    document: dict[str, Any] = requests.get(mock.url + "/_mock/state", timeout=30).json()
    assert {len(document["tables"][t]) for t in ("jobs", "uploads")} == {2, 1} and document["tables"]["runs"]

    reset = requests.post(mock.url + "/_mock/reset", timeout=30)
    assert reset.status_code == 200 and reset.json()["reset"] == "everything"
    assert requests.get(mock.url + "/api/v1/tasks", headers=FLOW_AUTH, timeout=10).json()["total"] == 0
    fresh = requests.post(mock.url + "/jobs/register", json={"tags": []}, headers=EPX_HEADERS, timeout=10).json()
    assert fresh["id"] == 123  # the contract's first id again
    assert requests.get(mock.url + "/_mock/clock", timeout=10).json()["frozen"] is False

    imported = requests.put(
        mock.url + "/_mock/state", data=before, headers={"Content-Type": "application/json"}, timeout=60
    )
    assert imported.status_code == 200, imported.text
    assert exported(mock) == before
    # The imported state serves: the upload's bytes, the moved task.
    task = requests.get(mock.url + "/api/v1/tasks/task_000001", headers=FLOW_AUTH, timeout=10).json()
    assert task["status"] == "running"
    job_id = document["tables"]["uploads"][0]["job_id"]
    assert requests.get(f"{mock.url}/_mock/jobs/{job_id}/uploads/job_input", timeout=10).content == b"\x00\x01zip bytes"


def test_one_provider_is_reset_exported_and_imported_alone(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(pact_dir(tmp_path), DATABASE_URL=database_url, **SLOW_RUNS)
    fill(mock)
    flow = exported(mock, "Flow")
    epistemix = exported(mock, "Epistemix")
    assert requests.post(mock.url + "/_mock/reset", json={"provider": "Flow"}, timeout=30).status_code == 200
    assert requests.get(mock.url + "/api/v1/tasks", headers=FLOW_AUTH, timeout=10).json()["total"] == 0
    assert exported(mock, "Epistemix") == epistemix  # the other provider kept its state
    back = requests.put(
        mock.url + "/_mock/state?provider=Flow", data=flow, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert back.status_code == 200, back.text
    assert exported(mock, "Flow") == flow
    assert requests.post(mock.url + "/_mock/reset", json={"provider": "Nope"}, timeout=30).status_code == 404


def test_a_bad_document_is_refused_where_it_is_wrong_and_changes_nothing(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(pact_dir(tmp_path), DATABASE_URL=database_url, **SLOW_RUNS)
    fill(mock)
    before = exported(mock)
    good: dict[str, Any] = requests.get(mock.url + "/_mock/state", timeout=30).json()

    def broken(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        import copy

        document = copy.deepcopy(good)
        change(document)
        return document

    cases = {
        "version": broken(lambda d: d.update(version=99)),
        "format": broken(lambda d: d.update(format="other")),
        "a missing table": broken(lambda d: d["tables"].pop("runs")),
        "a run of a job not there": broken(lambda d: d["tables"]["runs"][0].update(job_id=999_999)),
        "a column of the wrong kind": broken(lambda d: d["tables"]["jobs"][0].update(created_ts="yesterday")),
        "an extra column": broken(lambda d: d["tables"]["items"][0].update(colour="red")),
        "bytes that are not base64": broken(lambda d: d["tables"]["uploads"][0].update(data="***")),
        "the wrong scope": broken(lambda d: d.update(scope="Flow")),
    }
    for what, document in cases.items():
        reply = requests.put(mock.url + "/_mock/state", json=document, timeout=30)
        assert reply.status_code == 400, (what, reply.text)
        assert (
            reply.headers["Content-Type"] == "application/problem+json"
            and "nothing was imported" in reply.json()["detail"]
        )
    assert requests.put(mock.url + "/_mock/state", data=b"{not json", timeout=30).status_code == 400
    assert exported(mock) == before
