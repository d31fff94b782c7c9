"""The one entrance for every route a pact defines: a plain WSGI callable ahead of Flask.

Flask's request context, URL map and response finishing cost about as much as judging a request by
the contracts, and contract routes need none of it: this front judges every request that is not for
the control plane (dispatch.judge), answers stubs and refusals itself, and runs the provider handler
bound to a route (bound.handle). Only /_mock/ (and pactmock's own pages / and /health, where no pact
defines them) goes to Flask.

`decide` says what answers a request without doing any database work: an answer ready to go out, or
`NeedsThread`, work that may wait on the database. The entrance (entrance.py) runs the first on its
event loop and hands the second to a thread; as a WSGI app the front runs both in place.

A stub answer of an interaction without generators is the same bytes every time: it is built once,
through the same code, and then replayed. Judging is a function of the request's bytes and the contracts
alone unless candidates compete by provider state (then the states are read, and nothing is remembered):
so a request repeated byte for byte (method, path, query, every header, body), as a polling client or a load
test sends it, gets the verdict and the answer judged the first time without being judged again. A verdict that
binds a provider's handler is remembered too: the handler runs for every request (its answer is the store's to
give), but the contract is not walked again for bytes it already passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Request, Response

from ..contract.admission import Doorkeeper, RecentlyKept
from ..contract.model import Interaction
from ..domain.provider_states import active_provider_states
from ..domain.sessions import InvalidSessionName
from .bound import handle
from .cors import add_cors, allowed_origin
from .dispatch import ALL_METHODS, RECEIVED_BODY, REUSABLE_AT, Bound, Stub, judge, stub_answer, to_flask
from .errors import error_response, method_not_allowed
from .journal_record import ANSWERED_BY, NOT_JOURNALED
from .problems import problem
from .served import Served
from .session_scope import runner_for, session_of
from .wire_answer import wire_answer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# pactmock's own pages outside /_mock/, answered by Flask only where no served pact defines the path.
OWN_PAGES = frozenset({"", "/", "/health", "/docs", "/redoc"})
# The entrance puts the request's headers here, as (environ key, value) pairs in the order received.
HEADER_ITEMS = "pactmock.header_items"
# Verdicts remembered for requests repeated byte for byte (see `ContractFront.decide`), and the largest body
# such a request may carry: bounded however many distinct requests come.
REPEATS_KEPT = 4096
REPEAT_BODY_BYTES = 16 * 1024
# ...and kept for about this long: their memory follows the last minute's requests (contract/admission.py).
REPEATS_SPAN_S = 60.0


class DatabaseNeeded(Exception):
    """The decision needs the provider states, and the caller cannot wait on the database (the event loop)."""


def _database_needed() -> frozenset[str]:
    raise DatabaseNeeded


@dataclass(frozen=True)
class Prepared:
    """A stub answer as it goes on the wire: status line, headers (CORS included) and body."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    bodiless: bool

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(self.status, list(self.headers))
        if self.bodiless or environ.get("REQUEST_METHOD") == "HEAD":
            return []
        return [self.body]


@dataclass(frozen=True)
class NeedsThread:
    """Work that may wait on the database: `run()` gives the WSGI app that answers, to be called in the same thread."""

    run: Callable[[], WSGIApplication]


class ContractFront:
    """Wraps Flask's WSGI app (`app.wsgi_app`): contract routes answered here, the rest passed on."""

    def __init__(self, flask_app: WSGIApplication, served: Served, max_content_length: int) -> None:
        self.flask_app = flask_app
        self.served = served
        self.max_content_length = max_content_length
        self.prepared: dict[tuple[int, str | None], tuple[Interaction, Prepared]] = {}
        # Verdicts by request bytes: a stub's with its prepared answer, a handler's with the CORS origin it allows.
        self.repeats: RecentlyKept[tuple[object, ...], tuple[Stub, Prepared] | tuple[Bound, str | None]] = RecentlyKept(
            REPEATS_KEPT, REPEATS_SPAN_S
        )
        # Both kept from a request's (or an interaction's) second arrival: one that never comes again is not kept.
        self.repeats_door = Doorkeeper(REPEATS_KEPT)
        self.prepared_door = Doorkeeper(served.settings.tuning.max_prepared)
        self.contract_pages = frozenset(page for page in OWN_PAGES if self._defined_by_a_pact(page or "/"))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # Served as plain WSGI (the entrance does this itself): the whole answer is worked out in the session.
        try:
            run = runner_for(session_of(environ))
        except InvalidSessionName as bad:
            return problem("invalid-request", str(bad))(environ, start_response)
        return run(self._answered_in_place, environ, start_response)

    def _answered_in_place(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        return self.decided_in_thread(environ)(environ, start_response)

    def decided_in_thread(self, environ: WSGIEnvironment) -> WSGIApplication:
        """The answer, worked out where waiting on the database is allowed."""
        return self._in_thread(self.decide(environ, inline=False))

    def decide(self, environ: WSGIEnvironment, *, inline: bool = True) -> WSGIApplication | NeedsThread:
        """The answer to this request, or the thread work that gives it.

        `inline`: the caller cannot wait on the database here; a decision that would is handed back as
        NeedsThread and taken again, in full, in the thread.
        """
        if self._for_flask(environ.get("PATH_INFO") or "", environ.get("REQUEST_METHOD") or ""):
            environ[NOT_JOURNALED] = True  # journal hook: the control plane and own pages are not journaled
            return NeedsThread(lambda: self.flask_app)
        # Only requests judged on the loop are remembered (the Origin header and the method are in the key).
        key = _repeat_key(environ) if inline else None
        if key is not None:
            repeated = self.repeats.get(key)
            if repeated is not None:
                return self._repeated(environ, repeated)
        req = self._request(environ)
        allow = allowed_origin(environ.get("HTTP_ORIGIN"), self.served.settings.cors_origins)
        if req.method not in ALL_METHODS:
            return self._with_cors(method_not_allowed(req.method, req.path, self.served.router), allow)
        if not inline:
            return self._judged(req, allow, self._active_states)
        try:
            outcome = self._judged(req, allow, _database_needed)
        except DatabaseNeeded:
            return NeedsThread(lambda: self._in_thread(self._judged(req, allow, self._active_states)))
        if key is not None:
            # Judged on the loop with no provider state read: the same bytes get the same verdict.
            verdict = environ.get(ANSWERED_BY)
            kept: tuple[Stub, Prepared] | tuple[Bound, str | None] | None = None
            if isinstance(verdict, Stub) and isinstance(outcome, Prepared):
                kept = (verdict, outcome)
            elif isinstance(verdict, Bound) and isinstance(outcome, NeedsThread):
                kept = (verdict, allow)
            if kept is not None and self.repeats_door.admit(key):
                self.repeats.put(key, kept)
        return outcome

    def _repeated(
        self, environ: WSGIEnvironment, repeated: tuple[Stub, Prepared] | tuple[Bound, str | None]
    ) -> WSGIApplication | NeedsThread:
        """The verdict remembered for these bytes: a stub's answer as it was prepared, or its handler to run."""
        environ[ANSWERED_BY] = repeated[0]  # journal hook, as when judged
        if isinstance(repeated[1], Prepared):
            return repeated[1]
        bound, allow = repeated
        assert isinstance(bound, Bound)
        req = self._request(environ)
        return NeedsThread(lambda: self._handled(req, bound, allow))

    def _request(self, environ: WSGIEnvironment) -> Request:
        # Not put in the environ as werkzeug.request: the environ would hold the request that holds it, a cycle that
        # only the cyclic collector frees, so every request's objects would wait for it (nothing here reads it back).
        req = Request(environ, populate_request=False)
        req.max_content_length = self.max_content_length
        return req

    @staticmethod
    def replayable(environ: WSGIEnvironment, outcome: object) -> bool:
        """Whether the same bytes get the same answer: a stub `decide` remembers, or a handler's answer marked
        reusable (bound.py), which holds only as long as its generation does (replays.py)."""
        return _repeat_key(environ) is not None and (isinstance(outcome, Prepared) or REUSABLE_AT in environ)

    def _active_states(self) -> frozenset[str]:
        return active_provider_states(self.served.store)

    def _judged(
        self, req: Request, allow: str | None, active_states: Callable[[], frozenset[str]]
    ) -> WSGIApplication | NeedsThread:
        try:
            verdict = judge(req, self.served, active_states)
            if isinstance(verdict, Bound | Stub):
                req.environ[ANSWERED_BY] = verdict  # journal hook: which interaction or handler answered
            if isinstance(verdict, Bound):
                bound = verdict
                return NeedsThread(lambda: self._handled(req, bound, allow))
            if isinstance(verdict, Stub):
                if not any(verdict.interaction.response.generators.values()):
                    return self._prepared(verdict.interaction, req, allow)
                verdict = stub_answer(verdict.interaction, self.served, req)
        except DatabaseNeeded:
            raise
        except Exception as error:
            verdict = error_response(error, req.method, req.path, self.served.settings.tuning.retry_after_seconds)
        return self._with_cors(verdict, allow)

    @staticmethod
    def _with_cors(response: Response, allow: str | None) -> Response:
        add_cors(response.headers, allow)
        return response

    @staticmethod
    def _in_thread(outcome: WSGIApplication | NeedsThread) -> WSGIApplication:
        return outcome.run() if isinstance(outcome, NeedsThread) else outcome

    def _for_flask(self, raw_path: str, method: str) -> bool:
        if raw_path == "/_mock" or raw_path.startswith("/_mock/"):
            return True
        # The contract wins over pactmock's own pages: a pact may define GET / (a HAL index, say).
        return raw_path in OWN_PAGES and raw_path not in self.contract_pages and method in ("GET", "HEAD")

    def _defined_by_a_pact(self, path: str) -> bool:
        return any(self.served.router.candidates(method, path) for method in ALL_METHODS)

    def _handled(self, req: Request, bound: Bound, allow: str | None) -> Response:
        try:
            # A copy: a remembered verdict's parameters serve every repeat, and a hook may change its own.
            response = handle(req, bound.interaction, self.served, bound.handler, dict(bound.path_params))
        except Exception as error:
            response = error_response(error, req.method, req.path, self.served.settings.tuning.retry_after_seconds)
        return self._with_cors(response, allow)

    def _prepared(self, interaction: Interaction, req: Request, allow: str | None) -> Prepared:
        key = (id(interaction), allow)
        found = self.prepared.get(key)
        if found is not None and found[0] is interaction:
            return found[1]
        # No generators: the contract's response as it is (nothing of the request goes into it).
        prepared = _prepared_answer(interaction, req, allow)
        # Bounded: a contract may have 100,000 interactions; past the bound the store starts again.
        if self.prepared_door.admit(key):
            if len(self.prepared) >= self.served.settings.tuning.max_prepared:
                self.prepared.clear()
            self.prepared[key] = (interaction, prepared)
        return prepared


def _prepared_answer(interaction: Interaction, req: Request, allow: str | None) -> Prepared:
    simple = wire_answer(interaction.response, allow)
    if simple is not None:
        return Prepared(*simple, bodiless=False)
    response = to_flask(interaction.response)
    add_cors(response.headers, allow)
    status_code = response.status_code
    return Prepared(
        status=response.status,
        headers=response.get_wsgi_headers(req.environ).to_wsgi_list(),
        body=response.get_data(),
        # As werkzeug answers them: no body, whatever the contract's example says.
        bodiless=100 <= status_code < 200 or status_code in (204, 304),
    )


def _repeat_key(environ: WSGIEnvironment) -> tuple[object, ...] | None:
    """Everything judging reads of a request, as the entrance received it; None when it cannot be told."""
    headers = environ.get(HEADER_ITEMS)
    body = environ.get(RECEIVED_BODY)
    if headers is None or body is None or len(body) > REPEAT_BODY_BYTES:
        return None
    return (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ["QUERY_STRING"], headers, body)
