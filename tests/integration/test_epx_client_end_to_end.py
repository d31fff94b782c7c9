"""The real epx 1.2.2 client against `pactmock serve`, on SQLite and on PostgreSQL (issue 14).

A job with two model configurations and two repetitions each runs to DONE; its results download and each of
the client's readers gives a data frame of the configured period, one realisation per run; the job is
listed, a second user is refused it, a run is stopped, and the job is deleted (a second delete is a 404).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import RunningMock

epx = pytest.importorskip("epx")
from epx import FREDJob, FREDModelConfig, SynthPop  # noqa: E402
from epx.core.errors.api_errors import NotFoundError, UnauthorizedUserError  # noqa: E402

PACT_DIR = Path(__file__).resolve().parents[2] / "pacts"
ALICE, BOB = 7001, 7002
DAYS = 31  # 2024-01-01 .. 2024-01-31
MODEL = """
simulator {
    start_date = 2024-Jan-01
}
condition INF {
    start_state = S
    state S {}
    state E {}
    state I {}
    state R {}
}
"""


def token_of(user_id: int) -> str:
    return base64.b64encode(json.dumps({"user_id": user_id}).encode()).decode().rstrip("=")


@pytest.fixture
def client_of(run_mock: Any, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Point the client at a fresh mock; `client_of(user)` makes that user's token the one it sends."""
    mock: RunningMock = run_mock(
        PACT_DIR,
        DATABASE_URL=database_url,
        PACTMOCK_RUN_NOT_STARTED_SECONDS="0.2",
        PACTMOCK_RUN_QUEUED_SECONDS="0.2",
        PACTMOCK_RUN_RUNNING_SECONDS="1.5",
    )
    storage = tmp_path / "epx"
    storage.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "model.fred").write_text(MODEL)
    for variable in ("JPY_API_TOKEN", "EPX_HUB_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("EPX_STORAGE_DIR", str(storage))
    monkeypatch.setenv("PLATFORM_API_URL", mock.url)
    monkeypatch.chdir(work)

    def as_user(user_id: int) -> RunningMock:
        (storage / "config.json").write_text(json.dumps({"bearer-token": token_of(user_id)}))
        return mock

    yield as_user
    log = mock.log()
    assert "Traceback" not in log, log
    assert "breaks the contract" not in log, log


def wait_for(job: Any, status: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while str(job.status) != status:
        assert time.monotonic() < deadline, f"job {job.job_id} is {job.status}, not {status}, after {seconds} s"
        time.sleep(0.2)


def test_a_job_runs_to_done_and_its_results_read_as_the_period_it_was_given(client_of: Any) -> None:
    client_of(ALICE)
    started = time.monotonic()
    config = dict(start_date="2024-01-01", end_date="2024-01-31", n_reps=2)
    job = FREDJob(
        fred_files=["model.fred"],
        config=[
            FREDModelConfig(synth_pop=SynthPop("US_2010.v5", ["Loving_County_TX"]), **config),
            # The recorded contract has runs with a synthetic population (it may not be null).
            FREDModelConfig(
                synth_pop=SynthPop("US_2010.v5", ["Loving_County_TX"]), model_params={"transmissibility": 0.5}, **config
            ),
        ],
        tags=["e2e"],
        run_ids=[],
    )
    job.execute()
    assert len(job.run_ids) == 4
    wait_for(job, "DONE")
    print(f"end-to-end job: {time.monotonic() - started:.1f} s to DONE")

    dates = job.results.dates()
    assert len(dates) == 4 * DAYS and sorted(set(dates["run_id"])) == sorted(job.run_ids)
    assert str(dates["sim_date"].min().date()) == "2024-01-01" and str(dates["sim_date"].max().date()) == "2024-01-31"
    assert len(job.results.pop_size()) == 4 * DAYS
    assert len(job.results.epi_weeks()) == 4 * DAYS
    infectious = job.results.state("INF", "I", "count")
    assert len(infectious) == 4 * DAYS
    # One realisation per run: no two runs have the same curve.
    curves = {tuple(group["count"]) for _, group in infectious.groupby("run_id")}
    assert len(curves) == 4
    assert len(job.results.print_output()) > 0
    attack_rate = job.results.numeric_var("attack_rate")
    assert len(attack_rate) == 4 * DAYS and sorted(set(attack_rate["run_id"])) == sorted(job.run_ids)

    listed = FREDJob.get_jobs_by_tags(tags=["e2e"], start_date="2024-01-01", end_date="2099-12-31")
    assert job.job_id in [each.id for each in listed.jobs]
    assert FREDJob.get_latest_job(tags=["e2e"]).job_id == job.job_id

    client_of(BOB)
    with pytest.raises(UnauthorizedUserError):
        str(job.status)
    with pytest.raises(UnauthorizedUserError):
        job.delete(interactive=False)

    client_of(ALICE)
    job.delete(interactive=False)
    with pytest.raises(NotFoundError):
        job.delete(interactive=False)


def test_a_running_job_is_stopped(client_of: Any) -> None:
    client_of(ALICE)
    job = FREDJob(
        fred_files=["model.fred"],
        config=[
            FREDModelConfig(
                synth_pop=SynthPop("US_2010.v5", ["Loving_County_TX"]), start_date="2024-01-01", end_date="2024-01-10"
            )
        ],
        tags=["stop-me"],
        run_ids=[],
    )
    job.execute()
    wait_for(job, "RUNNING")
    assert job.stop()
    time.sleep(2)  # past when it would have been DONE
    assert str(job.status) == "ERROR"
