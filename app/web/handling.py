"""Run a bound domain handler inside the request's one transaction, then hold its answer to the contract."""

from __future__ import annotations

import json
import logging
import math

from flask import Response
from werkzeug.wrappers import Request

from ..contract.match.compare import match_response
from ..contract.model import MISSING, Body, Interaction
from ..contract.model import Response as ContractResponse
from ..domain.errors import Invalid, NotFound, QuotaExceeded
from ..domain.services import Epistemix
from ..store.repositories import IdsExhausted
from .handlers import Answer, Call, Handler
from .problems import problem
from .state import MockState

log = logging.getLogger(__name__)
DRIFT_CHECK_MAX_BYTES = 64 * 1024


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
        count = self.answers.get(id(interaction), 0) + 1
        self.answers[id(interaction)] = count
        return count <= self.first or count % self.every == 0


DRIFT_SAMPLER = DriftSampler()


def handle(
    request: Request, interaction: Interaction, state: MockState, handler: Handler, path_params: dict[str, str]
) -> Response:
    """The handler's answer to ``request`` (a plain werkzeug request: no Flask context is needed)."""
    data = request.get_data(cache=True)
    try:
        parsed = _finite_json(data) if data and request.is_json else None
    except NonFinite as exc:
        return problem(400, "Request cannot be acted on", str(exc), "invalid-request")
    except ValueError:
        parsed = None  # the contract already refused bodies it cannot read; a handler checks its own needs
    try:
        with state.database.transaction(write=True) as session:
            call = Call(
                service=Epistemix(session, state.policy),
                json=parsed,
                data=data,
                request=request,
                path_params=path_params,
                mock_server_url=state.settings.mock_server_url,
            )
            answer = handler(call)
    except NotFound as exc:
        return problem(404, "Not found", str(exc), "not-found", resource=exc.what)
    except Invalid as exc:
        return problem(400, "Request cannot be acted on", str(exc), "invalid-request")
    except IdsExhausted as exc:
        return problem(409, "No ids left", str(exc), "ids-exhausted")
    except QuotaExceeded as exc:
        # Nothing was stored: an earlier upload under the same key is still there, whole.
        return problem(507, "Insufficient storage", str(exc), "storage-quota", limit=exc.limit)
    response = _to_flask(answer)
    if DRIFT_SAMPLER.due(interaction):
        _check_drift(interaction, answer, response)
    return response


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


def _check_drift(interaction: Interaction, answer: Answer, response: Response) -> None:
    """A handler whose answer breaks the contract is a bug in the mock: say so loudly in the log.

    Large answers (a job with thousands of runs) are not checked: the check costs time in proportion
    to the body, and the small answers the verifier and the tests see exercise the same code.
    """
    if response.content_length is not None and response.content_length > DRIFT_CHECK_MAX_BYTES:
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
