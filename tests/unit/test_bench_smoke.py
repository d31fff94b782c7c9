"""Smoke test of the engine benchmark: it runs and writes well-formed numbers (never judged)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import engine

STAT_KEYS = ("mean_ns", "p50_ns", "p99_ns")


def _assert_stats(stats: dict[str, float]) -> None:
    assert stats["calls"] >= 1
    assert stats["batch"] >= 1
    for key in STAT_KEYS:
        assert stats[key] > 0, key


def test_quick_run_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.json"

    assert engine.main(["--quick", "--json", str(out)]) == 0

    printed = capsys.readouterr().out
    assert "compare_request" in printed
    assert "Router" in printed
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["machine"]["python"]
    assert document["machine"]["cpu_count"] is None or document["machine"]["cpu_count"] > 0
    assert document["settings"]["quick"] is True
    assert set(document["compare"]) == {"compare_request", "match_request"}
    for stats in document["compare"].values():
        _assert_stats(stats)
    assert [entry["interactions"] for entry in document["router"]] == list(engine.SIZES) == [10, 1_000, 100_000]
    for entry in document["router"]:
        assert entry["regex_interactions"] == max(1, entry["interactions"] // 100)
        for key in ("build", "candidates_literal", "route_literal", "candidates_regex", "route_regex"):
            _assert_stats(entry[key])
