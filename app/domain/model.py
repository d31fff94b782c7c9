"""The Epistemix domain's values: jobs, runs, uploads, and the bounds the mock keeps on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .lifecycle import Durations

# Ids are 64-bit signed integers in every backend; the counter stops one short so it never overflows.
MAX_ID = 2**63 - 1
# The longest values the text columns hold; the domain refuses longer ones (a 400, not a database error).
CLIENT_VERSION_LENGTH = 64
CONTENT_TYPE_LENGTH = 255
# The provider_states.name column: longer names (and any NUL) cannot be stored.
STATE_NAME_LENGTH = 255
# A run's status when it is submitted.
NEW_STATUS = "NOT_STARTED"


@dataclass(frozen=True)
class Policy:
    """What the mock is told by its settings: the user it serves, run durations, and bounds on what it holds."""

    user_id: int
    durations: Durations
    # Bounds on what the mock holds, so no client can fill the disk or make one answer huge.
    max_job_upload_bytes: int = 256 * 1024 * 1024
    max_total_upload_bytes: int = 2 * 1024 * 1024 * 1024
    max_listed_runs: int = 5000


@dataclass(frozen=True)
class Job:
    """A registered job: the container of runs and uploads."""

    id: int
    user_id: int
    tags: list[Any]
    created_ts: datetime


@dataclass(slots=True)
class Run:
    """A run of a job; its status moves on with the clock (lifecycle.advance)."""

    id: int
    job_id: int
    user_id: int
    request: dict[str, Any]
    status: str
    status_ts: datetime
    created_ts: datetime
    user_deleted: bool
    epx_client_version: str | None


@dataclass(frozen=True)
class Move:
    """A run's step forward in its lifecycle, from the status it was read with."""

    run: Run
    status: str
    since: datetime


@dataclass(frozen=True)
class RunListing:
    """The runs of a job that one answer lists, and how many the job has in all."""

    runs: list[Run]
    total: int


@dataclass(frozen=True)
class StopReport:
    """What stopping runs did: the runs stopped, and why each of the others was not (the API's reasons)."""

    stopped: list[int]
    failed: list[tuple[int, str]]  # (run id, "NotFound" | "Forbidden" | "InternalError")


@dataclass(frozen=True)
class Upload:
    """What was uploaded under (job, key), without its bytes: those are read a chunk at a time."""

    job_id: int
    key: str
    content_type: str | None
    size: int
    sha256: str
    uploaded_ts: datetime
