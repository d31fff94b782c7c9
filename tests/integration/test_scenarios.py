"""Scenarios through the control plane, on SQLite and PostgreSQL: the catalogue of provider states and model
fixtures, switched on and off, and the state they set up seen by the API."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.support.epx import EPX_HEADERS
from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
FLOW_AUTH = {"Authorization": "Bearer test-scenarios"}


def pact_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "pacts"
    shutil.copytree(ROOT / "pacts", folder)
    for name in ("FlowUI-Flow.json", "FlowUI-Flow.model.yaml"):
        shutil.copy(ROOT / "examples" / "flow" / name, folder / name)
    return folder


def switch(mock: RunningMock, **change: Any) -> requests.Response:
    return requests.post(mock.url + "/_mock/scenarios", json=change, timeout=30)


def test_the_catalogue_lists_states_and_fixtures_and_switches_them(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    mock = run_mock(pact_dir(tmp_path), DATABASE_URL=database_url)
    catalogue = requests.get(mock.url + "/_mock/scenarios", timeout=10).json()
    states = {s["name"]: s for s in catalogue["provider_states"]}
    assert "job 123 exists" in states and "Epistemix" in states["job 123 exists"]["providers"]
    assert "a task task_000001 exists in state running" in states
    fixtures = {(f["provider"], f["name"]): f for f in catalogue["fixtures"]}
    assert (
        fixtures[("Flow", "all_scenarios")]["kind"] == "scenario" and not fixtures[("Flow", "all_scenarios")]["active"]
    )

    on = switch(mock, activate=[{"state": "job 123 exists"}, {"provider": "Flow", "fixture": "all_scenarios"}])
    assert on.status_code == 200, on.text
    assert on.json()["active"] == {"provider_states": ["job 123 exists"], "fixtures": [["Flow", "all_scenarios"]]}
    assert requests.get(mock.url + "/runs?job_id=123", headers=EPX_HEADERS, timeout=10).status_code == 200
    assert requests.get(mock.url + "/api/v1/tasks", headers=FLOW_AUTH, timeout=10).json()["total"] == 25

    off = switch(mock, deactivate=[{"state": "job 123 exists"}, {"provider": "Flow", "fixture": "all_scenarios"}])
    assert off.json()["active"] == {"provider_states": [], "fixtures": []}
    assert requests.get(mock.url + "/runs?job_id=123", headers=EPX_HEADERS, timeout=10).status_code == 404
    assert requests.get(mock.url + "/api/v1/tasks", headers=FLOW_AUTH, timeout=10).json()["total"] == 0


def test_bad_switches_are_refused_and_change_nothing(run_mock: Callable[..., RunningMock], tmp_path: Path) -> None:
    mock = run_mock(pact_dir(tmp_path))
    before = requests.get(mock.url + "/_mock/scenarios", timeout=10).json()
    for bad, status in (
        ({}, 400),
        ({"activate": "job 123 exists"}, 400),
        ({"activate": [{"state": ""}]}, 400),
        ({"activate": [{"state": "job 123 exists", "params": [1]}]}, 400),
        ({"activate": [{"provider": "Flow"}]}, 400),
        ({"activate": [{"provider": "Nope", "fixture": "x"}]}, 404),
        # Names that are not text (the control-plane fuzzer's find: a list was a 500).
        ({"activate": [{"provider": "Flow", "fixture": []}]}, 400),
        ({"deactivate": [{"provider": ["Flow"], "fixture": "x"}]}, 400),
        # A bad entry after a good one: nothing of the call is applied.
        ({"activate": [{"state": "job 123 exists"}, {"provider": "Flow", "fixture": "nope"}]}, 404),
        ({"toggle": []}, 400),
    ):
        reply = switch(mock, **bad)
        assert reply.status_code == status, (bad, reply.text)
        assert reply.headers["Content-Type"] == "application/problem+json"
    assert requests.get(mock.url + "/_mock/scenarios", timeout=10).json() == before
