"""The Epistemix and S3 routes the mock serves from state: the contract checks each request first, then these act.

Each reads what it needs from the request, calls one domain service, and shapes the answer the way the
contract's example does.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

from ...domain import services
from ...domain.errors import Invalid
from ...domain.lifecycle import pod_phase
from ...domain.model import Job, Run
from ...domain.users import user_of_token
from ..registry import Answer, Binding, Call

ID_DIGITS = re.compile(r"[0-9]+")


def _object(call: Call) -> dict[str, Any]:
    if not isinstance(call.json, dict):
        raise Invalid("the request body must be a JSON object")
    return call.json


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f'"{name}" must be an integer, not {value!r}')
    return value


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _client_version(call: Call) -> str | None:
    agent = call.headers.get("user-agent", "")
    if agent.startswith("epx_client_"):
        return agent[len("epx_client_") :]
    return call.headers.get("fredcli-version")


def _caller(call: Call) -> int:
    """The user the request's Offline-Token names (the default user for a token of another form)."""
    return user_of_token(call.headers.get("offline-token"), call.policy.user_id)


def _job_id(raw: str, where: str) -> int:
    """A job id as the client wrote it: ASCII digits only (str.isdigit also takes other scripts' digits).

    One longer than any id can be (19 digits) names no job; the service answers that with a 404.
    """
    if not ID_DIGITS.fullmatch(raw):
        raise Invalid(f"{where} must be a job id (digits 0-9), not {raw[:40]!r}")
    digits = raw.lstrip("0") or "0"
    return int(digits[:20])


def job_json(job: Job) -> dict[str, Any]:
    """A job as the API shows it."""
    return {"id": job.id, "userId": job.user_id, "tags": job.tags}


def run_json(run: Run) -> dict[str, Any]:
    """A run as the API shows it."""
    return {
        "id": run.id,
        "jobId": run.job_id,
        "userId": run.user_id,
        "createdTs": _timestamp(run.created_ts),
        "request": run.request,
        "podPhase": pod_phase(run.status),
        "containerStatus": None,
        "status": run.status,
        "userDeleted": run.user_deleted,
        "epxClientVersion": run.epx_client_version,
    }


def register_job(call: Call) -> Answer:
    """POST /jobs/register: a new job with the tags given."""
    tags = _object(call).get("tags", [])
    if not isinstance(tags, list):
        raise Invalid(f'"tags" must be a list, not {tags!r}')
    job = services.register_job(call.store, call.policy, tags, call.now, caller=_caller(call))
    return Answer(200, job_json(job))


def upload_url(call: Call) -> Answer:
    """POST /jobs: the pre-signed URL the client PUTs a job's (or run's) input or config to."""
    body = _object(call)
    job_id = _integer(body.get("jobId"), "jobId")
    context, kind = body.get("context"), body.get("type")
    if context not in ("job", "run"):
        raise Invalid(f'"context" must be "job" or "run", not {context!r}')
    if kind not in ("input", "config"):
        raise Invalid(f'"type" must be "input" or "config", not {kind!r}')
    run_id = None if body.get("runId") is None else _integer(body.get("runId"), "runId")
    key = services.upload_key(call.store, job_id, context, kind, run_id, caller=_caller(call))
    return Answer(200, {"url": f"{call.base_url}/s3/uploads/{job_id}/{key}"})


def submit_runs(call: Call) -> Answer:
    """POST /runs: one run per run request, all or none."""
    requests = _object(call).get("runRequests")
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise Invalid('"runRequests" must be a list of objects')
    for index, request in enumerate(requests):
        _integer(request.get("jobId"), f"runRequests[{index}].jobId")
    runs = services.submit_runs(
        call.store, call.policy, requests, _client_version(call), call.now, caller=_caller(call)
    )
    responses = [
        {"runId": run.id, "jobId": run.job_id, "status": "Submitted", "errors": None, "runRequest": run.request}
        for run in runs
    ]
    return Answer(200, {"runResponses": responses})


def list_runs(call: Call) -> Answer:
    """GET /runs?job_id=: the job's runs, brought up to now."""
    raw = (call.query.get("job_id") or [""])[0]
    job_id = _job_id(raw, "query parameter job_id")
    listing = services.runs_of(call.store, call.policy, job_id, call.now, caller=_caller(call))
    # The client reads every run it gets; a job with tens of thousands would make one answer of megabytes.
    # The most recent ones are listed, and the header says how many there are in all.
    return Answer(200, {"runs": [run_json(run) for run in listing.runs]}, headers={"X-Total-Count": str(listing.total)})


def put_upload(call: Call) -> Answer:
    """PUT to a pre-signed URL: the bytes are kept as S3 would keep them."""
    job_id = _job_id(call.path_params["job_id"], "the upload URL's job id")
    upload = services.store_upload(
        call.store, call.policy, job_id, call.path_params["key"], call.data, call.content_type, call.now
    )
    # S3 answers an upload with the MD5 of the object as its ETag.
    etag = f'"{hashlib.md5(call.data).hexdigest()}"'
    return Answer(200, data=b"", headers={"ETag": etag, "x-pactmock-sha256": upload.sha256})


BINDINGS = (
    Binding("Epistemix", "POST", re.compile(r"/jobs/register"), register_job),
    Binding("Epistemix", "POST", re.compile(r"/jobs"), upload_url),
    Binding("Epistemix", "POST", re.compile(r"/runs"), submit_runs),
    Binding("Epistemix", "GET", re.compile(r"/runs"), list_runs),
    Binding("S3", "PUT", re.compile(r"/s3/uploads/(?P<job_id>[^/]+)/(?P<key>[^/]+)"), put_upload),
)
