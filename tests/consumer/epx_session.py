"""Running the real epx client against pact-python's mock servers, one recording session at a time.

A session is one state of the world: the interactions it declares are the only ones its mock servers
answer, and every one of them must be exercised by the client (pact-python's `raises=True`). Each
session merges what it recorded into the pact files of an output folder, so several sessions build up
`epx-Epistemix.json` and `epx-S3.json` together.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from epx import FREDJob, FREDModelConfig, SynthPop
from epx.job.fred_job import _JobModel
from epx.run.fred_run import _RunModel
from pact import Pact

from .epx_contract import (
    CONSUMER,
    END_DATE,
    EPISTEMIX,
    LOCATION,
    MODEL_FILE,
    POPULATION,
    S3,
    S3_MOCK_PORT,
    START_DATE,
    TAG,
    TOKEN,
)

MODEL = """\
condition INF {
    start_state = S
    state S {}
    state I {}
    state R {}
}
"""


@dataclass(frozen=True)
class Client:
    """A client installation: its storage folder, and the patcher its environment is set up with."""

    storage: Path
    monkeypatch: pytest.MonkeyPatch


@dataclass(frozen=True)
class Session:
    """What one session records: the interactions it declares and the client calls that exercise them."""

    declare: Callable[[Pact, Pact], None]  # adds interactions to the Epistemix pact and the S3 pact
    drive: Callable[[Client], None]  # uses the client as a user would


def prepare_client(home: Path, monkeypatch: pytest.MonkeyPatch) -> Client:
    """A fresh client installation under `home`, the way a user sets one up.

    The storage folder holds config.json with the token (the API URL comes from PLATFORM_API_URL,
    set once a mock server runs). The working directory holds the model file, named relatively, so
    the run requests name it the same way on every run.
    """
    storage = home / "epx"
    storage.mkdir(parents=True)
    (storage / "config.json").write_text(json.dumps({"bearer-token": TOKEN}))
    monkeypatch.setenv("EPX_STORAGE_DIR", str(storage))
    for variable in ("JPY_API_TOKEN", "EPX_HUB_URL", "PLATFORM_API_URL"):  # Jupyter mode adds a token refresher
        monkeypatch.delenv(variable, raising=False)
    work = home / "work"
    work.mkdir()
    (work / MODEL_FILE).write_text(MODEL)
    monkeypatch.chdir(work)
    return Client(storage, monkeypatch)


def new_job() -> FREDJob:
    """The job a user configures: one run of the model on a synthetic population, for three days.

    `run_ids` is given explicitly because its default is one list shared by every job of the process.
    """
    config = FREDModelConfig(
        synth_pop=SynthPop(POPULATION, [LOCATION]), start_date=START_DATE, end_date=END_DATE, n_reps=1
    )
    return FREDJob(fred_files=[MODEL_FILE], config=[config], tags=[TAG], run_ids=[])


def save_job_locally(job_id: int, run_ids: list[int]) -> None:
    """Leave job `job_id` in the client's storage as `execute()` leaves it: job.json and each run.json.

    A user who ran a job earlier loads it back with `FREDJob.get_job_by_id`; the files are written with
    the client's own models so they have exactly the format it reads.
    """
    job = new_job()
    job.run_ids.extend(run_ids)
    job._set_job_id(job_id)
    inputs = FREDJob._get_input_dir(job_id)
    inputs.mkdir(parents=True)
    (inputs / "job.json").write_text(_JobModel.from_job(job).model_dump_json(by_alias=True))
    runs = FREDJob._build_runs(job.config, job_id, job.size, job.fred_version, job.fred_files)
    for run, run_id in zip(runs, run_ids, strict=False):  # no ids: the job's runs were never submitted
        run._set_run_id(run_id)
        (inputs / str(run_id)).mkdir()
        (inputs / str(run_id) / "run.json").write_text(_RunModel.from_run(run).model_dump_json())


def has_interactions(pact: Pact) -> bool:
    """Whether anything was declared on `pact` (a mock server for nothing is not started)."""
    return any(True for _ in pact.interactions("HTTP"))


def record(session: Session, client: Client, output: Path) -> None:
    """Serve the session's interactions, let the client exercise them, merge the pacts into `output`.

    The S3 mock server listens on the fixed port the Epistemix examples' storage URLs name; the
    Epistemix one on any free port, which the client learns from PLATFORM_API_URL.
    """
    epistemix = Pact(CONSUMER, EPISTEMIX).with_specification("V4")
    s3 = Pact(CONSUMER, S3).with_specification("V4")
    session.declare(epistemix, s3)
    uses_storage = has_interactions(s3)
    with ExitStack() as servers:  # leaving it checks that every interaction was exercised, and only those
        if uses_storage:
            try:
                servers.enter_context(s3.serve(addr="127.0.0.1", port=S3_MOCK_PORT))
            except RuntimeError as error:
                pytest.fail(f"the S3 mock server needs port {S3_MOCK_PORT} of 127.0.0.1, which is busy: {error}")
        api = servers.enter_context(epistemix.serve(addr="127.0.0.1"))
        client.monkeypatch.setenv("PLATFORM_API_URL", str(api.url).rstrip("/"))
        session.drive(client)
    epistemix.write_file(output, overwrite=False)
    if uses_storage:
        s3.write_file(output, overwrite=False)
