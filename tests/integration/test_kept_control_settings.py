"""The clock's setting and the active provider states are kept per worker process (domain/cached.py) and read
again only after the control plane announced a change: a change made through one server must be obeyed by the
other on its very next request, every time, on SQLite and PostgreSQL (each server has two workers, so the
requests also land on either worker of each)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from tests.support.mock_process import RunningMock

ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "examples" / "flow"
ROUNDS = 25
TASK_HEADERS = {"Authorization": "Bearer test-kept", "Content-Type": "application/json"}


def _light(state: str) -> dict[str, object]:
    return {
        "description": f"the light while {state}",
        "providerStates": [{"name": f"light is {state}"}],
        "request": {"method": "GET", "path": "/light"},
        "response": {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"light": state}},
    }


# One request, two answers: which one the router picks says which provider state it believes is active.
TOGGLE_PACT = {
    "consumer": {"name": "KeptTest"},
    "provider": {"name": "Toggle"},
    "interactions": [_light("on"), _light("off")],
    "metadata": {"pactSpecification": {"version": "3.0.0"}},
}


def _pacts(tmp_path: Path) -> Path:
    folder = tmp_path / "pacts"
    folder.mkdir()
    for name in ("FlowUI-Flow.json", "FlowUI-Flow.model.yaml"):
        shutil.copy(FLOW / name, folder / name)
    (folder / "KeptTest-Toggle.json").write_text(json.dumps(TOGGLE_PACT), encoding="utf-8")
    return folder


def _state(server: RunningMock, name: str, action: str) -> None:
    answer = requests.post(server.url + "/_mock/provider-states", json={"state": name, "action": action}, timeout=10)
    assert answer.status_code == 200, answer.text


def test_clock_and_provider_states_changed_through_one_server_are_obeyed_by_the_other_at_once(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    folder = _pacts(tmp_path)
    one = run_mock(folder, DATABASE_URL=database_url)
    two = run_mock(folder, DATABASE_URL=database_url)
    _state(one, "light is off", "setup")
    light = "off"
    start = datetime(2031, 3, 1, 12, 0, 0, tzinfo=UTC)

    for n in range(ROUNDS):
        changer, reader = (one, two) if n % 2 == 0 else (two, one)

        # Each round's reader has just answered with the setting it kept: the change must still reach it.
        at = start + timedelta(minutes=n)
        frozen = requests.post(
            changer.url + "/_mock/clock", json={"action": "freeze", "at": at.isoformat()}, timeout=10
        )
        assert frozen.status_code == 200, frozen.text
        task = {"name": f"round-{n}", "node_count": 1, "labels": {"team": "kept"}}
        created = requests.post(reader.url + "/api/v1/tasks", json=task, headers=TASK_HEADERS, timeout=10)
        assert created.status_code == 201, created.text
        assert created.json()["created_at"] == at.isoformat().replace("+00:00", "Z"), f"round {n}"
        seen = requests.get(reader.url + "/_mock/clock", timeout=10).json()
        assert (seen["now"], seen["frozen"]) == (at.isoformat(), True), f"round {n}"

        previous, light = light, "on" if light == "off" else "off"
        _state(changer, f"light is {previous}", "teardown")
        _state(changer, f"light is {light}", "setup")
        answered = requests.get(reader.url + "/light", timeout=10)
        assert answered.status_code == 200, answered.text
        assert answered.json() == {"light": light}, f"round {n}: {reader.url} still routes by the old state"
