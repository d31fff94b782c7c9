"""What a job's owner does to it after submitting: look at one run, stop runs, retry failed ones, list and
delete jobs, and find the runs whose results can be fetched. Functions over the Store port, as services.py.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .errors import Forbidden, NotFound, WrongState
from .lifecycle import FINAL
from .model import MAX_ID, NEW_STATUS, Job, Policy, Run, StopReport
from .ports import Store, UnitOfWork
from .results import RunOutputs, done_archive, error_archive, run_period
from .services import bring_up_to_date, job_of_caller

# A stopped run ends here: of the statuses the API has (and the client accepts), the one that is final and
# not a success. It is marked user-deleted too, as the API marks runs a user stopped.
STOPPED_STATUS = "ERROR"
# The model file inside the job's input archive (the client zips every fred_file into it under this name).
MODEL_MEMBER = "main.fred"
# Uploads larger than this are not read to build results: defaults stand in for what they would say.
MAX_READ_BYTES = 16 * 1024 * 1024


def run_by_id(store: Store, policy: Policy, run_id: int, now: datetime, *, caller: int) -> list[Run]:
    """The run, brought up to now, as a list of one; none when no run has the id (the client reads that as
    NOT_STARTED). Forbidden when it is another user's."""
    with store.writing() as uow:
        run = uow.runs.get(run_id) if 0 < run_id <= MAX_ID else None
        if run is None:
            return []
        if run.user_id != caller:
            raise Forbidden(f"run {run_id} belongs to another user")
        bring_up_to_date(uow, policy, [run], now)
        return [run]


def stop_runs(store: Store, policy: Policy, run_ids: Sequence[int], now: datetime, *, caller: int) -> StopReport:
    """Stop each run that is still under way; say for each other one why not."""
    stopped: list[int] = []
    failed: list[tuple[int, str]] = []
    with store.writing() as uow:
        for run_id in dict.fromkeys(run_ids):
            run = uow.runs.get(run_id) if 0 < run_id <= MAX_ID else None
            if run is None:
                failed.append((run_id, "NotFound"))
                continue
            if run.user_id != caller:
                failed.append((run_id, "Forbidden"))
                continue
            bring_up_to_date(uow, policy, [run], now)
            if run.status in FINAL:
                # Finished already: there is nothing to stop, and the API's reasons have no better word.
                failed.append((run_id, "Forbidden"))
                continue
            uow.runs.set_status(run_id, STOPPED_STATUS, now, user_deleted=True)
            stopped.append(run_id)
    return StopReport(stopped, failed)


def retry_runs(store: Store, policy: Policy, run_ids: Sequence[int], now: datetime, *, caller: int) -> list[int]:
    """Start failed runs again from NOT_STARTED: all of them or, when any cannot be retried, none.

    Naming no run retries every run of the caller's that is in ERROR.
    """
    wanted = list(dict.fromkeys(run_ids)) or _failed_runs_of(store, policy, now, caller)
    with store.writing() as uow:
        runs = []
        for run_id in wanted:
            run = uow.runs.get(run_id) if 0 < run_id <= MAX_ID else None
            if run is None:
                raise NotFound("run", run_id)
            if run.user_id != caller:
                raise Forbidden(f"run {run_id} belongs to another user")
            runs.append(run)
        bring_up_to_date(uow, policy, runs, now)
        for run in runs:
            if run.status != "ERROR":
                raise WrongState(f"run {run.id} is {run.status}: only a run in ERROR can be retried")
        for run in runs:
            uow.runs.set_status(run.id, NEW_STATUS, now, user_deleted=False)
    return wanted


def _failed_runs_of(store: Store, policy: Policy, now: datetime, caller: int) -> list[int]:
    with store.writing() as uow:
        failed = []
        for job in uow.jobs.of_user(caller, None, None):
            runs = uow.runs.latest_of_job(job.id, policy.max_listed_runs)
            bring_up_to_date(uow, policy, runs, now)
            failed += [run.id for run in runs if run.status == "ERROR"]
        return failed


def finished_runs(store: Store, policy: Policy, job_id: int, now: datetime, *, caller: int) -> list[Run]:
    """The job's runs that have ended (DONE or ERROR), brought up to now: those whose results can be fetched."""
    with store.writing() as uow:
        job_of_caller(uow, job_id, caller)
        runs = uow.runs.latest_of_job(job_id, policy.max_listed_runs)
        bring_up_to_date(uow, policy, runs, now)
        return [run for run in runs if run.status in FINAL]


def delete_job(store: Store, job_id: int, *, caller: int) -> None:
    """Remove the caller's job with its runs and uploads; NotFound when there is none (deleting twice)."""
    with store.writing() as uow:
        job_of_caller(uow, job_id, caller)
        uow.jobs.delete(job_id)


def jobs_of(
    store: Store,
    tags: Sequence[str],
    created_from: datetime | None,
    created_until: datetime | None,
    *,
    caller: int,
) -> list[Job]:
    """The caller's jobs created in [created_from, created_until) that carry every tag asked for, newest first."""
    with store.reading() as uow:
        jobs = uow.jobs.of_user(caller, created_from, created_until)
    return [job for job in jobs if all(tag in job.tags for tag in tags)]


def latest_job(store: Store, tags: Sequence[str], *, caller: int) -> Job:
    """The caller's most recent job carrying every tag asked for; NotFound when there is none."""
    jobs = jobs_of(store, tags, None, None, caller=caller)
    if not jobs:
        raise NotFound("job", f"with tags {list(tags)!r}" if tags else "of this user")
    return jobs[0]


def result_archive(store: Store, policy: Policy, job_id: int, run_id: int, now: datetime) -> bytes:
    """The results archive of a run that has ended, as the client downloads it from its result URL.

    A DONE run's archive is generated from the run's period and the model file the client uploaded
    (results.py); an ERROR run's holds its log. Before a run ends there is none: WrongState.
    """
    with store.writing() as uow:
        job_of_caller(uow, job_id)  # the URL is pre-signed: whoever holds it may fetch it
        run = uow.runs.get(run_id) if 0 < run_id <= MAX_ID else None
        if run is None or run.job_id != job_id:
            raise NotFound("run", run_id, f" for job {job_id}")
        bring_up_to_date(uow, policy, [run], now)
        if run.status == "ERROR":
            reason = "the run was stopped by its user" if run.user_deleted else "the simulation failed"
            return error_archive(job_id, run_id, [reason], run.status_ts)
        if run.status != "DONE":
            raise WrongState(f"run {run_id} is {run.status}: its results are there once it is DONE")
        config = _uploaded_json(uow, job_id, f"run_{run_id}_config")
        model_text = _uploaded_model(uow, job_id)
    population = run.request.get("population") if isinstance(run.request.get("population"), dict) else {}
    locations = population.get("locations") if isinstance(population, dict) else None
    outputs = RunOutputs(
        job_id,
        run_id,
        run_period(config if isinstance(config, dict) else run.request, model_text),
        model_text,
        tuple(str(location) for location in locations) if isinstance(locations, list) else (),
        ran_at=run.created_ts,
    )
    return done_archive(outputs)


def _uploaded_bytes(uow: UnitOfWork, job_id: int, key: str) -> bytes | None:
    upload = uow.uploads.get(job_id, key)
    if upload is None or upload.size > MAX_READ_BYTES:
        return None
    return uow.uploads.chunk(job_id, key, upload.sha256, 0, upload.size)


def _uploaded_json(uow: UnitOfWork, job_id: int, key: str) -> Any:
    data = _uploaded_bytes(uow, job_id, key)
    try:
        return None if data is None else json.loads(data)
    except (ValueError, RecursionError):
        return None  # not what the client uploads: the run request's own dates stand in


def _uploaded_model(uow: UnitOfWork, job_id: int) -> str:
    data = _uploaded_bytes(uow, job_id, "job_input")
    if data is None:
        return ""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(MODEL_MEMBER)
            if info.file_size > MAX_READ_BYTES:
                return ""
            return archive.read(info).decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
        return ""  # no model to read: the results describe a default epidemic
