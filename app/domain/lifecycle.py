"""The run lifecycle: NOT_STARTED -> QUEUED -> RUNNING -> DONE (or ERROR), driven by elapsed time.

A run's status is stored with the time it was entered; reading a run works out how far it has come
since then. Steps only go forward, so a change of durations (or of clock) never moves a run back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

STEPS = ("NOT_STARTED", "QUEUED", "RUNNING")
FINAL = ("DONE", "ERROR")
POD_PHASES = {
    "NOT_STARTED": "Pending",
    "QUEUED": "Pending",
    "RUNNING": "Running",
    "DONE": "Succeeded",
    "ERROR": "Failed",
}


@dataclass(frozen=True)
class Durations:
    """How many seconds a run stays in each step, and the final status it then reaches (DONE or ERROR)."""

    not_started: float
    queued: float
    running: float
    outcome: str = "DONE"

    def of(self, status: str) -> float:
        """Seconds a run stays in ``status``, one of STEPS."""
        return {"NOT_STARTED": self.not_started, "QUEUED": self.queued, "RUNNING": self.running}[status]


def rank(status: str) -> int:
    """How far along the lifecycle ``status`` is; both final statuses rank last. A run's rank never goes down."""
    return len(STEPS) if status in FINAL else STEPS.index(status)


def advance(status: str, since: datetime, now: datetime, durations: Durations) -> tuple[str, datetime]:
    """The status a run entered at `since` has reached at `now`, and when it entered it."""
    while status in STEPS:
        leaves_at = since + timedelta(seconds=durations.of(status))
        if leaves_at > now:
            break
        position = STEPS.index(status)
        status = STEPS[position + 1] if position + 1 < len(STEPS) else durations.outcome
        since = leaves_at
    return status, since


def pod_phase(status: str) -> str:
    """The Kubernetes pod phase a run status is reported as; Unknown for a status the lifecycle lacks."""
    return POD_PHASES.get(status, "Unknown")
