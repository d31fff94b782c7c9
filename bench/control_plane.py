"""What the control plane's state calls cost with real data: reset with N rows present, export and import rows/s.

Run from the project root::

    python -m bench.control_plane                    # SQLite, 10,000 rows, 5 rounds
    python -m bench.control_plane --postgres         # PostgreSQL too ($TEST_POSTGRES_URL)
    python -m bench.control_plane --rows 50000 --rounds 3

A ``pactmock serve`` (2 workers, as the CLI starts it) is started per backend on a fresh database, serving the
Epistemix pacts and the flow example (a generic provider, so items are among the rows). One job, run, upload and
flow task are made through the API, and the export of that state is the template: the bench writes a document holding
--rows rows, a quarter each of jobs, runs, uploads and items (copies of the template rows with new ids), with
the same columns the server exported, so it follows any change of the tables.

Each round, on the same server: PUT /_mock/state with the document (import: rows/s), GET /_mock/state (export:
rows/s), then POST /_mock/reset with those rows present (its time as the client sees it, and as the server
reports it in "milliseconds"). The backends are measured in turn round by round (interleaved), so a shared
machine's load weighs on both alike. The target for reset is under 50 ms (issue 18).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench import compare
from tests.support.epx import EPX_HEADERS, run_request
from tests.support.mock_process import RunningMock, start_mock, stop_mock

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_JSON = ROOT / "bench" / "out" / "control_plane.json"
RESET_TARGET_MS = 50.0
# The tables the rows are spread over, and where each copy's unique key lives.
SPREAD = ("jobs", "runs", "uploads", "items")


@dataclass
class Backend:
    """One server on one backend, and what each round measured on it."""

    name: str
    mock: RunningMock
    document: dict[str, Any] = field(default_factory=dict)
    rows: int = 0
    import_s: list[float] = field(default_factory=list)
    export_s: list[float] = field(default_factory=list)
    reset_ms: list[float] = field(default_factory=list)
    reset_server_ms: list[float] = field(default_factory=list)


def pact_dir(work: Path) -> Path:
    """The Epistemix pacts and the flow example, side by side."""
    folder = work / "pacts"
    folder.mkdir()
    for path in [*(ROOT / "pacts").glob("*.json"), *(ROOT / "examples" / "flow").glob("FlowUI-Flow.*")]:
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def template(url: str) -> dict[str, Any]:
    """The export after one job, run, upload and flow task are made through the API."""
    job = requests.post(url + "/jobs/register", json={"tags": ["bench"]}, headers=EPX_HEADERS, timeout=30).json()
    requests.post(url + "/runs", json={"runRequests": [run_request(job["id"])]}, headers=EPX_HEADERS, timeout=30)
    uploaded = requests.post(
        url + "/jobs", json={"jobId": job["id"], "context": "job", "type": "input"}, headers=EPX_HEADERS, timeout=30
    ).json()
    requests.put(
        uploaded["url"], data=b"PK\x03\x04 bench input", headers={"Content-Type": "application/zip"}, timeout=30
    )
    task = {"labels": {"team": "research"}, "name": "train-llama", "node_count": 4}
    requests.post(url + "/api/v1/tasks", json=task, headers={"Authorization": "Bearer test-flow-ui"}, timeout=30)
    document: dict[str, Any] = requests.get(url + "/_mock/state", timeout=30).json()
    missing = [name for name in SPREAD if not document["tables"].get(name)]
    if missing:
        raise RuntimeError(f"the template has no rows in {missing}: cannot copy them")
    return document


def scaled(document: dict[str, Any], rows: int) -> dict[str, Any]:
    """The document with `rows` rows in all, a quarter per table in SPREAD, every copy with its own key."""
    tables = document["tables"]
    job, run, upload, item = (tables[name][0] for name in SPREAD)
    each = rows // len(SPREAD)
    jobs = [{**job, "id": 1000 + n} for n in range(each)]
    runs = [{**run, "id": 5000 + n, "job_id": 1000 + n % each} for n in range(each)]
    uploads = [{**upload, "job_id": 1000 + n % each, "key": f"bench_{n}"} for n in range(each)]
    if "id" in upload:
        uploads = [{**row, "id": 1000 + n} for n, row in enumerate(uploads)]
    items = []
    for n in range(rows - 3 * each):
        copied = copy.deepcopy(item)
        copied.update(id=f"bench-{n:06d}", seq=100_000 + n)
        if isinstance(copied.get("document"), dict) and "id" in copied["document"]:
            copied["document"]["id"] = copied["id"]
        items.append(copied)
    scaled_tables = {**tables, "jobs": jobs, "runs": runs, "uploads": uploads, "items": items}
    for counter in scaled_tables.get("id_counters", []):
        counter["next_value"] = {"jobs": 1000 + each, "runs": 5000 + each}.get(counter["name"], counter["next_value"])
    return {**document, "tables": scaled_tables}


def one_round(backend: Backend) -> None:
    url = backend.mock.url
    body = json.dumps(backend.document).encode()
    started = time.perf_counter()
    imported = requests.put(url + "/_mock/state", data=body, headers={"Content-Type": "application/json"}, timeout=600)
    backend.import_s.append(time.perf_counter() - started)
    if imported.status_code != 200:
        raise RuntimeError(f"{backend.name}: import answered {imported.status_code}: {imported.text[:300]}")
    backend.rows = imported.json()["rows"]
    started = time.perf_counter()
    exported = requests.get(url + "/_mock/state", timeout=600)
    backend.export_s.append(time.perf_counter() - started)
    if exported.status_code != 200:
        raise RuntimeError(f"{backend.name}: export answered {exported.status_code}")
    started = time.perf_counter()
    reset = requests.post(url + "/_mock/reset", timeout=600)
    backend.reset_ms.append((time.perf_counter() - started) * 1000)
    if reset.status_code != 200:
        raise RuntimeError(f"{backend.name}: reset answered {reset.status_code}: {reset.text[:300]}")
    backend.reset_server_ms.append(float(reset.json()["milliseconds"]))


def summary(backend: Backend) -> dict[str, Any]:
    reset = statistics.median(backend.reset_ms)
    return {
        "backend": backend.name,
        "rows": backend.rows,
        "rounds": len(backend.reset_ms),
        "import_rows_per_s": round(backend.rows / statistics.median(backend.import_s)),
        "export_rows_per_s": round(backend.rows / statistics.median(backend.export_s)),
        "reset_ms_median": round(reset, 1),
        "reset_ms_max": round(max(backend.reset_ms), 1),
        "reset_server_ms_median": round(statistics.median(backend.reset_server_ms), 1),
        "reset_verdict": "PASS" if reset < RESET_TARGET_MS else "MISS",
    }


def _postgres_database(admin_url: str) -> tuple[str, str]:
    name, url = compare.create_database(admin_url)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "app.cli", "db", "upgrade"], env=env, check=True, capture_output=True)
    return name, url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.control_plane", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too ($TEST_POSTGRES_URL)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    args = parser.parse_args(argv)
    admin = os.environ.get("TEST_POSTGRES_URL")
    if args.postgres and not admin:
        parser.error("--postgres needs TEST_POSTGRES_URL")
    backends: list[Backend] = []
    databases: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pactmock-bench-control-") as folder:
        work = Path(folder)
        pacts = pact_dir(work)
        try:
            urls = {"sqlite": f"sqlite:///{work / 'bench.sqlite3'}"}
            if args.postgres and admin:
                name, urls["postgresql"] = _postgres_database(admin)
                databases.append(name)
            for backend, url in urls.items():
                mock = start_mock(pacts, work, "--workers", "2", DATABASE_URL=url, PACTMOCK_JOURNAL_SIZE="0")
                backends.append(Backend(backend, mock))
                backends[-1].document = scaled(template(mock.url), args.rows)
            for number in range(args.rounds):
                for backend in backends if number % 2 == 0 else backends[::-1]:
                    one_round(backend)
        finally:
            for backend in backends:
                stop_mock(backend.mock)
            for name in databases:
                compare.drop_database(admin or "", name)
    rows = [summary(b) for b in backends]
    for row in rows:
        print(
            f"{row['backend']:<10} {row['rows']:>6} rows: import {row['import_rows_per_s']:>7} rows/s, export "
            f"{row['export_rows_per_s']:>7} rows/s, reset median {row['reset_ms_median']} ms (max "
            f"{row['reset_ms_max']}, server {row['reset_server_ms_median']}): {row['reset_verdict']} (< {RESET_TARGET_MS:g} ms)"
        )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    runs = [
        {"backend": b.name, "import_s": b.import_s, "export_s": b.export_s, "reset_ms": b.reset_ms} for b in backends
    ]
    document = {"machine": compare.machine(), "summary": rows, "runs": runs}
    args.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"JSON: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
