"""Smoke test of `python -m bench.entrance_inproc`: each load runs, every answer is 2xx (the tool stops on any
other), and it prints well-formed times (never judged). Run as a user runs it, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("load", "interactions"),
    [("single", 6), ("random", 2_500), ("post", 6)],  # 2,500: past compile_lazily_from, so compiled on a miss
)
def test_each_load_runs_and_prints_its_time_a_request(load: str, interactions: int) -> None:
    command = [sys.executable, "-m", "bench.entrance_inproc", "--load", load, "--interactions", str(interactions)]
    command += ["--requests", "60", "--rounds", "2"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    printed = json.loads(done.stdout.strip().splitlines()[-1])
    assert printed["load"] == load
    assert len(printed["us_per_request"]) == 2 and all(us > 0 for us in printed["us_per_request"])
