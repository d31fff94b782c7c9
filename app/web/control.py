"""The control plane under /_mock/, plus / and /health where no served pact defines them.

/_mock/ and /_mock/health are the same pages as / and /health, always there: a pact may define GET /.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, cast

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import String
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError

from .. import __version__
from ..domain.errors import NotFound
from ..domain.services import Epistemix
from ..domain.states import UnknownId, apply_state
from ..store.models import ProviderStateRow
from .problems import problem
from .spool import Changed, spooled
from .state import MockState

log = logging.getLogger(__name__)
control = Blueprint("control", __name__)


def _state() -> MockState:
    state: MockState = current_app.config["MOCK_STATE"]
    return state


LOOPBACK_NETWORKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def _is_loopback(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in LOOPBACK_NETWORKS)


def _presented_token() -> str | None:
    """The admin token from a header, or from ?token= for callers that can only be given a URL (the verifier)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[len("Bearer ") :]
    return request.headers.get("X-Mock-Admin-Token") or request.args.get("token")


def _cross_origin_refusal() -> Response | None:
    """A web page (any site open in a browser here is a loopback client) must not drive the control plane."""
    origin = request.headers.get("Origin")
    allowed = _state().settings.control_cors_origins
    if origin is not None and origin not in allowed and "*" not in allowed:
        return problem(
            403,
            "Forbidden",
            f"the /_mock/ control plane does not answer web pages from {origin[:200]!r}; list the origin in "
            "PACTMOCK_CONTROL_CORS_ORIGINS to allow it",
            "control-plane-cross-origin",
        )
    if origin is None and request.headers.get("Sec-Fetch-Site") == "cross-site":
        return problem(
            403,
            "Forbidden",
            "the /_mock/ control plane does not answer cross-site requests",
            "control-plane-cross-origin",
        )
    return None


# Says only whether the mock and its database are up: open to every caller, so healthchecks need no token.
PUBLIC_CONTROL_PATHS = frozenset({"/_mock/health"})


@control.before_request
def guard_control_plane() -> Response | None:
    if not request.path.startswith("/_mock") or request.path in PUBLIC_CONTROL_PATHS:
        return None
    refused = _cross_origin_refusal()
    if refused is not None:
        return refused
    token = _state().settings.admin_token
    if token is None:
        if _is_loopback(request.remote_addr):
            return None
        return problem(
            403,
            "Forbidden",
            "the /_mock/ control plane answers loopback clients only; set MOCK_ADMIN_TOKEN on the mock "
            "and send it as 'Authorization: Bearer <token>' to call it from elsewhere",
            "control-plane-forbidden",
        )
    presented = _presented_token()
    if presented is not None and hmac.compare_digest(presented.encode(), token.encode()):
        return None
    return problem(
        401,
        "Unauthorized",
        "the /_mock/ control plane needs MOCK_ADMIN_TOKEN as 'Authorization: Bearer <token>', "
        "'X-Mock-Admin-Token' or ?token= (value withheld)",
        "control-plane-unauthorized",
    )


@control.get("/health")
@control.get("/_mock/health")
def health() -> Response:
    database = _state().database
    report: dict[str, Any] = {"status": "up", "backend": database.backend}
    try:
        database.ping()
    except SQLAlchemyError as exc:
        log.warning("health: database unreachable: %s", exc.__class__.__name__)
        report = {"status": "down", "backend": database.backend, "error": exc.__class__.__name__}
    healthy = report["status"] == "up"
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "timestamp": datetime.now(UTC).isoformat(),
        "database": report,
    }
    response = jsonify(body)
    response.status_code = 200 if healthy else 503
    return response


@control.get("/")
@control.get("/_mock/")
@control.get("/_mock")
def index() -> Response:
    state = _state()
    return jsonify(
        {
            "name": "pactmock",
            "version": __version__,
            "contracts": [
                {
                    "consumer": c.consumer,
                    "provider": c.provider,
                    "specification": c.spec,
                    "source": c.source,
                    "interactions": [f"{i.method} {i.path}: {i.description}" for i in c.interactions],
                    "messages": [m.description for m in c.messages],
                }
                for c in state.loaded.contracts
            ],
            "problems": [str(p) for p in state.loaded.problems],
        }
    )


# An upload is read back this many bytes at a time.
DOWNLOAD_CHUNK_BYTES = 256 * 1024

# The provider_states.name column; PostgreSQL refuses longer names (and any NUL) outright.
STATE_NAME_MAX_CHARS = cast(String, ProviderStateRow.__table__.c.name.type).length or 255


def _bad_state_call(detail: str) -> Response:
    return problem(400, "Bad provider-state call", detail, "bad-provider-state")


def _json_payload() -> Any:
    """The request body as JSON, or None when it is not JSON this mock can read."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None  # nested deeper than the parser recurses


def _unstorable_state(name: str, params: dict[str, Any]) -> str | None:
    """Why the provider_states table cannot hold this state, or None when it can."""
    if len(name) > STATE_NAME_MAX_CHARS:
        return f"a provider state name has at most {STATE_NAME_MAX_CHARS} characters, not {len(name)}"
    if "\x00" in name:
        return "a provider state name cannot contain a NUL character"
    # The parser lets through what no JSON column takes: NaN, Infinity and half a surrogate pair.
    try:
        json.dumps([name, params], allow_nan=False, ensure_ascii=False).encode("utf-8")
    except ValueError:
        return "state and params must be JSON text: no NaN or Infinity, no \\u escape that is half a surrogate pair"
    except RecursionError:
        return "params are nested too deeply"
    return None


@control.post("/_mock/provider-states")
def provider_states() -> Response:
    payload: Any = _json_payload()
    example = '{"state": "job 123 exists", "params": {}, "action": "setup"}'
    if not isinstance(payload, dict) or not isinstance(payload.get("state", ""), str):
        return _bad_state_call(f"expected a JSON object like {example}")
    action = payload.get("action", "setup")
    if action not in ("setup", "teardown"):
        return _bad_state_call(f"action must be setup or teardown, not {action!r}")
    params = payload.get("params") or {}
    if not isinstance(params, dict):
        return _bad_state_call(f"params must be a JSON object, not {params!r}")
    name = payload.get("state") or ""
    unstorable = _unstorable_state(name, params)
    if unstorable:
        return _bad_state_call(unstorable)
    # The verifier also calls with an empty state for interactions that have none: nothing to do.
    if name:
        try:
            known = _apply_state_once(_state(), name, params, action == "setup")
        except UnknownId as exc:
            return _bad_state_call(str(exc))
        log.info("provider state %r: %s%s", name, action, "" if known else " (no data attached to this state)")
    return jsonify(params)


# Parallel test workers set up the same state at once: the loser of that race (a duplicate key, or a row
# the other one just deleted) runs again, after a short random pause, and finds the winner's rows in place.
STATE_ATTEMPTS = 10


def _apply_state_once(state: MockState, name: str, params: dict[str, Any], setup: bool) -> bool:
    for attempt in range(1, STATE_ATTEMPTS + 1):
        try:
            with state.database.transaction(write=True) as session:
                return apply_state(session, state.policy, name, params, setup, datetime.now(UTC))
        except (IntegrityError, StaleDataError):
            if attempt == STATE_ATTEMPTS:
                raise
            time.sleep(random.uniform(0.001, 0.01 * attempt))
    raise AssertionError("unreachable")


@control.get("/_mock/jobs/<int:job_id>/uploads")
def list_uploads(job_id: int) -> Response:
    """What was uploaded to a job's pre-signed URLs: key, size, sha256 and content type of each."""
    state = _state()
    try:
        with state.database.transaction(write=False) as session:
            uploads = Epistemix(session, state.policy).uploads_of(job_id)
            listing = [
                {
                    "key": u.key,
                    "size": u.size,
                    "sha256": u.sha256,
                    "contentType": u.content_type,
                    "uploadedTs": u.uploaded_ts.isoformat(),
                }
                for u in uploads
            ]
    except NotFound as exc:
        return problem(404, "Not found", str(exc), "not-found", resource=exc.what)
    return jsonify({"jobId": job_id, "uploads": listing})


@control.get("/_mock/jobs/<int:job_id>/uploads/<key>")
def read_upload(job_id: int, key: str) -> Response:
    """The bytes uploaded under one key, as they were sent.

    They are read from the database a chunk at a time into a file (spool.py), which the server sends as fast
    as the client reads: a client that never reads holds no copy of the upload in the worker.
    """
    state = _state()
    if "\x00" in key:
        # No key holds a NUL, and PostgreSQL refuses one even in a lookup.
        return problem(404, "Not found", f"no upload is stored under {key!r}", "not-found", resource="upload")
    try:
        with state.database.transaction(write=False) as session:
            facts = Epistemix(session, state.policy).upload_facts(job_id, key)
    except NotFound as exc:
        return problem(404, "Not found", str(exc), "not-found", resource=exc.what)

    def chunks() -> Iterator[bytes]:
        for offset in range(0, facts.size, DOWNLOAD_CHUNK_BYTES):
            with state.database.transaction(write=False) as session:
                chunk = Epistemix(session, state.policy).upload_chunk(
                    job_id, key, facts.sha256, offset, DOWNLOAD_CHUNK_BYTES
                )
            if chunk is None:
                raise Changed(f"upload {key!r} of job {job_id} was replaced while being read")
            yield chunk

    try:
        body = spooled(facts.sha256, chunks)
    except Changed as exc:
        return problem(409, "Changed while read", f"{exc}; ask again", "upload-changed")
    response = Response(
        body, status=200, content_type=facts.content_type or "application/octet-stream", direct_passthrough=True
    )
    response.headers["Content-Length"] = str(facts.size)
    response.headers["x-pactmock-sha256"] = facts.sha256
    return response
