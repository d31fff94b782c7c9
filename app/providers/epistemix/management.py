"""The Epistemix routes a job's owner uses after submitting: one run's status, stopping and retrying runs,
deleting the job, listing jobs, and the result listing. Each calls one function of domain/run_control.py.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs

from ...domain import run_control
from ...domain.errors import Invalid
from ..registry import Answer, HookCall
from .shapes import caller_of, id_of, ids_in_query, listed_job_json, run_json

# How the client spells a results archive's URL path, one per run (provider S3 serves it).
RESULT_PATH = "/s3/results/{job_id}/run_{run_id}.zip"


def run_status(call: HookCall) -> Answer:
    """GET /runs?id=N: the run as a list of one (none for an unknown id, which the client reads as NOT_STARTED)."""
    [run_id] = _one(ids_in_query(call, "id"), "id")
    runs = run_control.run_by_id(call.store, call.policy, run_id, call.now, caller=caller_of(call))
    return Answer(200, {"runs": [run_json(run) for run in runs]})


def stop_runs(call: HookCall) -> Answer:
    """PATCH /runs?id=..&id=..: stop the runs still under way; the others are listed with the reason."""
    run_ids = ids_in_query(call, "id")
    report = run_control.stop_runs(call.store, call.policy, run_ids, call.now, caller=caller_of(call))
    description = f"stopped {len(report.stopped)} of {len(run_ids)} runs"
    return Answer(
        200,
        {
            "description": description,
            "deletedIds": [{"runId": run_id, "reason": "Success"} for run_id in report.stopped],
            "failedIds": [{"runId": run_id, "reason": reason} for run_id, reason in report.failed],
        },
    )


def retry_runs(call: HookCall) -> Answer:
    """POST /runs/retry: start failed runs again. The client form-encodes `runRequestIds` under a JSON
    Content-Type; a JSON body `{"runRequestIds": [..]}` is read too; with none, every failed run is retried."""
    run_ids = _retry_ids(call)
    retried = run_control.retry_runs(call.store, call.policy, run_ids, call.now, caller=caller_of(call))
    return Answer(200, {"status": "Submitted", "runRequestIds": retried})


def delete_job(call: HookCall) -> Answer:
    """DELETE /jobs/N: the job goes with its runs and uploads."""
    job_id = id_of(call.path["job_id"], "the job id")
    run_control.delete_job(call.store, job_id, caller=caller_of(call))
    return Answer(200, {"description": f"job {job_id} deleted"})


def result_urls(call: HookCall) -> Answer:
    """GET /jobs/results?job_id=N: a download URL per run that has ended (the client fetches each once)."""
    [job_id] = _one(ids_in_query(call, "job_id"), "job_id")
    runs = run_control.finished_runs(call.store, call.policy, job_id, call.now, caller=caller_of(call))
    urls = [{"run_id": run.id, "url": call.base_url + RESULT_PATH.format(job_id=job_id, run_id=run.id)} for run in runs]
    return Answer(200, {"urls": urls})


def result_archive(call: HookCall) -> Answer:
    """GET a result URL (provider S3, no auth: the URL is pre-signed): the run's results archive, a zip."""
    job_id = id_of(call.path["job_id"], "the result URL's job id")
    run_id = id_of(call.path["run_id"], "the result URL's run id")
    archive = run_control.result_archive(call.store, call.policy, job_id, run_id, call.now)
    return Answer(200, data=archive, headers={"Content-Type": "application/zip"})


def my_jobs(call: HookCall) -> Answer:
    """GET /jobs/me?tags=..&startDate=..&endDate=..: the caller's jobs with every tag, in the date range."""
    start = _date(call, "startDate")
    end = _date(call, "endDate")
    jobs = run_control.jobs_of(
        call.store,
        call.query.get("tags", []),
        None if start is None else datetime.combine(start, time(), call.now.tzinfo),
        # The end date is a whole day: jobs created on it are in.
        None if end is None else datetime.combine(end + timedelta(days=1), time(), call.now.tzinfo),
        caller=caller_of(call),
    )
    return Answer(200, {"jobs": [listed_job_json(job) for job in jobs]})


def latest_job(call: HookCall) -> Answer:
    """GET /jobs?tags=..&latest=true: the caller's most recent job with every tag, as one object."""
    if (call.query.get("latest") or ["false"])[0].lower() != "true":
        raise Invalid("GET /jobs answers the latest job only: add latest=true")
    job = run_control.latest_job(call.store, call.query.get("tags", []), caller=caller_of(call))
    return Answer(200, listed_job_json(job))


def _one(values: list[int], name: str) -> list[int]:
    if len(values) != 1:
        raise Invalid(f"query parameter {name} must be given once, not {len(values)} times")
    return values


def _date(call: HookCall, name: str) -> date | None:
    values = call.query.get(name)
    if not values:
        return None
    raw = values[0]
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"query parameter {name} must be a date YYYY-MM-DD, not {raw[:40]!r}") from None


def _retry_ids(call: HookCall) -> list[int]:
    if not call.data.strip():
        return []  # no run named: every failed run of the caller's
    raw: Any
    if isinstance(call.body, dict):
        raw = call.body.get("runRequestIds")
    else:
        try:
            text = call.data.decode("ascii")
        except UnicodeDecodeError:
            raise Invalid("the body must be runRequestIds=<id>&runRequestIds=<id>...") from None
        raw = parse_qs(text, keep_blank_values=True).get("runRequestIds")
    if not isinstance(raw, list) or not raw:
        raise Invalid("name the runs to retry: runRequestIds=<id>&runRequestIds=<id>... (or JSON runRequestIds)")
    return [
        raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else id_of(str(raw_id), "runRequestIds")
        for raw_id in raw
    ]
