"""The wall time of a real epx job against `pactmock serve` at the default lifecycle timings.

Run from the project root::

    python -m bench.epx_end_to_end                  # SQLite, a fresh file
    python -m bench.epx_end_to_end --database-url postgresql+psycopg2://postgres@127.0.0.1:5432/NAME

A job of two model configurations with two repetitions each (four runs, 365 days) is executed with the
epx 1.2.2 client, waited for until DONE, and its results are read (dates and one state count). Prints the
time of each step and the size of one run's result archive. Nothing is asserted: this measures.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import tempfile
import time
from pathlib import Path

import requests

from tests.support.mock_process import start_mock, stop_mock

ROOT = Path(__file__).resolve().parents[1]
MODEL = "condition INF {\n    start_state = S\n    state S {}\n    state I {}\n    state R {}\n}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a migrated PostgreSQL database [a fresh SQLite file]")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="pactmock-e2e-"))
    env = {"DATABASE_URL": args.database_url} if args.database_url else {}
    mock = start_mock(ROOT / "pacts", folder, **env)
    try:
        run(mock.url, folder)
    finally:
        stop_mock(mock)


def run(url: str, folder: Path) -> None:
    storage, work = folder / "epx", folder / "work"
    storage.mkdir()
    work.mkdir()
    (work / "model.fred").write_text(MODEL)
    token = base64.b64encode(json.dumps({"user_id": 456}).encode()).decode().rstrip("=")
    (storage / "config.json").write_text(json.dumps({"bearer-token": token}))
    os.environ.update(EPX_STORAGE_DIR=str(storage), PLATFORM_API_URL=url)
    os.chdir(work)
    from epx import FREDJob, FREDModelConfig, SynthPop

    population = SynthPop("US_2010.v5", ["Loving_County_TX"])
    period = {"start_date": "2024-01-01", "end_date": "2024-12-30", "n_reps": 2}
    started = time.monotonic()
    job = FREDJob(
        fred_files=["model.fred"],
        config=[
            FREDModelConfig(synth_pop=population, **period),
            FREDModelConfig(synth_pop=population, model_params={"transmissibility": 0.5}, **period),
        ],
        tags=["bench"],
        run_ids=[],
    )
    job.execute()
    submitted = time.monotonic()
    while str(job.status) != "DONE":
        time.sleep(0.25)
    done = time.monotonic()
    days = len(job.results.dates())
    infectious = len(job.results.state("INF", "I", "count"))
    read = time.monotonic()
    listed = requests.get(
        f"{url}/jobs/results?job_id={job.job_id}",
        headers={
            "Offline-Token": f"Bearer {token}",
            "content-type": "application/json",
            "fredcli-version": "0.4.0",
            "user-agent": "epx_client_1.2.2",
        },
        timeout=30,
    ).json()["urls"]
    archive = requests.get(listed[0]["url"], timeout=30)
    print(f"execute (register, uploads, submit of {len(job.run_ids)} runs): {submitted - started:.2f} s")
    print(f"waiting until DONE at the default lifecycle timings: {done - submitted:.2f} s")
    print(f"results read (dates: {days} rows, INF.I: {infectious} rows): {read - done:.2f} s")
    print(f"end to end: {read - started:.2f} s")
    print(
        f"one run's 365-day result archive: {len(archive.content):,} bytes, {archive.elapsed.total_seconds() * 1000:.0f} ms to fetch"
    )


if __name__ == "__main__":
    main()
