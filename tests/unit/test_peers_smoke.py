"""Smoke test of the peers benchmark (`python -m bench.peers`): every installed peer is measured, for ~1 s each.

The npm peers (WireMock's jar, Mockoon's CLI, json-server) are installed only by ``make bench-peers``, which CI does
not run: without them this test is skipped, saying so. With them it runs the harness as a user does, in a
subprocess (tests never import bench/), on the epx stub path, the 6-interaction synthetic pact (single and random
paths) and the stateful POST, and checks that each peer present answered the load and each one missing is
reported as not installed, never silently left out. Figures are not judged: a smoke run is too short.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.serial  # it loads servers: never beside another test's server

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "bench" / ".peers" / "node_modules"
NPM_PEERS = {"WireMock": "wiremock", "Mockoon": "@mockoon/cli", "json-server": "json-server"}


def _installed() -> dict[str, bool]:
    found = {peer: (MODULES / package / "package.json").exists() for peer, package in NPM_PEERS.items()}
    found["WireMock"] = found["WireMock"] and shutil.which("java") is not None
    return found


def _rows(document: dict[str, Any], scenario: str, load: str) -> dict[str, dict[str, Any]]:
    return {r["peer"]: r for r in document["rows"] if r["scenario"] == scenario and r["load"] == load}


def _assert_measured(row: dict[str, Any]) -> None:
    assert row["status"] == "ok", (row["peer"], row["load"], row["reason"])
    assert row["rps"] > 0 and row["requests"] > 0
    assert row["non_2xx"] == 0, (row["peer"], row["load"], row["non_2xx"])
    assert row["p99_ms"] > 0 and row["first_answer_s"] > 0 and row["peak_rss_bytes"] > 0
    # PSS counts a page shared by the tree's processes once: never more than their summed RSS.
    assert 0 < row["peak_pss_bytes"] <= row["peak_rss_bytes"] * 1.05


@pytest.mark.skipif(
    not any(_installed().values()),
    reason="the npm peers are not installed (`make bench-peers`; CI does not run it)",
)
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (the random-path load is a wrk script)")
def test_quick_run_measures_every_installed_peer(tmp_path: Path) -> None:
    out = tmp_path / "peers.json"
    postgres = os.environ.get("TEST_POSTGRES_URL", "")
    command = [sys.executable, "-m", "bench.peers", "--quick", "--sizes", "6", "--warmup", "0.2"]
    command += ["--json", str(out), "--postgres-url", postgres]

    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "PASS/MISS" in done.stdout
    document = json.loads(out.read_text(encoding="utf-8"))
    installed = _installed()
    stub_peers = ["pactmock", "pact stub", "WireMock", "Mockoon"]
    for scenario, load in (("a", "single"), ("s-6", "single"), ("s-6", "random")):
        rows = _rows(document, scenario, load)
        for peer in stub_peers:
            if installed.get(peer, True) and (peer != "pact stub" or document["versions"]["pact stub"]):
                _assert_measured(rows[peer])
            else:
                assert rows[peer]["status"] == "not run" and "not installed" in rows[peer]["reason"]
    _assert_measured(_rows(document, "a", "single")["bare granian"])
    _assert_measured(_rows(document, "a", "single")["bare granian RSGI"])
    posts = _rows(document, "post", "post")
    _assert_measured(posts["pactmock SQLite"])
    if postgres:
        _assert_measured(posts["pactmock PostgreSQL"])
    for peer in ("Mockoon", "json-server"):
        if installed[peer]:
            _assert_measured(posts[peer])
        else:
            assert "not installed" in posts[peer]["reason"]
    assert {v["verdict"] for v in document["targets"]} <= {"PASS", "MISS", "n/a"}
    # The floors beside the targets: the RSGI interface against WSGI, and pactmock against the RSGI floor.
    assert [f["target"] for f in document["floors"]] == ["a. bare RSGI / bare WSGI", "a. pactmock / bare RSGI"]
    assert all(f["measured"].endswith("x)") for f in document["floors"])
