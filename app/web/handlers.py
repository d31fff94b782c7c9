"""Domain handlers bound to contract routes: the contract checks the request first, then these act on it.

A handler is bound to (provider, method, path pattern); interactions of other providers on the same
route stay stubbed. Each returns the status and JSON body (or bytes) of its answer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from werkzeug.wrappers import Request

from ..domain.errors import Invalid
from ..domain.lifecycle import pod_phase
from ..domain.services import Epistemix
from ..store.models import JobRow
from ..store.runs import Run


@dataclass
class Call:
    """What a handler gets: the request as parsed, and the service over this request's transaction.

    Query, headers and base URL are worked out when a handler asks: most handlers read one of them.
    """

    service: Epistemix
    json: Any
    data: bytes
    request: Request
    path_params: dict[str, str]
    mock_server_url: str | None = None

    @property
    def content_type(self) -> str | None:
        return self.request.content_type

    @cached_property
    def query(self) -> dict[str, list[str]]:
        return {name: self.request.args.getlist(name) for name in self.request.args}

    @cached_property
    def headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.request.headers.items()}

    @property
    def base_url(self) -> str:
        return self.mock_server_url or self.request.host_url.rstrip("/")


@dataclass
class Answer:
    status: int
    json: Any = None
    data: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Answer]
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


def _job_id(raw: str, where: str) -> int:
    """A job id as the client wrote it: ASCII digits only (str.isdigit also takes other scripts' digits).

    One longer than any id can be (19 digits) names no job; the service answers that with a 404.
    """
    if not ID_DIGITS.fullmatch(raw):
        raise Invalid(f"{where} must be a job id (digits 0-9), not {raw[:40]!r}")
    digits = raw.lstrip("0") or "0"
    return int(digits[:20])


def job_json(job: JobRow) -> dict[str, Any]:
    return {"id": job.id, "userId": job.user_id, "tags": job.tags}


def run_json(run: Run) -> dict[str, Any]:
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
    tags = _object(call).get("tags", [])
    if not isinstance(tags, list):
        raise Invalid(f'"tags" must be a list, not {tags!r}')
    return Answer(200, job_json(call.service.register_job(tags)))


def upload_url(call: Call) -> Answer:
    body = _object(call)
    job_id = _integer(body.get("jobId"), "jobId")
    context, kind = body.get("context"), body.get("type")
    if context not in ("job", "run"):
        raise Invalid(f'"context" must be "job" or "run", not {context!r}')
    if kind not in ("input", "config"):
        raise Invalid(f'"type" must be "input" or "config", not {kind!r}')
    run_id = None if body.get("runId") is None else _integer(body.get("runId"), "runId")
    key = call.service.upload_key(job_id, context, kind, run_id)
    return Answer(200, {"url": f"{call.base_url}/s3/uploads/{job_id}/{key}"})


def submit_runs(call: Call) -> Answer:
    requests = _object(call).get("runRequests")
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise Invalid('"runRequests" must be a list of objects')
    for index, request in enumerate(requests):
        _integer(request.get("jobId"), f"runRequests[{index}].jobId")
    runs = call.service.submit_runs(requests, _client_version(call))
    responses = [
        {"runId": run.id, "jobId": run.job_id, "status": "Submitted", "errors": None, "runRequest": run.request}
        for run in runs
    ]
    return Answer(200, {"runResponses": responses})


def list_runs(call: Call) -> Answer:
    raw = (call.query.get("job_id") or [""])[0]
    listing = call.service.runs_of(_job_id(raw, "query parameter job_id"))
    # The client reads every run it gets; a job with tens of thousands would make one answer of megabytes.
    # The most recent ones are listed, and the header says how many there are in all.
    return Answer(200, {"runs": [run_json(run) for run in listing.runs]}, headers={"X-Total-Count": str(listing.total)})


def put_upload(call: Call) -> Answer:
    job_id = _job_id(call.path_params["job_id"], "the upload URL's job id")
    upload = call.service.store_upload(job_id, call.path_params["key"], call.data, call.content_type)
    # S3 answers an upload with the MD5 of the object as its ETag.
    return Answer(
        200, data=b"", headers={"ETag": f'"{hashlib.md5(call.data).hexdigest()}"', "x-pactmock-sha256": upload.sha256}
    )


@dataclass(frozen=True)
class Binding:
    provider: str
    method: str
    path: re.Pattern[str]
    handler: Handler


BINDINGS = (
    Binding("Epistemix", "POST", re.compile(r"/jobs/register"), register_job),
    Binding("Epistemix", "POST", re.compile(r"/jobs"), upload_url),
    Binding("Epistemix", "POST", re.compile(r"/runs"), submit_runs),
    Binding("Epistemix", "GET", re.compile(r"/runs"), list_runs),
    Binding("S3", "PUT", re.compile(r"/s3/uploads/(?P<job_id>[^/]+)/(?P<key>[^/]+)"), put_upload),
)


def find_handler(provider: str | None, method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    for binding in BINDINGS:
        if binding.provider == provider and binding.method == method:
            found = binding.path.fullmatch(path)
            if found:
                return binding.handler, found.groupdict()
    return None
