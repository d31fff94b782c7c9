"""A created item's id made from its collection's counter, on SQLite and PostgreSQL (where the create is one
statement that fills the id into the document: app/store/items_postgresql.py): integer and prefixed ids, "{id}"
in the model's defaults, and an id a fixture already holds skipped without touching the fixture's item."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import requests

from tests.support.mock_process import RunningMock

AUTH = {"Content-Type": "application/json"}
MODEL = """
version: 1
collections:
  things:
    path: /things
    item: /things/{id}
    id: {field: id, strategy: counter, start: 7}
    defaults: {url: "https://things.example.test/{id}", label: "{id}"}
  notes:
    path: /notes
    item: /notes/{id}
    id: {field: id, strategy: prefixed, prefix: "note-", width: 3, start: 1}
    defaults: {link: "/notes/{id}"}
fixtures:
  seventh:
    things:
      - {id: 7, name: "from the fixture", url: "fixture", label: "fixture"}
states:
  "thing 7 exists": [seventh]
"""


def _interaction(description: str, method: str, path: str, regex: str, status: int, body: dict) -> dict:
    request: dict = {
        "method": method,
        "path": path,
        "matchingRules": {"path": {"matchers": [{"match": "regex", "regex": regex}]}},
    }
    if method == "POST":
        request.update(headers={"Content-Type": "application/json"}, body={"name": "x"})
        request["matchingRules"]["body"] = {"$.name": {"matchers": [{"match": "type"}]}}
    return {
        "description": description,
        "request": request,
        "response": {"status": status, "headers": {"Content-Type": "application/json"}, "body": body},
    }


PACT = {
    "consumer": {"name": "NumberedTest"},
    "provider": {"name": "Numbers"},
    "interactions": [
        _interaction("create a thing", "POST", "/things", "^/things$", 201,
                     {"id": 7, "name": "x", "url": "https://things.example.test/7", "label": "7"}),
        _interaction("read a thing", "GET", "/things/7", "^/things/[0-9]+$", 200,
                     {"id": 7, "name": "x", "url": "https://things.example.test/7", "label": "7"}),
        _interaction("create a note", "POST", "/notes", "^/notes$", 201, {"id": "note-001", "name": "x", "link": "/notes/note-001"}),
        _interaction("read a note", "GET", "/notes/note-001", "^/notes/note-[0-9]+$", 200,
                     {"id": "note-001", "name": "x", "link": "/notes/note-001"}),
    ],
    "metadata": {"pactSpecification": {"version": "3.0.0"}},
}  # fmt: skip


def _create(mock: RunningMock, path: str, name: str) -> dict:
    created = requests.post(mock.url + path, json={"name": name}, headers=AUTH, timeout=10)
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_counter_and_prefixed_ids_fill_the_defaults_and_skip_a_fixtures_id(
    run_mock: Callable[..., RunningMock], database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "pacts"
    folder.mkdir()
    (folder / "NumberedTest-Numbers.json").write_text(json.dumps(PACT), encoding="utf-8")
    (folder / "NumberedTest-Numbers.model.yaml").write_text(MODEL, encoding="utf-8")
    mock = run_mock(folder, DATABASE_URL=database_url)
    state = {"state": "thing 7 exists", "action": "setup"}
    assert requests.post(mock.url + "/_mock/provider-states", json=state, timeout=10).status_code == 200

    # 7 is the fixture's: the first create gets 8, and the fixture's item is left as it was.
    first, second = _create(mock, "/things", "first"), _create(mock, "/things", "second")
    assert first == {"id": 8, "name": "first", "url": "https://things.example.test/8", "label": "8"}
    assert second == {"id": 9, "name": "second", "url": "https://things.example.test/9", "label": "9"}
    for expected in (first, second):
        read = requests.get(f"{mock.url}/things/{expected['id']}", timeout=10)
        assert (read.status_code, read.json()) == (200, expected)
    fixture = requests.get(mock.url + "/things/7", timeout=10).json()
    assert (fixture["name"], fixture["label"]) == ("from the fixture", "fixture")

    notes = [_create(mock, "/notes", f"note {n}") for n in range(3)]
    assert [(n["id"], n["link"]) for n in notes] == [(f"note-00{k}", f"/notes/note-00{k}") for k in (1, 2, 3)]
    read = requests.get(mock.url + "/notes/note-002", timeout=10)
    assert (read.status_code, read.json()) == (200, notes[1])
