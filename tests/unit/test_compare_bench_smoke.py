"""Smoke test of the pactmock-vs-pact-stub benchmark: it runs end to end and writes well-formed rows (never judged).

It starts real servers (`pactmock serve`, and `pact stub` when pact-python-cli is installed) for about a second of
load each. PostgreSQL is used when $TEST_POSTGRES_URL names a server, as in the rest of the suite; without one the
PostgreSQL row must say why it was not run (and with POSTGRES_REQUIRED=1 it must have run). The bench runs as a
user runs it, `python -m bench.compare`, in a subprocess: tests never import bench/.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROW_KEYS = {
    "scenario",
    "title",
    "interactions",
    "server",
    "status",
    "reason",
    "requests",
    "rps",
    "p50_ms",
    "p99_ms",
    "non_2xx",
    "errors",
    "engine",
    "duration_s",
    "peak_rss_bytes",
    "killed_at_bytes",
    "first_200_s",
    "server_header",
    "ratio",
    "ratio_to",
    "notes",
}
TARGET_KEYS = {"target", "measured", "verdict"}


def _run_compare(*args: str) -> str:
    """`python -m bench.compare ARGS` from the project root; what it printed (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.compare", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def _rows(document: dict[str, Any], scenario: str) -> dict[str, dict[str, Any]]:
    return {row["server"]: row for row in document["rows"] if row["scenario"] == scenario}


def _assert_measured(row: dict[str, Any]) -> None:
    assert row["status"] == "ok", row["reason"]
    assert row["rps"] > 0
    assert row["requests"] > 0
    for key in ("p50_ms", "p99_ms", "first_200_s", "peak_rss_bytes"):
        assert row[key] > 0, key
    assert row["non_2xx"] >= 0
    assert row["errors"] >= 0


def test_quick_run_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    postgres = os.environ.get("TEST_POSTGRES_URL", "")

    printed = _run_compare("--quick", "--json", str(out), "--postgres-url", postgres)

    assert "| scenario | server | req/s |" in printed
    assert "PASS/MISS" in printed
    assert "EpistemixStub" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["machine"]["cpu_count"] is None or document["machine"]["cpu_count"] > 0
    assert document["plan"]["quick"] is True
    assert document["servers"]["pactmock"]["workers"] >= 1
    for row in document["rows"]:
        assert set(row) == ROW_KEYS
    for verdict in document["targets"]:
        assert set(verdict) == TARGET_KEYS
        assert verdict["verdict"] in ("PASS", "MISS", "n/a")
    assert {row["scenario"] for row in document["rows"]} == {"a", "b-100", "c-sqlite", "c-postgres"}

    stub_installed = document["servers"]["pact stub"]["installed"]
    for scenario in ("a", "b-100"):
        rows = _rows(document, scenario)
        assert set(rows) == {"pactmock", "pact stub"}
        _assert_measured(rows["pactmock"])
        stub = rows["pact stub"]
        if stub_installed:
            assert stub["status"] in ("ok", "failed", "killed")
        else:
            assert (stub["status"], stub["reason"]) == ("not run", "pact stub not installed")
            assert "not run (pact stub not installed)" in printed
    _assert_measured(_rows(document, "c-sqlite")["pactmock"])
    postgres_row = _rows(document, "c-postgres")["pactmock"]
    if postgres:
        _assert_measured(postgres_row)
    elif os.environ.get("POSTGRES_REQUIRED") == "1":
        pytest.fail("POSTGRES_REQUIRED=1 but TEST_POSTGRES_URL is not set")
    else:
        assert postgres_row["status"] == "not run"
        assert postgres_row["reason"]
    if importlib.util.find_spec("matplotlib") is None:
        assert document["png"] is None
        assert "PNG not written (matplotlib not installed)" in printed
    else:
        assert document["png"] == str(out.with_suffix(".png"))
        assert out.with_suffix(".png").stat().st_size > 0


def test_without_pact_stub_the_stub_column_says_so(tmp_path: Path) -> None:
    out = tmp_path / "x.json"
    missing = tmp_path / "no-such-pact"

    printed = _run_compare("--quick", "--only", "a", "--no-png", "--json", str(out), "--pact-bin", str(missing))

    assert "not run (pact stub not installed)" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    rows = _rows(document, "a")
    _assert_measured(rows["pactmock"])
    assert rows["pact stub"]["status"] == "not run"
    assert rows["pact stub"]["reason"] == "pact stub not installed"
    assert rows["pactmock"]["ratio"] is None
    assert document["servers"]["pact stub"]["installed"] is False
    assert document["png"] is None
