"""Consumer side: the pacts epx 1.2.2 holds with Epistemix and S3, recorded from the real client.

Each session below drives the client's own code (`FREDJob.execute()`, `job.status`, `job.stop()`,
`job.results`, the listings, `job.delete()`) against pact-python's mock servers, in one provider state
of the world, so every interaction is what the client really sends. The sessions merge into
`epx-Epistemix.json` and `epx-S3.json`, and the last test checks that the committed `pacts/` files are
exactly that contract. `PACT_UPDATE=1` rewrites them instead; `PACT_OUTPUT_DIR` names another folder
to compare with (and, with `PACT_UPDATE=1`, to write).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import epx.job.fred_job
import pytest
from epx import FREDJob, FREDRun
from epx.core.errors.api_errors import NotFoundError, UnauthorizedUserError
from pact import Pact

from . import epx_interactions as calls
from .epx_archive import NEW_INFECTED, PERIOD, POPULATION, STATE_COUNTS
from .epx_contract import CONSUMER, EPISTEMIX, JOB_ID, LISTING_END_DATE, MISSING_JOB_ID, RUN_ID, S3, START_DATE, TAG
from .epx_session import Client, Session, new_job, prepare_client, record, save_job_locally

COMMITTED = Path(os.environ.get("PACT_OUTPUT_DIR") or Path(__file__).resolve().parents[2] / "pacts")
UPDATE = os.environ.get("PACT_UPDATE") == "1"
PACT_FILES = {EPISTEMIX: "epx-epistemix.json", S3: "epx-s3.json"}


def declare_execution(epistemix: Pact, s3: Pact) -> None:
    """What `execute()` sends: register, upload the inputs, submit the run, upload run and job configs."""
    calls.register_job(epistemix)
    calls.upload_url_of_job_file(epistemix, "input", calls.JOB_EXISTS)
    calls.submit_runs(epistemix)
    calls.upload_url_of_run_config(epistemix)
    calls.upload_url_of_job_file(epistemix, "config", calls.RUN_RUNNING)
    calls.storage_upload(s3, "job_input", calls.JOB_EXISTS)
    calls.storage_upload(s3, f"run_{RUN_ID}_config", calls.RUN_RUNNING)
    calls.storage_upload(s3, "job_config", calls.RUN_RUNNING)


def declare_execute_and_stop(epistemix: Pact, s3: Pact) -> None:
    """A job is run, watched while its run is RUNNING, and stopped."""
    declare_execution(epistemix, s3)
    calls.runs_of_job(epistemix, calls.RUN_RUNNING, "RUNNING")
    calls.status_of_run(epistemix, calls.RUN_RUNNING, "RUNNING")
    calls.stop_runs(epistemix)


def execute_and_stop(client: Client) -> None:
    """Run a job, look at it and its run, stop it."""
    job = new_job()
    job.execute()
    assert (job.job_id, job.run_ids) == (JOB_ID, [RUN_ID])
    assert (client.storage / f"job_data/{JOB_ID}/inputs/{RUN_ID}/run.json").is_file()
    assert str(job.status) == "RUNNING"
    assert [run.id for run in job.list_runs().runs] == [RUN_ID]
    assert str(FREDRun.from_job_and_run_id(JOB_ID, RUN_ID).status) == "RUNNING"
    assert job.stop() == "Stopped 1 run of job 123"


def declare_failure_and_retry(epistemix: Pact, s3: Pact) -> None:
    """A job is run with a time-out, its run fails, and the client retries it once."""
    declare_execution(epistemix, s3)
    calls.runs_of_job(epistemix, calls.RUN_FAILED, "ERROR")
    calls.retry_runs(epistemix)


def fail_and_retry(client: Client) -> None:
    """`execute(time_out=...)` polls, retries the failed run once, then gives up when it is still ERROR."""
    pauses: list[float] = []
    # The poll waits 3 s between looks: record the waits instead of sleeping them.
    client.monkeypatch.setattr(epx.job.fred_job, "time", SimpleNamespace(time=time.time, sleep=pauses.append))
    with pytest.raises(RuntimeError, match=f"FREDJob '{JOB_ID}' failed"):
        new_job().execute(time_out=600)
    assert pauses == [3]  # one look, the retry, one wait, one more look that still sees ERROR


def declare_results(epistemix: Pact, s3: Pact) -> None:
    """The results of a finished run are listed, downloaded and read."""
    calls.result_urls(epistemix)
    calls.status_of_run(epistemix, calls.RUN_DONE, "DONE")
    calls.results_download(s3)


def read_results(client: Client) -> None:
    """Read the results of a finished job through the client's data frames."""
    save_job_locally(JOB_ID, [RUN_ID])
    job = FREDJob.get_job_by_id(JOB_ID)
    assert job is not None
    # `job.results` is a one-shot generator: every reader gets a fresh one (the download is kept).
    dates = job.results.dates()
    assert dates["run_id"].tolist() == [RUN_ID] * len(PERIOD)
    assert dates["sim_date"].dt.strftime("%Y-%m-%d").tolist() == list(PERIOD)
    assert job.results.pop_size()["pop_size"].tolist() == [POPULATION] * len(PERIOD)
    assert job.results.state("INF", "I", "count")["count"].tolist() == list(STATE_COUNTS["I"])
    assert job.results.state("INF", "I", "new")["new"].tolist() == list(NEW_INFECTED)
    assert job.results.epi_weeks()["epi_week"].tolist() == ["2024.01"] * len(PERIOD)
    assert (client.storage / f"job_data/{JOB_ID}/results/{RUN_ID}/work/outputs/conditions.json").is_file()


def declare_listing_and_deletion(epistemix: Pact, s3: Pact) -> None:
    """The user lists their jobs, loads the latest, and deletes it."""
    calls.jobs_by_tags(epistemix)
    calls.latest_job(epistemix)
    calls.delete_job(epistemix)


def list_and_delete(client: Client) -> None:
    """Find a job by its tags, load the latest one, delete it."""
    save_job_locally(JOB_ID, [RUN_ID])
    listing = FREDJob.get_jobs_by_tags(tags=[TAG], start_date=START_DATE, end_date=LISTING_END_DATE)
    assert [(job.id, job.tags, job.created.year) for job in listing.jobs] == [(JOB_ID, [TAG], 2024)]
    job = FREDJob.get_latest_job(tags=[TAG])
    assert job is not None
    assert job.job_id == JOB_ID
    job.delete(interactive=False)
    assert not (client.storage / f"job_data/{JOB_ID}").exists()


def delete_missing_job(client: Client) -> None:
    """Deleting a job the API does not know raises the client's NotFoundError with the API's reason."""
    save_job_locally(MISSING_JOB_ID, [])
    job = FREDJob.get_job_by_id(MISSING_JOB_ID)
    assert job is not None
    with pytest.raises(NotFoundError, match="job 999 does not exist"):
        job.delete(interactive=False)


def look_at_another_users_job(client: Client) -> None:
    """Looking at another user's job raises the client's UnauthorizedUserError with the API's reason."""
    save_job_locally(JOB_ID, [RUN_ID])
    job = FREDJob.get_job_by_id(JOB_ID)
    assert job is not None
    with pytest.raises(UnauthorizedUserError, match="job 123 belongs to another user"):
        str(job.status)


def nothing_on_storage(declare: Callable[[Pact], None]) -> Callable[[Pact, Pact], None]:
    """A declaration for the Epistemix pact only."""
    return lambda epistemix, s3: declare(epistemix)


SESSIONS = {
    "execute and stop": Session(declare_execute_and_stop, execute_and_stop),
    "a failed run is retried": Session(declare_failure_and_retry, fail_and_retry),
    "results of a finished run": Session(declare_results, read_results),
    "listing and deleting": Session(declare_listing_and_deletion, list_and_delete),
    "deleting a missing job": Session(nothing_on_storage(calls.delete_missing_job), delete_missing_job),
    "another user's job": Session(nothing_on_storage(calls.runs_of_another_users_job), look_at_another_users_job),
}


class Recording:
    """The pacts the sessions of this module merged into one folder, and which sessions ran."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.recorded: set[str] = set()

    def run(self, name: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """Record session `name` with a fresh client installation under `home`."""
        record(SESSIONS[name], prepare_client(home, monkeypatch), self.folder)
        self.recorded.add(name)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """The folder the sessions of this module record into."""
    return Recording(tmp_path_factory.mktemp("pacts"))


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_session(name: str, recording: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The client gets what it expects from the mock servers, and sends exactly the declared requests."""
    recording.run(name, tmp_path, monkeypatch)


def comparable(pact_json: dict[str, Any]) -> dict[str, Any]:
    """The pact without metadata that only records which pact-python/pact-rust version wrote it."""
    metadata = {k: v for k, v in pact_json.get("metadata", {}).items() if k not in {"pactRust", "pactPython"}}
    return {**pact_json, "metadata": metadata}


def test_committed_pacts_are_the_recorded_ones(
    recording: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The committed pacts are exactly what the sessions recorded (sessions not run yet are run here)."""
    for name in sorted(set(SESSIONS) - recording.recorded):
        recording.run(name, tmp_path / name.replace(" ", "_").replace("'", ""), monkeypatch)
    for provider, file_name in PACT_FILES.items():
        fresh = json.loads((recording.folder / f"{CONSUMER}-{provider}.json").read_text())
        committed = COMMITTED / file_name
        if UPDATE:
            COMMITTED.mkdir(parents=True, exist_ok=True)
            committed.write_text(json.dumps(fresh, indent=2, sort_keys=True) + "\n")
        assert committed.is_file(), f"{committed} is missing: run this test once with PACT_UPDATE=1"
        assert comparable(json.loads(committed.read_text())) == comparable(fresh), (
            f"{committed} is out of date with the consumer test: rerun it with PACT_UPDATE=1"
        )
