"""Smoke test of the engine benchmark: it runs and writes well-formed numbers (never judged).

The bench runs as a user runs it, `python -m bench.engine`, in a subprocess: tests never import bench/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAT_KEYS = ("mean_ns", "p50_ns", "p99_ns")
# The router sizes the bench measures (bench/engine.py's docstring lists them).
ROUTER_SIZES = [10, 1_000, 100_000]


def _assert_stats(stats: dict[str, float]) -> None:
    assert stats["calls"] >= 1
    assert stats["batch"] >= 1
    for key in STAT_KEYS:
        assert stats[key] > 0, key


def test_quick_run_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "out.json"

    done = subprocess.run(
        [sys.executable, "-m", "bench.engine", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stderr
    printed = done.stdout
    assert "compare_request" in printed
    assert "Router" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["machine"]["python"]
    assert document["machine"]["cpu_count"] is None or document["machine"]["cpu_count"] > 0
    assert document["settings"]["quick"] is True
    assert set(document["compare"]) == {"compare_request", "match_request"}
    for stats in document["compare"].values():
        _assert_stats(stats)
    assert [entry["interactions"] for entry in document["router"]] == ROUTER_SIZES
    for entry in document["router"]:
        assert entry["regex_interactions"] == max(1, entry["interactions"] // 100)
        for key in ("build", "candidates_literal", "route_literal", "candidates_regex", "route_regex"):
            _assert_stats(entry[key])
