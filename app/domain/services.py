"""What the Epistemix and S3 endpoints do, over one session (one transaction per request)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ..store.models import CLIENT_VERSION_LENGTH, CONTENT_TYPE_LENGTH, RunRow, UploadRow
from ..store.repositories import MAX_ID, IdAllocator, IdsExhausted, JobRepository, UploadFacts, UploadRepository
from ..store.runs import Move, Run, RunRepository
from .errors import Invalid, NotFound, QuotaExceeded
from .lifecycle import Durations, advance

# Names an upload may be stored under: the job's input/config, or a run's. Nothing else, so a key
# can never name a path outside its job.
UPLOAD_KEY = re.compile(r"(job|run_[0-9]{1,19})_(input|config)")
NO_JOB_HINT = "; register one with POST /jobs/register"
# A submission whose jobs appear or vanish while it is written is tried again this many times.
SUBMIT_ATTEMPTS = 3


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Policy:
    user_id: int
    durations: Durations
    # Bounds on what the mock holds, so no client can fill the disk or make one answer huge.
    max_job_upload_bytes: int = 256 * 1024 * 1024
    max_total_upload_bytes: int = 2 * 1024 * 1024 * 1024
    max_listed_runs: int = 5000


@dataclass(frozen=True)
class RunListing:
    runs: list[Run]
    total: int


class Epistemix:
    def __init__(self, session: Session, policy: Policy, now: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.policy = policy
        self.now = now
        self.ids = IdAllocator(session)
        self.jobs = JobRepository(session)
        self.runs = RunRepository(session)
        self.uploads = UploadRepository(session)

    # jobs

    def register_job(self, tags: list[Any]) -> Any:
        return self.jobs.add(self.ids.take("jobs"), self.policy.user_id, tags, self.now())

    def upload_key(self, job_id: int, context: str, kind: str, run_id: int | None) -> str:
        """The key a pre-signed upload URL for this job (or run) stores its bytes under."""
        self._job(job_id)
        if context == "job":
            return f"job_{kind}"
        if run_id is None:
            raise Invalid('"runId" is required when "context" is "run"')
        self._run_of_job(run_id, job_id)
        return f"run_{run_id}_{kind}"

    # runs

    def submit_runs(self, requests: Sequence[dict[str, Any]], client_version: str | None) -> list[Run]:
        """All runs are created or none: an unknown job in any request refuses the whole submission.

        The runs are committed when this returns, so the id counter is not held while the answer is built.
        """
        _check_length("the client version", client_version, CLIENT_VERSION_LENGTH)
        for request in requests:
            # An id no column can hold names no job: the statement below would only raise an overflow.
            if not 0 < request["jobId"] <= MAX_ID:
                raise NotFound("job", request["jobId"], NO_JOB_HINT)
        now = self.now()
        for _ in range(SUBMIT_ATTEMPTS):
            runs = self.runs.submit(requests, self.policy.user_id, client_version, now)
            if runs is not None:
                return runs
            # Nothing was written: say why, or try again if the reason went away meanwhile (a job set up
            # by a provider state between the write and this check).
            for request in requests:
                self._job(request["jobId"])
            if not self.ids.has_room("runs", len(requests)):
                raise IdsExhausted(f"no room for {len(requests)} more run ids in a 64-bit column")
        raise RuntimeError(f"submitting {len(requests)} runs failed {SUBMIT_ATTEMPTS} times while their jobs changed")

    def runs_of(self, job_id: int) -> RunListing:
        """The job's most recent runs (at most max_listed_runs, oldest first), each brought up to now;
        stored so every reader sees the same step."""
        self._job(job_id)
        runs = self.runs.latest_of_job(job_id, self.policy.max_listed_runs)
        total = len(runs) if len(runs) < self.policy.max_listed_runs else self.runs.count_of_job(job_id)
        self._bring_up_to_date(runs)
        return RunListing(runs, total)

    def _bring_up_to_date(self, runs: list[Run]) -> None:
        now, durations = self.now(), self.policy.durations
        moves = []
        for run in runs:
            status, since = advance(run.status, run.status_ts, now, durations)
            if status != run.status:
                moves.append(Move(run, status, since))
        self.runs.advance(moves)

    # uploads

    def store_upload(self, job_id: int, key: str, data: bytes, content_type: str | None) -> UploadRow:
        _check_length("the Content-Type", content_type, CONTENT_TYPE_LENGTH)
        self._check_key(job_id, key)
        # Lock the job so two uploads to one key queue rather than race to insert. An id no column can
        # hold names no job (and would only overflow the query).
        if not 0 < job_id <= MAX_ID or self.jobs.get_for_update(job_id) is None:
            raise NotFound("job", job_id)
        self._check_room(job_id, key, len(data))
        upload = UploadRow(
            job_id=job_id,
            key=key,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            uploaded_ts=self.now(),
        )
        return self.uploads.put(upload)

    def upload(self, job_id: int, key: str) -> UploadRow:
        self._job(job_id)
        found = self.uploads.get(job_id, key)
        if found is None:
            raise NotFound("upload", f"{key!r} of job {job_id}")
        return found

    def upload_facts(self, job_id: int, key: str) -> UploadFacts:
        """What was uploaded under the key, without its bytes (read them with upload_chunk)."""
        self._job(job_id)
        found = self.uploads.facts(job_id, key)
        if found is None:
            raise NotFound("upload", f"{key!r} of job {job_id}")
        return found

    def upload_chunk(self, job_id: int, key: str, sha256: str, offset: int, size: int) -> bytes | None:
        """Bytes of the upload from offset; None when the upload was replaced since its facts were read."""
        return self.uploads.chunk(job_id, key, sha256, offset, size)

    def _check_room(self, job_id: int, key: str, size: int) -> None:
        job_bytes, total_bytes = self.uploads.bytes_held(job_id, key)
        limit = self.policy.max_job_upload_bytes
        if job_bytes + size > limit:
            raise QuotaExceeded(
                f"job {job_id} holds {job_bytes} bytes of other uploads; with these {size} it would pass "
                f"PACTMOCK_MAX_JOB_UPLOAD_BYTES ({limit})",
                limit,
            )
        limit = self.policy.max_total_upload_bytes
        if total_bytes + size > limit:
            raise QuotaExceeded(
                f"the mock holds {total_bytes} bytes of other uploads; with these {size} it would pass "
                f"PACTMOCK_MAX_TOTAL_UPLOAD_BYTES ({limit})",
                limit,
            )

    def uploads_of(self, job_id: int) -> Sequence[UploadRow]:
        self._job(job_id)
        return self.uploads.for_job(job_id)

    # checks

    def _check_key(self, job_id: int, key: str) -> None:
        found = UPLOAD_KEY.fullmatch(key)
        if found is None:
            keys = "job_input, job_config, run_<id>_input, run_<id>_config"
            raise NotFound("upload URL", f"{key!r} of job {job_id}", f"; keys are {keys}")
        if found.group(1) != "job":
            self._job(job_id)
            self._run_of_job(int(found.group(1)[4:]), job_id)

    def _job(self, job_id: int) -> Any:
        # An id no column can hold names no job; asking the database would only raise an overflow.
        job = self.jobs.get(job_id) if 0 < job_id <= MAX_ID else None
        if job is None:
            raise NotFound("job", job_id, NO_JOB_HINT)
        return job

    def _run_of_job(self, run_id: int, job_id: int) -> RunRow:
        run = self.runs.get(run_id) if 0 < run_id <= MAX_ID else None
        if run is None or run.job_id != job_id:
            raise NotFound("run", run_id, f" for job {job_id}")
        return run


def _check_length(what: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise Invalid(f"{what} is {len(value)} characters long; the mock stores at most {limit}")
