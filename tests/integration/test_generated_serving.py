"""A generated collection served by the real server: pages anywhere in a million items, lookups, a volume
changed through /_mock/ for every worker without a restart, and the same pages on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tests.support.collection_pact import collection_pact
from tests.support.mock_process import RunningMock

WORKFLOW = {"id": 1, "name": "wf-1", "status": "RUNNING", "submitted": "2029-12-31T00:00:00Z", "gpus": 8}
DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
ITEM_RULES = {
    "id": {"matchers": [{"match": "integer"}]},
    "name": {"matchers": [{"match": "type"}]},
    "status": {"matchers": [{"match": "regex", "regex": "^(PENDING|RUNNING|COMPLETED|FAILED)$"}]},
    "submitted": {"matchers": [{"match": "regex", "regex": DATETIME}]},
    "gpus": {"matchers": [{"match": "integer"}]},
}
MODEL = """\
version: 1
seed: 11
collections:
  workflows:
    path: /api/workflow
    item: /api/workflow/{id}
    id: {field: id, strategy: counter, start: 1}
    envelope: workflows
    total: total
    lookup: [name]
    generated:
      count: 1000000
      fields: {name: {text: "wf-{index}"}, submitted: {age: [60, 7776000]}}
    page: {style: offset, default: 20, max: 1000}
"""


def write_pact(folder: Path) -> None:
    """A V3 pact of a workflow list (paged by any offset and limit) and a workflow read by id or name."""
    digits = {"matchers": [{"match": "regex", "regex": r"^\d+$"}]}
    integer = {"matchers": [{"match": "integer"}]}
    pact = collection_pact(
        "Workflows",
        path="/api/workflow",
        envelope="workflows",
        item=WORKFLOW,
        item_rules=ITEM_RULES,
        query={"offset": ("0", digits), "limit": ("20", digits)},
        extra={"total": (1, integer), "offset": (0, integer), "limit": (20, integer)},
        read_path="/api/workflow/1",
        read_regex=r"^/api/workflow/[A-Za-z0-9-]+$",
    )
    (folder / "UI-Workflows.json").write_text(json.dumps(pact))
    (folder / "UI-Workflows.model.yaml").write_text(MODEL)


def page(mock: RunningMock, offset: int, limit: int = 20) -> requests.Response:
    return requests.get(f"{mock.url}/api/workflow?offset={offset}&limit={limit}", timeout=10)


def test_pages_lookups_and_the_volume_switch(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    write_pact(tmp_path)
    mock = run_mock(tmp_path, DATABASE_URL=database_url)
    requests.post(mock.url + "/_mock/clock", json={"action": "freeze", "at": "2030-01-01T00:00:00Z"}, timeout=10)
    first, last = page(mock, 0).json(), page(mock, 999_980).json()
    assert first["total"] == last["total"] == 1_000_000 and (last["offset"], last["limit"]) == (999_980, 20)
    assert [w["id"] for w in last["workflows"]] == list(range(999_981, 1_000_001))
    by_name = requests.get(f"{mock.url}/api/workflow/wf-41", timeout=10)
    assert (
        by_name.status_code == 200 and by_name.json() == requests.get(f"{mock.url}/api/workflow/42", timeout=10).json()
    )
    assert requests.get(f"{mock.url}/api/workflow/1000001", timeout=10).status_code == 404

    resources = requests.get(mock.url + "/_mock/resources", timeout=10).json()
    [provider] = resources["providers"]
    assert provider["collections"][0] == {**provider["collections"][0], "kind": "generated", "count": 1_000_000}
    changed = requests.put(mock.url + "/_mock/resources/Workflows/workflows", json={"preset": "LOW"}, timeout=10)
    assert changed.status_code == 200 and changed.json()["count"] == 100
    # Every worker sees it at once, with no restart.
    assert {page(mock, 0).json()["total"] for _ in range(6)} == {100}
    assert "breaks the contract" not in mock.log()


def test_bad_pages_and_volumes_are_refused(run_mock: Callable[..., RunningMock], tmp_path: Path) -> None:
    write_pact(tmp_path)
    mock = run_mock(tmp_path)
    for offset, limit in ((0, 1001), (0, 0), (20_000_000, 20)):
        refused = page(mock, offset, limit)
        assert refused.status_code == 400 and refused.headers["Content-Type"] == "application/problem+json", (
            refused.text
        )
    url = mock.url + "/_mock/resources/Workflows/workflows"
    for bad in (
        {"count": 0},
        {"count": 10_000_001},
        {"count": "many"},
        {"preset": "HUGE"},
        {},
        {"count": 5, "preset": "LOW"},
    ):
        assert requests.put(url, json=bad, timeout=10).status_code == 400, bad
    assert requests.put(mock.url + "/_mock/resources/Nope/workflows", json={"count": 5}, timeout=10).status_code == 404
    assert requests.put(mock.url + "/_mock/resources/Workflows/nope", json={"count": 5}, timeout=10).status_code == 404
    assert page(mock, 0).json()["total"] == 1_000_000


def test_the_same_seed_gives_the_same_bytes_after_a_restart_and_on_either_backend(
    run_mock: Callable[..., RunningMock], tmp_path: Path, postgres_url_for_comparison: Any
) -> None:
    write_pact(tmp_path)
    pages = []
    for database in (
        f"sqlite:///{tmp_path / 'a.sqlite3'}",
        f"sqlite:///{tmp_path / 'a.sqlite3'}",
        postgres_url_for_comparison,
    ):
        mock = run_mock(tmp_path, DATABASE_URL=database)
        requests.post(mock.url + "/_mock/clock", json={"action": "freeze", "at": "2030-01-01T00:00:00Z"}, timeout=10)
        pages.append((page(mock, 0).content, page(mock, 500_000).content))
        mock.process.terminate()
        mock.process.wait(timeout=30)
    assert pages[0] == pages[1] == pages[2]
