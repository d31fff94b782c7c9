"""The control plane under /_mock/, plus / and /health where no served pact defines them.

/_mock/ and /_mock/health are the same pages as / and /health, always there: a pact may define GET /.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..domain import services
from ..domain.errors import StoreUnavailable
from ..domain.model import STATE_NAME_LENGTH
from ..domain.provider_states import apply_provider_state
from ..version import __version__
from .problems import CATALOGUE, problem
from .served import Served
from .spool import spooled

log = logging.getLogger(__name__)
control = Blueprint("control", __name__)


def _served() -> Served:
    served: Served = current_app.extensions["pactmock.served"]
    return served


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
    allowed = _served().settings.control_cors_origins
    if origin is not None and origin not in allowed and "*" not in allowed and not _own_page(origin):
        return problem(
            "control-plane-cross-origin",
            f"the /_mock/ control plane does not answer web pages from {origin[:200]!r}; list the origin in "
            "PACTMOCK_CONTROL_CORS_ORIGINS to allow it",
        )
    if origin is None and request.headers.get("Sec-Fetch-Site") == "cross-site":
        return problem("control-plane-cross-origin", "the /_mock/ control plane does not answer cross-site requests")
    return None


LOOPBACK_HOST_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})


def _own_page(origin: str) -> bool:
    """The dashboard's own forms: the origin is this very host, named as loopback. A page served under any
    other name could be a rebinding of a foreign site to this address, so only loopback names count."""
    host = request.host.lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    # With MOCK_ADMIN_TOKEN set, the token (checked next) decides under any name: a rebound site does not know it.
    trusted_name = name in LOOPBACK_HOST_NAMES or _served().settings.admin_token is not None
    return trusted_name and origin.lower() == f"{request.scheme}://{host}"


# Whether the mock and its database are up, and what a problem type means: open to every caller, so
# healthchecks need no token and a problem's `type` can be followed.
# The docs' and dashboard's static files are public too: they are the packages' files, nothing of the mock's.
PUBLIC_CONTROL_PATHS = frozenset({"/_mock/health"})
# The API reference pages also answer at the root (where no pact defines them) and embed the OpenAPI
# document that /_mock/openapi.json guards, so they are guarded the same way.
GUARDED_OUTSIDE_CONTROL = frozenset({"/docs", "/redoc"})
PUBLIC_CONTROL_PREFIXES = ("/_mock/problems", "/_mock/docs/assets/", "/_mock/ui/assets/")


def guard_control_plane() -> Response | None:
    """Cross-origin pages never reach the control plane; other hosts only with MOCK_ADMIN_TOKEN. It runs
    before every request of the app (factory.py), so a new control blueprint cannot forget it."""
    path = request.path
    guarded = path.startswith("/_mock") or path in GUARDED_OUTSIDE_CONTROL
    if not guarded or path in PUBLIC_CONTROL_PATHS or path.startswith(PUBLIC_CONTROL_PREFIXES):
        return None
    refused = _cross_origin_refusal()
    if refused is not None:
        return refused
    token = _served().settings.admin_token
    if token is None:
        if _is_loopback(request.remote_addr):
            return None
        return problem(
            "control-plane-forbidden",
            "the /_mock/ control plane answers loopback clients only; set MOCK_ADMIN_TOKEN on the mock "
            "and send it as 'Authorization: Bearer <token>' to call it from elsewhere",
        )
    presented = _presented_token()
    if presented is not None and hmac.compare_digest(presented.encode(), token.encode()):
        return None
    return problem(
        "control-plane-unauthorized",
        "the /_mock/ control plane needs MOCK_ADMIN_TOKEN as 'Authorization: Bearer <token>', "
        "'X-Mock-Admin-Token' or ?token= (value withheld)",
    )


@control.get("/health")
@control.get("/_mock/health")
def health() -> Response:
    """Up, or down with the reason, for healthchecks: 200 or 503."""
    store = _served().store
    report: dict[str, Any] = {"status": "up", "backend": store.backend}
    try:
        store.ping()
    except StoreUnavailable as exc:
        log.warning("health: database unreachable: %s", exc)
        report = {"status": "down", "backend": store.backend, "error": str(exc)}
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
    """What this mock serves: every contract, its interactions and messages, and the files it could not serve."""
    served = _served()
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
                for c in served.contracts.contracts
            ],
            "problems": [str(p) for p in served.contracts.problems],
        }
    )


# An upload is read back this many bytes at a time.


def _bad_state_call(detail: str) -> Response:
    return problem("bad-provider-state", detail)


def json_body() -> Any:
    """The request body as JSON, or None when it is not JSON this mock can read (every control call reads its
    body through this: Flask's get_json(silent=True) still raises on JSON nested deeper than the parser recurses)."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None  # nested deeper than the parser recurses


def _unstorable_state(name: str, params: dict[str, Any]) -> str | None:
    """Why the provider_states table cannot hold this state, or None when it can."""
    if len(name) > STATE_NAME_LENGTH:
        return f"a provider state name has at most {STATE_NAME_LENGTH} characters, not {len(name)}"
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
    """Set up or tear down a provider state, as the Pact verifier's state-change calls do."""
    payload: Any = json_body()
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
        served = _served()
        now = served.clock()
        known = apply_provider_state(served.store, served.policy, name, params, action == "setup", now)
        # Providers declared by model files load or remove the fixtures their model maps the state to.
        known = served.providers.apply_state(served.store, name, params, action == "setup", now) or known
        log.info("provider state %r: %s%s", name, action, "" if known else " (no data attached to this state)")
    return jsonify(params)


@control.get("/_mock/jobs/<int:job_id>/uploads")
def list_uploads(job_id: int) -> Response:
    """What was uploaded to a job's pre-signed URLs: key, size, sha256 and content type of each."""
    uploads = services.uploads_of(_served().store, job_id)
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
    return jsonify({"jobId": job_id, "uploads": listing})


@control.get("/_mock/jobs/<int:job_id>/uploads/<key>")
def read_upload(job_id: int, key: str) -> Response:
    """The bytes uploaded under one key, as they were sent.

    They are read from the database a chunk at a time into a file (spool.py), which the server sends as fast
    as the client reads: a client that never reads holds no copy of the upload in the worker.
    """
    store = _served().store
    if "\x00" in key:
        # No key holds a NUL, and PostgreSQL refuses one even in a lookup.
        return problem("not-found", f"no upload is stored under {key!r}", resource="upload")
    upload = services.upload_of(store, job_id, key)

    tuning = _served().settings.tuning

    def chunks() -> Iterator[bytes]:
        for offset in range(0, upload.size, tuning.download_chunk_bytes):
            yield services.upload_chunk(store, upload, offset, tuning.download_chunk_bytes)

    body = spooled(upload.sha256, chunks, tuning.spool_keep_seconds)
    response = Response(
        body, status=200, content_type=upload.content_type or "application/octet-stream", direct_passthrough=True
    )
    response.headers["Content-Length"] = str(upload.size)
    response.headers["x-pactmock-sha256"] = upload.sha256
    return response


@control.get("/_mock/problems/")
def problem_types() -> Response:
    """Every problem type this mock answers with: its status, title and what it means."""
    return jsonify(
        {slug: {"status": k.status, "title": k.title, "explanation": k.explanation} for slug, k in CATALOGUE.items()}
    )


@control.get("/_mock/problems/<slug>")
def problem_type(slug: str) -> Response:
    """What one problem type means: the page a problem's `type` points at."""
    kind = CATALOGUE.get(slug)
    if kind is None:
        return problem("not-found", f"no problem type is called {slug[:80]!r}; GET /_mock/problems/ lists them")
    return jsonify({"type": kind.uri, "status": kind.status, "title": kind.title, "explanation": kind.explanation})
