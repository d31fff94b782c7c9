"""Reading an Epistemix request and writing its answer the way the API (and the epx client) spell them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ...domain.errors import Invalid
from ...domain.lifecycle import pod_phase
from ...domain.model import Job, Run
from ...domain.users import user_of_token
from ..registry import HookCall

ID_DIGITS = re.compile(r"[0-9]+")


def body_object(call: HookCall) -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    if not isinstance(call.body, dict):
        raise Invalid("the request body must be a JSON object")
    return call.body


def integer(value: Any, name: str) -> int:
    """`value`, which must be an integer (not a bool), named `name` in the refusal."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f'"{name}" must be an integer, not {value!r}')
    return value


def timestamp(value: datetime) -> str:
    """A time as the API writes it: UTC, milliseconds, Z."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def client_version(call: HookCall) -> str | None:
    """The epx version the client names in its User-Agent (else its fredcli-version header)."""
    agent = call.headers.get("user-agent") or ""
    if agent.startswith("epx_client_"):
        return agent[len("epx_client_") :]
    return call.headers.get("fredcli-version")


def caller_of(call: HookCall) -> int:
    """The user the request's Offline-Token names (the default user for a token of another form)."""
    return user_of_token(call.headers.get("offline-token"), call.policy.user_id)


def id_of(raw: str, where: str) -> int:
    """An id as the client wrote it: ASCII digits only (str.isdigit also takes other scripts' digits).

    One longer than any id can be (19 digits) names no job; the service answers that with a 404.
    """
    if not ID_DIGITS.fullmatch(raw):
        raise Invalid(f"{where} must be an id (digits 0-9), not {raw[:40]!r}")
    digits = raw.lstrip("0") or "0"
    return int(digits[:20])


def job_json(job: Job) -> dict[str, Any]:
    """A job as the API shows it."""
    return {"id": job.id, "userId": job.user_id, "tags": job.tags}


def listed_job_json(job: Job) -> dict[str, Any]:
    """A job as the listings (/jobs/me, /jobs?latest=true) show it: with the time it was created."""
    return {**job_json(job), "created": timestamp(job.created_ts)}


def ids_in_query(call: HookCall, name: str) -> list[int]:
    """Every value of a repeated query parameter (`?id=1&id=2`), as run or job ids."""
    return [id_of(raw, f"query parameter {name}") for raw in call.query.get(name, [])]


def run_json(run: Run) -> dict[str, Any]:
    """A run as the API shows it."""
    return {
        "id": run.id,
        "jobId": run.job_id,
        "userId": run.user_id,
        "createdTs": timestamp(run.created_ts),
        "request": run.request,
        "podPhase": pod_phase(run.status),
        "containerStatus": None,
        "status": run.status,
        "userDeleted": run.user_deleted,
        "epxClientVersion": run.epx_client_version,
    }
