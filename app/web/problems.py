"""The one error shape, RFC 9457 application/problem+json, and the catalogue of every problem type.

A problem's `type` is a path under /_mock/problems/ that this mock serves: GET it for the explanation.
Status and title come from the catalogue, so one kind of problem always reads the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Response

PROBLEM_TYPE_BASE = "/_mock/problems/"
CONTENT_TYPE = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """One kind of refusal or failure: its status, its title, and what a client should make of it."""

    slug: str
    status: int
    title: str
    explanation: str

    @property
    def uri(self) -> str:
        """The problem's `type`: where its explanation is served."""
        return PROBLEM_TYPE_BASE + self.slug


CATALOGUE = {
    kind.slug: kind
    for kind in (
        ProblemType(
            "contract-mismatch",
            400,
            "Request does not match the contract",
            "A served pact describes this route, but the request differs from every interaction on it. "
            "`mismatches` lists each difference from the closest interaction (path, expected, actual).",
        ),
        ProblemType(
            "unauthorized",
            401,
            "Unauthorized",
            "The closest interaction requires a credential header the request lacks or has in another form. "
            "Credential values are never echoed.",
        ),
        ProblemType(
            "no-interaction",
            404,
            "No interaction for this route",
            "No served pact describes this method and path. `closest` names the nearest routes that exist.",
        ),
        ProblemType(
            "invalid-request",
            400,
            "Request cannot be acted on",
            "The contract allows the request, but the stateful mock cannot act on it (a field it needs is "
            "missing or of the wrong kind). The detail names the field.",
        ),
        ProblemType("bad-request", 400, "Bad request", "The request is not well-formed HTTP (framing, headers)."),
        ProblemType(
            "bad-provider-state",
            400,
            "Bad provider-state call",
            "A call to /_mock/provider-states the mock cannot act on: see the detail for the expected shape.",
        ),
        ProblemType(
            "not-found",
            404,
            "Not found",
            "What the request names does not exist: a job, a run, an upload, or a page of the control plane.",
        ),
        ProblemType(
            "forbidden",
            403,
            "Forbidden",
            "The job belongs to another user than the one the request's Offline-Token names. `description` "
            "carries the same text for the epx client, which raises UnauthorizedUserError with it.",
        ),
        ProblemType(
            "method-not-allowed",
            405,
            "Method not allowed",
            "The route does not take this method (a control-plane page), or no pact uses the method at all.",
        ),
        ProblemType(
            "body-timeout",
            408,
            "Request body too slow",
            "The request body did not arrive within PACTMOCK_BODY_TIMEOUT_SECONDS. The connection is closed.",
        ),
        ProblemType(
            "ids-exhausted",
            409,
            "No ids left",
            "Every id a 64-bit column can hold has been handed out (reachable only through provider states).",
        ),
        ProblemType(
            "conflict",
            409,
            "Conflicting change",
            "Another request changed the same data at the same moment and this one lost the race; nothing "
            "was written. Send it again.",
        ),
        ProblemType(
            "wrong-state",
            409,
            "Not now",
            "The run's status does not allow this now: results before the run has ended, a retry of a run that "
            "has not failed. Nothing was changed.",
        ),
        ProblemType(
            "invalid-transition",
            409,
            "Transition not allowed",
            "The item's state machine (its model file) does not allow this move from the state the item is in. "
            "`current` is that state and `allowed` the states it may move to. Nothing was changed.",
        ),
        ProblemType(
            "capacity-reached",
            409,
            "Collection full",
            "The collection holds as many items as its model file allows (`limit`). Nothing was stored.",
        ),
        ProblemType(
            "already-exists",
            409,
            "Already exists",
            "An item with the id the request gives is already stored. Nothing was changed.",
        ),
        ProblemType(
            "not-authenticated",
            401,
            "Not authenticated",
            "The provider's model file asks for a bearer token of a given form, and the request has none.",
        ),
        ProblemType(
            "upload-changed",
            409,
            "Changed while read",
            "The upload was replaced while it was being read back. Ask again for the new bytes.",
        ),
        ProblemType(
            "body-too-large",
            413,
            "Request body too large",
            "The body is over the limit for its content type (`limit`, in bytes; PACTMOCK_MAX_UPLOAD_BYTES "
            "or PACTMOCK_MAX_JSON_BYTES).",
        ),
        ProblemType(
            "bodies-in-flight",
            503,
            "Busy receiving other bodies",
            "This worker already holds PACTMOCK_MAX_BODY_BYTES_IN_FLIGHT of request bodies; retry after the "
            "Retry-After seconds.",
        ),
        ProblemType(
            "database-unavailable",
            503,
            "Database unavailable",
            "The mock's database is down, unreachable or saturated. Retry after the Retry-After seconds.",
        ),
        ProblemType(
            "storage-quota",
            507,
            "Insufficient storage",
            "Storing the upload would pass a bound on what the mock holds (`limit`, in bytes). Nothing was "
            "stored; an earlier upload under the same key is still there.",
        ),
        ProblemType(
            "session-limit",
            507,
            "Too many sessions",
            "The mock holds as many sessions as PACTMOCK_MAX_SESSIONS allows (`limit`), so a new one cannot be "
            "made. Drop one with DELETE /_mock/sessions/<name> first.",
        ),
        ProblemType(
            "default-session",
            409,
            "The default session stays",
            "The default session (requests without X-Pactmock-Session) cannot be dropped; POST /_mock/reset "
            "empties it.",
        ),
        ProblemType(
            "control-plane-forbidden",
            403,
            "Forbidden",
            "The /_mock/ control plane answers loopback clients only, unless MOCK_ADMIN_TOKEN is set.",
        ),
        ProblemType(
            "control-plane-cross-origin",
            403,
            "Forbidden",
            "The /_mock/ control plane does not answer web pages from origins not listed in "
            "PACTMOCK_CONTROL_CORS_ORIGINS.",
        ),
        ProblemType(
            "control-plane-unauthorized",
            401,
            "Unauthorized",
            "The /_mock/ control plane needs MOCK_ADMIN_TOKEN as a bearer token, X-Mock-Admin-Token or ?token=.",
        ),
        ProblemType(
            "broken-interaction",
            500,
            "Contract cannot be served",
            "The interaction this request was routed to cannot be compiled (a bad matcher, an unreadable "
            "body). The client did nothing wrong; the detail names the file, the interaction and the reason.",
        ),
        ProblemType(
            "bad-generator",
            500,
            "Contract cannot be served",
            "A generator the interaction declares cannot run. The contract's fault, not the client's.",
        ),
        ProblemType(
            "injected-fault",
            503,
            "Injected fault",
            "A fault rule set on /_mock/faults answered with this status (`status`; 503 unless the rule says). "
            "`rule` names the rule; `applied` says whether the request was acted on before (its handler ran and "
            "its write is stored) or not at all.",
        ),
        ProblemType(
            "internal", 500, "Internal Server Error", "The mock failed to handle this request; its log says why."
        ),
    )
}


def problem_body(slug: str, detail: str, **extra: Any) -> bytes:
    """The problem+json document of this kind, with the detail and any extension members.

    `description` repeats the detail: the Epistemix API words its errors so, and its client (epx) raises
    its own error (UnauthorizedUserError, NotFoundError, a model configuration error) with that text.
    """
    kind = CATALOGUE[slug]
    body = {"type": kind.uri, "title": kind.title, "status": kind.status, "detail": detail, "description": detail}
    body.update(extra)
    return json.dumps(body, default=str).encode()


def problem(slug: str, detail: str, **extra: Any) -> Response:
    """The problem+json answer of this kind."""
    return Response(problem_body(slug, detail, **extra), status=CATALOGUE[slug].status, mimetype=CONTENT_TYPE)
