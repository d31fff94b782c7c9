"""Smoke test of the soak benchmark: five seconds of the fault mix against the real `pactmock serve` on SQLite.

A short soak judges no trend (memory, latency, rate), but it does judge every answer: no 5xx, none missing, none
wrong for its request, every acknowledged write in the database, a clean server log and a clean stop.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_five_second_soak_on_sqlite_passes_and_prints_its_tables(tmp_path: Path) -> None:
    figures = tmp_path / "soak.json"
    command = [sys.executable, "-m", "bench.soak", "--duration", "5", "--backend", "sqlite", "--json", str(figures)]

    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False)

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "| t (s) | good | bad | ctrl | outage |" in done.stdout
    assert "| check | measured | verdict |" in done.stdout
    document = json.loads(figures.read_text(encoding="utf-8"))
    marks = {verdict["check"]: verdict["verdict"] for verdict in document["verdicts"]}
    assert "FAIL" not in marks.values(), marks
    assert sum(row["good"] + row["bad"] + row["control"] for row in document["intervals"]) > 0
    verification = document["verification"]
    assert verification["jobs"]["acknowledged"] > 0
    assert verification["missing_total"] == 0
    assert document["rss"] and all(sample["total"] > 0 for sample in document["rss"])
