"""What the Epistemix and S3 endpoints do: functions over the Store port, one unit of work each.

Each service opens its own unit of work, so the transaction is as long as the service needs and no
longer; the caller (a web handler, the control plane, a test with the in-memory store) never holds one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .errors import Changed, Forbidden, IdsExhausted, Invalid, NotFound, QuotaExceeded
from .lifecycle import advance
from .model import CLIENT_VERSION_LENGTH, CONTENT_TYPE_LENGTH, MAX_ID, Job, Move, Policy, Run, RunListing, Upload
from .ports import Store, UnitOfWork

# Names an upload may be stored under: the job's input/config, or a run's. Nothing else, so a key
# can never name a path outside its job.
UPLOAD_KEY = re.compile(r"(job|run_[0-9]{1,19})_(input|config)")
NO_JOB_HINT = "; register one with POST /jobs/register"
# A submission whose jobs appear or vanish while it is written is tried again this many times.
SUBMIT_ATTEMPTS = 3


def register_job(store: Store, policy: Policy, tags: list[Any], now: datetime, *, caller: int | None = None) -> Job:
    """A new job with the next id, belonging to the caller (the policy's default user when none is named)."""
    with store.writing() as uow:
        return uow.jobs.add(Job(uow.ids.take("jobs"), _owner(policy, caller), tags, now))


def upload_key(
    store: Store, job_id: int, context: str, kind: str, run_id: int | None, *, caller: int | None = None
) -> str:
    """The key a pre-signed upload URL for this job (or run) stores its bytes under."""
    with store.reading() as uow:
        job_of_caller(uow, job_id, caller)
        if context == "job":
            return f"job_{kind}"
        if run_id is None:
            raise Invalid('"runId" is required when "context" is "run"')
        _run_of_job(uow, run_id, job_id)
        return f"run_{run_id}_{kind}"


def submit_runs(
    store: Store,
    policy: Policy,
    requests: Sequence[dict[str, Any]],
    client_version: str | None,
    now: datetime,
    *,
    caller: int | None = None,
) -> list[Run]:
    """All runs are created or none: an unknown job, or another user's, in any request refuses the whole submission.

    The runs are committed when this returns, so the id counter is not held while the answer is built.
    """
    _check_length("the client version", client_version, CLIENT_VERSION_LENGTH)
    for request in requests:
        # An id no column can hold names no job: the statement below would only raise an overflow.
        if not 0 < request["jobId"] <= MAX_ID:
            raise NotFound("job", request["jobId"], NO_JOB_HINT)
    owner = _owner(policy, caller)
    for _ in range(SUBMIT_ATTEMPTS):
        with store.writing() as uow:
            runs = uow.runs.submit(requests, owner, client_version, now)
            if runs is not None:
                return runs
            # Nothing was written: say why, or try again if the reason went away meanwhile (a job set up
            # by a provider state between the write and this check).
            for request in requests:
                job_of_caller(uow, request["jobId"], owner)
            if not uow.ids.has_room("runs", len(requests)):
                raise IdsExhausted(f"no room for {len(requests)} more run ids in a 64-bit column")
    raise RuntimeError(f"submitting {len(requests)} runs failed {SUBMIT_ATTEMPTS} times while their jobs changed")


def runs_of(store: Store, policy: Policy, job_id: int, now: datetime, *, caller: int | None = None) -> RunListing:
    """The job's most recent runs (at most max_listed_runs, oldest first), each brought up to now.

    The steps are stored, so every reader sees the same one.
    """
    with store.writing() as uow:
        job_of_caller(uow, job_id, caller)
        runs = uow.runs.latest_of_job(job_id, policy.max_listed_runs)
        total = len(runs) if len(runs) < policy.max_listed_runs else uow.runs.count_of_job(job_id)
        bring_up_to_date(uow, policy, runs, now)
        return RunListing(runs, total)


def bring_up_to_date(uow: UnitOfWork, policy: Policy, runs: list[Run], now: datetime) -> None:
    """Move each run on to the step it has reached by `now`, and store the moves (every reader sees them)."""
    moves = []
    for run in runs:
        status, since = advance(run.status, run.status_ts, now, policy.durations)
        if status != run.status:
            moves.append(Move(run, status, since))
    uow.runs.advance(moves)


def store_upload(
    store: Store, policy: Policy, job_id: int, key: str, data: bytes, content_type: str | None, now: datetime
) -> Upload:
    """Keep the bytes a client PUT to a pre-signed URL, within the mock's storage bounds."""
    _check_length("the Content-Type", content_type, CONTENT_TYPE_LENGTH)
    with store.writing() as uow:
        _check_key(uow, job_id, key)
        # Lock the job so two uploads to one key queue rather than race to insert. An id no column can
        # hold names no job (and would only overflow the query).
        if not 0 < job_id <= MAX_ID or uow.jobs.lock(job_id) is None:
            raise NotFound("job", job_id)
        _check_room(uow, policy, job_id, key, len(data))
        upload = Upload(job_id, key, content_type, len(data), hashlib.sha256(data).hexdigest(), now)
        return uow.uploads.put(upload, data)


def upload_of(store: Store, job_id: int, key: str) -> Upload:
    """What was uploaded under the key, without its bytes (read them with upload_chunk)."""
    with store.reading() as uow:
        job_of_caller(uow, job_id)
        found = uow.uploads.get(job_id, key)
        if found is None:
            raise NotFound("upload", f"{key!r} of job {job_id}")
        return found


def upload_chunk(store: Store, upload: Upload, offset: int, size: int) -> bytes:
    """Bytes of the upload from offset; Changed when it was replaced since it was looked up."""
    with store.reading() as uow:
        chunk = uow.uploads.chunk(upload.job_id, upload.key, upload.sha256, offset, size)
    if chunk is None:
        raise Changed(f"upload {upload.key!r} of job {upload.job_id} was replaced while being read")
    return chunk


def uploads_of(store: Store, job_id: int) -> list[Upload]:
    """What was uploaded to a job's pre-signed URLs."""
    with store.reading() as uow:
        job_of_caller(uow, job_id)
        return uow.uploads.of_job(job_id)


def _check_room(uow: UnitOfWork, policy: Policy, job_id: int, key: str, size: int) -> None:
    job_bytes, total_bytes = uow.uploads.bytes_held(job_id, key)
    limit = policy.max_job_upload_bytes
    if job_bytes + size > limit:
        raise QuotaExceeded(
            f"job {job_id} holds {job_bytes} bytes of other uploads; with these {size} it would pass "
            f"PACTMOCK_MAX_JOB_UPLOAD_BYTES ({limit})",
            limit,
        )
    limit = policy.max_total_upload_bytes
    if total_bytes + size > limit:
        raise QuotaExceeded(
            f"the mock holds {total_bytes} bytes of other uploads; with these {size} it would pass "
            f"PACTMOCK_MAX_TOTAL_UPLOAD_BYTES ({limit})",
            limit,
        )


def _check_key(uow: UnitOfWork, job_id: int, key: str) -> None:
    found = UPLOAD_KEY.fullmatch(key)
    if found is None:
        keys = "job_input, job_config, run_<id>_input, run_<id>_config"
        raise NotFound("upload URL", f"{key!r} of job {job_id}", f"; keys are {keys}")
    if found.group(1) != "job":
        job_of_caller(uow, job_id)
        _run_of_job(uow, int(found.group(1)[4:]), job_id)


def _owner(policy: Policy, caller: int | None) -> int:
    return policy.user_id if caller is None else caller


def job_of_caller(uow: UnitOfWork, job_id: int, caller: int | None = None) -> Job:
    """The job; NotFound when there is none, Forbidden when `caller` is named and is not its owner."""
    # An id no column can hold names no job; asking the database would only raise an overflow.
    job = uow.jobs.get(job_id) if 0 < job_id <= MAX_ID else None
    if job is None:
        raise NotFound("job", job_id, NO_JOB_HINT)
    if caller is not None and job.user_id != caller:
        raise Forbidden(f"job {job_id} belongs to another user; its runs and uploads are theirs alone")
    return job


def _run_of_job(uow: UnitOfWork, run_id: int, job_id: int) -> Run:
    run = uow.runs.get(run_id) if 0 < run_id <= MAX_ID else None
    if run is None or run.job_id != job_id:
        raise NotFound("run", run_id, f" for job {job_id}")
    return run


def _check_length(what: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise Invalid(f"{what} is {len(value)} characters long; the mock stores at most {limit}")
