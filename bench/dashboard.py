"""The dashboard's first paint with a million rows in the store, beside the same pages over an empty store.

Run from the project root (needs Debian's chromium, as the browser tests do)::

    python -m bench.dashboard                   # 1,000,000 seeded rows, 7 rounds
    python -m bench.dashboard --rows 100000 --rounds 3

Two servers run side by side on fresh SQLite files, over the same pacts (the Epistemix pacts and a generated
collection of 1,000,000 workflows, tests/support/dashboard.py). Into one of them `pactmock seed` first writes the
collection's items 0..N-1 as real rows (`items` table); the other holds none, so its pages are made from the
items' index alone. Each round opens every view on both servers in turn (interleaved, a fresh browser context
each time, so nothing is cached), and reads Chromium's navigation and paint timing: response end, DOM content
loaded, first contentful paint, load (ms from the start of navigation). The medians over the rounds are printed.
This script reports numbers; it never judges them.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.dashboard import (
    CHROMIUM,
    GENERATED_COLLECTION,
    GENERATED_COUNT,
    GENERATED_PROVIDER,
    paint_timing,
    write_generated_pact,
)
from tests.support.mock_process import RunningMock, start_mock, stop_mock

ROOT = Path(__file__).resolve().parents[1]
METRICS = ("responseEnd", "domContentLoaded", "firstContentfulPaint", "load")
VIEWS = {
    "contracts": "/_mock/ui/",
    "data": "/_mock/ui/data",
    "collection, first page": f"/_mock/ui/data/{GENERATED_PROVIDER}/{GENERATED_COLLECTION}",
    "collection, last page": f"/_mock/ui/data/{GENERATED_PROVIDER}/{GENERATED_COLLECTION}?page={GENERATED_COUNT // 25}",
    "runs": "/_mock/ui/data/runs",
    "controls": "/_mock/ui/controls",
}


def pacts(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for pact in (ROOT / "pacts").glob("*.json"):
        (folder / pact.name).write_bytes(pact.read_bytes())
    write_generated_pact(folder)
    return folder


def seed_rows(pact_dir: Path, database: Path, rows: int) -> float:
    """`pactmock seed` writes `rows` items of the generated collection; the wall time it took."""
    started = time.perf_counter()
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "PACT_DIR": str(pact_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "seed", GENERATED_PROVIDER, GENERATED_COLLECTION, str(rows)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"pactmock seed failed:\n{done.stdout}\n{done.stderr}")
    print(done.stdout.strip().splitlines()[-1])
    return time.perf_counter() - started


def stored_rows(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        (count,) = connection.execute(
            "SELECT count(*) FROM items WHERE collection = ?", (GENERATED_COLLECTION,)
        ).fetchone()
    return int(count)


def measure(browser: Any, url: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        # Paint entries are queued after load: give the page its next frame before reading them.
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        return paint_timing(page)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=GENERATED_COUNT, help="rows seeded into the store")
    parser.add_argument("--rounds", type=int, default=7)
    arguments = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as scratch:
        base = Path(scratch)
        seeded_dir, empty_dir = base / "seeded", base / "empty"
        seeded_pacts, empty_pacts = pacts(seeded_dir / "pacts"), pacts(empty_dir / "pacts")
        seconds = seed_rows(seeded_pacts, seeded_dir / "pactmock.sqlite3", arguments.rows)
        rows = stored_rows(seeded_dir / "pactmock.sqlite3")
        print(f"seeded {rows:,} rows into {GENERATED_PROVIDER} {GENERATED_COLLECTION} ({seconds:.0f} s with start-up)")
        servers: dict[str, RunningMock] = {}
        try:
            servers["1,000,000 rows" if rows == 1_000_000 else f"{rows:,} rows"] = start_mock(seeded_pacts, seeded_dir)
            servers["empty store"] = start_mock(empty_pacts, empty_dir)
            timings: dict[tuple[str, str], list[dict[str, float]]] = {}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM)
                for server in servers.values():  # a first visit per view: imports, template compilation, epochs
                    for view in VIEWS.values():
                        measure(browser, server.url + view)
                for _ in range(arguments.rounds):
                    for view_name, view in VIEWS.items():
                        for server_name, server in servers.items():
                            timings.setdefault((view_name, server_name), []).append(measure(browser, server.url + view))
                browser.close()
        finally:
            for server in servers.values():
                stop_mock(server)
    report(timings, arguments.rounds)


def report(timings: dict[tuple[str, str], list[dict[str, float]]], rounds: int) -> None:
    print(f"\nmedian of {rounds} rounds, ms from the start of navigation (Chromium {CHROMIUM})")
    header = f"{'view':<24} {'store':<16} " + " ".join(f"{m:>20}" for m in METRICS)
    print(header)
    for (view, server), samples in timings.items():
        medians = [statistics.median(s[m] for s in samples) for m in METRICS]
        print(f"{view:<24} {server:<16} " + " ".join(f"{m:>20.1f}" for m in medians))


if __name__ == "__main__":
    main()
