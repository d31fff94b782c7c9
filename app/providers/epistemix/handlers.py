"""The Epistemix and S3 routes the mock serves from state: the contract checks each request first, then these act.

Each reads what it needs from the request, calls one domain service, and shapes the answer the way the
contract's example does.
"""

from __future__ import annotations

import hashlib

from ...domain import services
from ...domain.errors import Invalid
from ..registry import Answer, HookCall
from . import management
from .shapes import body_object, caller_of, client_version, id_of, integer, job_json, run_json


def register_job(call: HookCall) -> Answer:
    """POST /jobs/register: a new job with the tags given."""
    tags = body_object(call).get("tags", [])
    if not isinstance(tags, list):
        raise Invalid(f'"tags" must be a list, not {tags!r}')
    job = services.register_job(call.store, call.policy, tags, call.now, caller=caller_of(call))
    return Answer(200, job_json(job))


def upload_url(call: HookCall) -> Answer:
    """POST /jobs: the pre-signed URL the client PUTs a job's (or run's) input or config to."""
    body = body_object(call)
    job_id = integer(body.get("jobId"), "jobId")
    context, kind = body.get("context"), body.get("type")
    if context not in ("job", "run"):
        raise Invalid(f'"context" must be "job" or "run", not {context!r}')
    if kind not in ("input", "config"):
        raise Invalid(f'"type" must be "input" or "config", not {kind!r}')
    run_id = None if body.get("runId") is None else integer(body.get("runId"), "runId")
    key = services.upload_key(call.store, job_id, context, kind, run_id, caller=caller_of(call))
    return Answer(200, {"url": f"{call.base_url}/s3/uploads/{job_id}/{key}"})


def submit_runs(call: HookCall) -> Answer:
    """POST /runs: one run per run request, all or none."""
    requests = body_object(call).get("runRequests")
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise Invalid('"runRequests" must be a list of objects')
    for index, request in enumerate(requests):
        integer(request.get("jobId"), f"runRequests[{index}].jobId")
    runs = services.submit_runs(
        call.store, call.policy, requests, client_version(call), call.now, caller=caller_of(call)
    )
    responses = [
        {"runId": run.id, "jobId": run.job_id, "status": "Submitted", "errors": None, "runRequest": run.request}
        for run in runs
    ]
    return Answer(200, {"runResponses": responses})


def list_runs(call: HookCall) -> Answer:
    """GET /runs?job_id=N: the job's runs, brought up to now; GET /runs?id=N: one run's status."""
    if "id" in call.query and "job_id" not in call.query:
        return management.run_status(call)
    raw = (call.query.get("job_id") or [""])[0]
    job_id = id_of(raw, "query parameter job_id")
    listing = services.runs_of(call.store, call.policy, job_id, call.now, caller=caller_of(call))
    # The client reads every run it gets; a job with tens of thousands would make one answer of megabytes.
    # The most recent ones are listed, and the header says how many there are in all.
    return Answer(200, {"runs": [run_json(run) for run in listing.runs]}, headers={"X-Total-Count": str(listing.total)})


def put_upload(call: HookCall) -> Answer:
    """PUT to a pre-signed URL: the bytes are kept as S3 would keep them."""
    job_id = id_of(call.path["job_id"], "the upload URL's job id")
    upload = services.store_upload(
        call.store, call.policy, job_id, call.path["key"], call.data, call.content_type, call.now
    )
    # S3 answers an upload with the MD5 of the object as its ETag.
    etag = f'"{hashlib.md5(call.data).hexdigest()}"'
    return Answer(200, data=b"", headers={"ETag": etag, "x-pactmock-sha256": upload.sha256})
