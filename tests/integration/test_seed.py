"""`pactmock seed` on a fresh SQLite file and a fresh PostgreSQL database: real rows, the same again on a
re-run, read and listed by the real server, and one clear line (exit 2) for what it cannot do."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests
from sqlalchemy.engine import make_url

from app.store import migrate
from app.store.bulk import BulkItems
from tests.integration.conftest import fresh_postgres_database
from tests.integration.test_generated_serving import write_pact
from tests.support.mock_process import RunningMock

FLOW = Path(__file__).resolve().parents[2] / "examples" / "flow"
AT = "2030-01-01T00:00:00Z"
COUNT = 20_000
AUTH = {"Authorization": "Bearer test-seed"}
FINAL_LINE = re.compile(r"^seeded 20000 items of tasks in [0-9.]+ s \([0-9,]+ rows/s\)$")


@pytest.fixture
def pact_dir(tmp_path: Path) -> Path:
    """The Flow example (a pact and its model file; `tasks` is a stored collection, not a generated one)."""
    folder = tmp_path / "pacts"
    shutil.copytree(FLOW, folder)
    return folder


def seed(database_url: str, pact_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "seed", *args, "--pact-dir", str(pact_dir)],
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=300,
    )


def stored_rows(
    database_url: str, provider: str = "Flow", collection: str = "tasks"
) -> list[tuple[str, Any, int, int]]:
    """(id, document, version, seq) of every stored item of the collection, in creation order."""
    query = "SELECT id, document, version, seq FROM items WHERE provider = %s AND collection = %s ORDER BY seq"
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with sqlite3.connect(str(url.database)) as connection:
            found = connection.execute(query.replace("%s", "?"), (provider, collection))
            return [(i, json.loads(d), v, s) for i, d, v, s in found]
    connection = psycopg2.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, (provider, collection))
            return [tuple(row) for row in cursor.fetchall()]  # type: ignore[misc]
    finally:
        connection.close()


def digest(rows: list[tuple[str, Any, int, int]]) -> str:
    canonical = [(i, json.dumps(d, sort_keys=True), v, s) for i, d, v, s in rows]
    return hashlib.sha256(json.dumps(canonical).encode()).hexdigest()


def test_seed_writes_real_rows_and_a_rerun_gives_the_same_ones(database_url: str, pact_dir: Path) -> None:
    first = seed(database_url, pact_dir, "Flow", "tasks", str(COUNT), "--at", AT)
    assert first.returncode == 0, first.stderr
    assert FINAL_LINE.match(first.stdout.strip()), first.stdout
    # Not a terminal: progress is a line per tenth on stderr.
    assert "seeded 10,000 of 20,000 (50%)" in first.stderr

    rows = stored_rows(database_url)
    assert len(rows) == COUNT
    assert [row[0] for row in rows[:3]] == ["task_000001", "task_000002", "task_000003"]
    assert rows[-1][0] == "task_020000"
    assert {row[2] for row in rows} == {1}
    assert [row[3] for row in rows] == sorted({row[3] for row in rows}), "seq rises with the index, no repeats"
    statuses = {row[1]["status"] for row in rows}
    assert statuses == {"pending", "running", "preempting", "completed", "failed", "cancelled"}
    assert rows[122][1]["name"] == "train-llama-122"

    again = seed(database_url, pact_dir, "Flow", "tasks", str(COUNT), "--at", AT)
    assert again.returncode == 0, again.stderr
    assert digest(stored_rows(database_url)) == digest(rows)

    other = seed(database_url, pact_dir, "Flow", "tasks", "10", "--at", AT, "--seed", "99")
    assert other.returncode == 0, other.stderr
    reseeded = stored_rows(database_url)
    assert len(reseeded) == COUNT
    assert [r[1] for r in reseeded[:10]] != [r[1] for r in rows[:10]], "another seed makes other items"
    assert reseeded[10:] == rows[10:]
    assert [r[3] for r in reseeded[:10]] == [r[3] for r in rows[:10]], "a replaced item keeps its place"


def test_the_served_mock_reads_and_lists_seeded_items(run_mock: Any, database_url: str, pact_dir: Path) -> None:
    seeded = seed(database_url, pact_dir, "Flow", "tasks", str(COUNT), "--at", AT)
    assert seeded.returncode == 0, seeded.stderr
    stored = {row[0]: row[1] for row in stored_rows(database_url)}

    mock: RunningMock = run_mock(pact_dir, DATABASE_URL=database_url)
    one = requests.get(f"{mock.url}/api/v1/tasks/task_012345", headers=AUTH, timeout=30)
    assert one.status_code == 200, one.text
    assert one.json() == stored["task_012345"]

    # The contract's filter: the store selects the seeded items whose status is running, in seeded order.
    running = requests.get(f"{mock.url}/api/v1/tasks", params={"status": "running"}, headers=AUTH, timeout=60)
    assert running.status_code == 200, running.text
    expected = [document for document in stored.values() if document["status"] == "running"]
    assert running.json() == {"tasks": expected, "total": len(expected)}

    everything = requests.get(f"{mock.url}/api/v1/tasks", headers=AUTH, timeout=120)
    assert everything.status_code == 200
    listed = everything.json()
    assert listed["total"] == COUNT
    assert [task["id"] for task in listed["tasks"][:2]] == ["task_000001", "task_000002"]


def test_seeded_items_of_a_generated_collection_read_like_the_virtual_ones(
    run_mock: Any, database_url: str, tmp_path: Path
) -> None:
    # A million virtual workflows; the first thousand seeded as real rows while the server runs, its clock
    # frozen at --at: the pages a client reads do not change, and now they come from the store.
    folder = tmp_path / "generated"
    folder.mkdir()
    write_pact(folder)
    mock: RunningMock = run_mock(folder, DATABASE_URL=database_url)
    frozen = requests.post(f"{mock.url}/_mock/clock", json={"action": "freeze", "at": AT}, timeout=10)
    assert frozen.status_code == 200

    def pages() -> list[Any]:
        return [
            requests.get(f"{mock.url}/api/workflow", params={"offset": o, "limit": 20}, timeout=30).json()
            for o in (0, 980, 990)
        ]

    virtual = pages()
    seeded = seed(database_url, folder, "Workflows", "workflows", "1000")
    assert seeded.returncode == 0, seeded.stderr
    assert pages() == virtual
    stored = {row[0]: row[1] for row in stored_rows(database_url, "Workflows", "workflows")}
    assert len(stored) == 1000
    assert stored["1"] == virtual[0]["workflows"][0] and stored["1000"] == virtual[2]["workflows"][9]
    assert virtual[2]["workflows"][10]["id"] == 1001, "past the seeded rows, the items are virtual"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (("Nobody", "tasks", "10"), "no model file declares provider 'Nobody'"),
        (("Flow", "workflows", "10"), "provider Flow has no collection 'workflows' (it has: tasks)"),
        (("Flow", "tasks", "0"), "N must be 1 to 10,000,000, not 0"),
        (("Flow", "tasks", "10000001"), "N must be 1 to 10,000,000, not 10,000,001"),
        (("Flow", "tasks", "10", "--at", "2030-01-01T00:00:00"), "--at needs a zone"),
        (("Flow", "tasks", "10", "--at", "soon"), "--at must be an ISO 8601 date-time"),
    ],
)
def test_bad_arguments_exit_2_with_the_reason_and_write_nothing(
    database_url: str, pact_dir: Path, args: tuple[str, ...], reason: str
) -> None:
    refused = seed(database_url, pact_dir, *args)
    assert refused.returncode == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], refused.stderr
    assert refused.stdout == ""
    if make_url(database_url).get_backend_name() == "postgresql":
        assert stored_rows(database_url) == []


def test_the_bulk_path_stores_any_text_as_given(database_url: str) -> None:
    # COPY's text format and JSON both escape with backslashes: ids and documents holding tabs, line breaks,
    # backslashes, quotes and non-ASCII text (compact and pretty-printed JSON) must arrive unchanged.
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        migrate.upgrade(database_url)
    else:
        database_url = url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    awkward = 'tab\t line\n return\r backslash\\ quote" \\N ünïcødé ✓'
    documents = [
        {"id": "tab\tid", "text": awkward},
        {"id": "back\\slash\\N", "nested": {"list": [awkward, 1, None, True]}},
        {"id": "ünï\ncode", "text": "\\t is not a tab"},
    ]
    rows = [(d["id"], json.dumps(d, ensure_ascii=False)) for d in documents[:2]]
    rows.append((documents[2]["id"], json.dumps(documents[2], indent=2)))
    with BulkItems(database_url) as store:
        store.write("Flow", "tasks", rows)
        store.write("Flow", "tasks", rows)
    stored = stored_rows(database_url)
    assert [(i, d, v) for i, d, v, _ in stored] == [(d["id"], d, 1) for d in documents]


def test_a_database_not_at_head_is_refused(pact_dir: Path) -> None:
    with fresh_postgres_database() as url:
        refused = seed(url, pact_dir, "Flow", "tasks", "10", "--at", AT)
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: the database is at revision none, this pactmock needs {_head()}: run `pactmock db upgrade` first"
    )


def _head() -> str:
    from app.store.migrate import head_revision

    head = head_revision()
    assert head is not None
    return head


def test_a_running_mock_reads_the_rows_seeded_under_it(run_mock: Any, database_url: str, pact_dir: Path) -> None:
    """The mock keeps the item reads it made; a seed run tells it (and every other server) to read them again."""
    mock: RunningMock = run_mock(pact_dir, DATABASE_URL=database_url)
    state = {"state": "a task task_000001 exists in state running", "action": "setup"}
    assert requests.post(f"{mock.url}/_mock/provider-states", json=state, timeout=30).status_code == 200
    for _ in range(6):  # enough for both workers to keep both reads
        before = requests.get(f"{mock.url}/api/v1/tasks/task_000001", headers=AUTH, timeout=30)
        assert before.status_code == 200 and before.json()["name"] == "train-llama", before.text
        assert requests.get(f"{mock.url}/api/v1/tasks/task_000150", headers=AUTH, timeout=30).status_code == 404

    seeded = seed(database_url, pact_dir, "Flow", "tasks", "200", "--at", AT)
    assert seeded.returncode == 0, seeded.stderr
    stored = {row[0]: row[1] for row in stored_rows(database_url)}
    for _ in range(6):
        for task in ("task_000001", "task_000150"):
            answer = requests.get(f"{mock.url}/api/v1/tasks/{task}", headers=AUTH, timeout=30)
            assert answer.status_code == 200, answer.text
            assert answer.json() == stored[task]
