"""The adapter between HTTP and a provider's bound handler: the request as plain data in, the answer as HTTP
out, and that answer held to the contract."""

from __future__ import annotations

import json
import logging
import math
from typing import Any, cast

from flask import Response
from werkzeug.wrappers import Request

from ..contract.match.compare import match_request, match_response
from ..contract.match.uripath import wire_path
from ..contract.model import MISSING, Body, Interaction
from ..contract.model import Response as ContractResponse
from ..providers.registry import Answer, Call, Handler, HeaderLookup
from .dispatch import (
    REUSABLE_AT,
    TRANSPORT_HEADERS,
    actual_request,
    base_url,
    generated_response,
    received_body,
    stub_answer,
)
from .errors import error_response
from .problems import problem
from .served import Served
from .shaped import shaped

log = logging.getLogger(__name__)


class DriftSampler:
    """Which answers to hold to the contract: every one of an interaction's first `first`, then one in `every`.

    A handler's answers to one interaction keep one shape, so the first ones show a drift; checking
    every answer cost about a fifth of the CPU time of a POST /runs under load.
    """

    def __init__(self, first: int = 100, every: int = 50) -> None:
        self.first = first
        self.every = every
        # Per interaction, in this process. Threads may race on a count: a check more or less, no harm.
        self.answers: dict[int, int] = {}

    def due(self, interaction: object) -> bool:
        """Whether this answer to ``interaction`` is one to check against the contract (it is counted either way)."""
        count = self.answers.get(id(interaction), 0) + 1
        self.answers[id(interaction)] = count
        return count <= self.first or count % self.every == 0


DRIFT_SAMPLER = DriftSampler()


def handle(
    request: Request, interaction: Interaction, served: Served, handler: Handler, path_params: dict[str, str]
) -> Response:
    """The handler's answer to ``request`` (a plain werkzeug request: no Flask context is needed)."""
    data = received_body(request)  # as the entrance received it: werkzeug's stream is not read again
    try:
        parsed = _finite_json(data) if data and request.is_json else None
    except NonFinite as exc:
        return problem("invalid-request", str(exc))
    except ValueError:
        parsed = None  # the contract already refused bodies it cannot read; a handler checks its own needs
    call = Call(
        store=served.store,
        policy=served.policy,
        clock=served.clock,
        json=parsed,
        data=data,
        content_type=request.content_type,
        query={name: request.args.getlist(name) for name in request.args} if request.query_string else {},
        # Werkzeug's headers, read in place: their lookups ignore case, and most handlers read one or two.
        headers=cast(HeaderLookup, request.headers),
        path_params=path_params,
        base_url=served.settings.mock_server_url or base_url(request),
    )
    success = _succeeding(interaction, served, request)
    call.status = success.response.status
    content_types = success.response.header("Content-Type")
    call.example_type = content_types[0] if content_types else None
    call.example = lambda: _body_or_none(_generated_example(success, served, request))
    try:
        answer = handler(call)
    except Exception as error:
        refusal = error_response(error, request.method, request.path, served.settings.tuning.retry_after_seconds)
        return _in_the_contracts_words(refusal, interaction, served, request)
    # The state decides the status: among the route's interactions, the one answering with it is the example.
    answered = _answered(interaction, answer.status, served, request)
    if answered is None:
        return _to_flask(answer)
    if answer.json is not None:
        example = answered.response.body.value
        answer.json = shaped(answer.json, example, lambda: _generated_example(answered, served, request))
    response = _to_flask(answer)
    if DRIFT_SAMPLER.due(answered):
        _check_drift(answered, answer, response, served.settings.tuning.drift_check_max_bytes)
    if answer.reusable_at is not None and not _generates(answered) and not _generates(success):
        # The same request gets these bytes again while the generation holds (replays.py); an example with
        # generators would have given the answer fresh values each time.
        request.environ[REUSABLE_AT] = (served.store, answer.reusable_at, served.clock, answer.reusable_until)
    return response


def _generates(interaction: Interaction) -> bool:
    return any(interaction.response.generators.values())


def _answered(routed: Interaction, status: int, served: Served, request: Request) -> Interaction | None:
    """The interaction of this route and contract whose response has `status` (routed to one of a 200 and a
    403 example, say, the handler's 200 is the 200 example's): one the request matches if any, else any; None
    when none answers with it (a 200 where the route's only example is a 409: no example shapes it)."""
    if routed.response.status == status:
        return routed
    siblings = served.router.candidates(request.method, wire_path(request.path))
    answering = [i for i in siblings if i.contract is routed.contract and i.response.status == status and not i.problem]
    if not answering:
        return None
    actual = actual_request(request)
    return next(
        (i for i in answering if not match_request(i.request, actual, ignored_headers=TRANSPORT_HEADERS)), answering[0]
    )


def _in_the_contracts_words(refusal: Response, routed: Interaction, served: Served, request: Request) -> Response:
    """A refusal as the contract writes it, where it does: a 404 of a route whose pact answers 404 with
    `{"error": 404, "message": ...}` as JSON (Teraslice) gets that example, not our problem+json."""
    if not 400 <= refusal.status_code < 500:
        return refusal
    answering = _answered(routed, refusal.status_code, served, request)
    if answering is None or answering.response.status != refusal.status_code:
        return refusal
    content_types = answering.response.header("Content-Type") or []
    if not content_types or "problem+json" in content_types[0]:
        return refusal  # the contract speaks problem+json too: ours says more
    return stub_answer(answering, served, request)


def _succeeding(routed: Interaction, served: Served, request: Request) -> Interaction:
    """The interaction of this route that answers success: the routed one, unless that is an error example
    (a 404 routed under a provider state, say) and a sibling answers 2xx."""
    if routed.response.status < 400:
        return routed
    siblings = served.router.candidates(request.method, wire_path(request.path))
    return next(
        (i for i in siblings if i.contract is routed.contract and i.response.status < 300 and not i.problem), routed
    )


def _body_or_none(value: Any) -> Any:
    """A response without a body has no example to give: None, as for JSON null."""
    return None if value is MISSING else value


def _generated_example(interaction: Interaction, served: Served, request: Request) -> Any:
    try:
        return generated_response(interaction, served, request).body.value
    except ValueError:
        # A generator that cannot run (logged where stubs answer it): the example as written.
        return interaction.response.body.value


class NonFinite(ValueError):
    """A number JSON cannot carry: the database's JSON type refuses it, and an answer holding it is not JSON."""


def _finite_json(data: bytes) -> object:
    # The standard decoder takes NaN and Infinity, and 1e999 as an infinite float; a type matcher in the
    # contract lets them through as numbers, so a handler would store what it cannot answer with.
    return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)


def _refuse_constant(name: str) -> object:
    raise NonFinite(f"the body holds {name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise NonFinite(f"the body holds the number {text[:40]}, too large for a 64-bit float")
    return value


def _to_flask(answer: Answer) -> Response:
    if answer.data is not None:
        response = Response(answer.data, status=answer.status)
        del response.headers["Content-Type"]
    else:
        response = Response(json.dumps(answer.json), status=answer.status, mimetype="application/json")
    response.headers.update(answer.headers)
    return response


def _check_drift(interaction: Interaction, answer: Answer, response: Response, max_bytes: int) -> None:
    """A handler whose answer breaks the contract is a bug in the mock: say so loudly in the log.

    Large answers (a job with thousands of runs) are not checked: the check costs time in proportion
    to the body, and the small answers the verifier and the tests see exercise the same code.
    """
    if response.content_length is not None and response.content_length > max_bytes:
        return
    headers = {name: [value] for name, value in response.headers.items()}
    actual = ContractResponse(answer.status, headers, Body(response.get_data() or MISSING, response.content_type))
    mismatches = match_response(interaction.response, actual)
    if mismatches:
        log.error(
            "handler answer for %r breaks the contract: %s",
            interaction.description,
            "; ".join(m.message for m in mismatches),
        )
