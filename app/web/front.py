"""A plain WSGI callable ahead of Flask that answers contract routes itself.

Flask's request context, URL map and response finishing cost about as much as judging a request by
the contracts. Routes that only the contracts answer (stubs and the mock's refusals) do not need any
of it: this front judges them with the same code Flask's catch-all view runs (dispatch.judge) and
answers them directly, and runs the domain handler bound to a route the same way. The control plane, `/`,
`/health` and anything Flask's URL map would treat specially go to Flask untouched.

A stub answer of an interaction without generators is the same bytes every time: it is built once,
through the same code, and then replayed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Request

from ..contract.model import Interaction
from .cors import add_cors, allowed_origin
from .dispatch import ALL_METHODS, Bound, Stub, judge, stub_answer
from .errors import error_response
from .handling import handle
from .state import MockState

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Answered by the control blueprint; "/" is its index for GET (and the catch-all's otherwise).
FLASK_PATHS = frozenset({"", "/", "/health"})
# Flask's URL map redirects paths with "//" and its path converter does not match a newline.
FLASK_PATH_MARKS = ("//", "\n")
# Prepared answers kept at most; past it the store starts again (a contract may have 100,000 interactions).
MAX_PREPARED = 10_000


@dataclass(frozen=True)
class Prepared:
    """A stub answer as it goes on the wire: status line, headers (CORS included) and body."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    bodiless: bool


class ContractFront:
    """Wraps Flask's WSGI app (`app.wsgi_app`): contract routes answered here, the rest passed on."""

    def __init__(self, flask_app: WSGIApplication, state: MockState, max_content_length: int) -> None:
        self.flask_app = flask_app
        self.state = state
        self.max_content_length = max_content_length
        self.prepared: dict[tuple[int, str | None], tuple[Interaction, Prepared]] = {}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raw_path = environ.get("PATH_INFO") or ""
        if raw_path in FLASK_PATHS or raw_path.startswith("/_mock") or any(m in raw_path for m in FLASK_PATH_MARKS):
            return self.flask_app(environ, start_response)
        req = Request(environ)
        if req.method not in ALL_METHODS:
            return self.flask_app(environ, start_response)
        req.max_content_length = self.max_content_length
        allow = allowed_origin(environ.get("HTTP_ORIGIN"), self.state.settings.cors_origins)
        try:
            verdict = judge(req, self.state)
            if isinstance(verdict, Bound):
                verdict = handle(req, verdict.interaction, self.state, verdict.handler, verdict.path_params)
            elif isinstance(verdict, Stub):
                if not any(verdict.interaction.response.generators.values()):
                    return self._replay(self._prepared(verdict.interaction, req, allow), environ, start_response)
                verdict = stub_answer(verdict.interaction, self.state, req)
        except Exception as error:
            verdict = error_response(error, req.method, req.path)
        add_cors(verdict.headers, allow)
        return verdict(environ, start_response)

    def _prepared(self, interaction: Interaction, req: Request, allow: str | None) -> Prepared:
        key = (id(interaction), allow)
        found = self.prepared.get(key)
        if found is not None and found[0] is interaction:
            return found[1]
        response = stub_answer(interaction, self.state, req)
        add_cors(response.headers, allow)
        status_code = response.status_code
        prepared = Prepared(
            status=response.status,
            headers=response.get_wsgi_headers(req.environ).to_wsgi_list(),
            body=response.get_data(),
            # As werkzeug answers them: no body, whatever the contract's example says.
            bodiless=100 <= status_code < 200 or status_code in (204, 304),
        )
        if len(self.prepared) >= MAX_PREPARED:
            self.prepared.clear()
        self.prepared[key] = (interaction, prepared)
        return prepared

    @staticmethod
    def _replay(prepared: Prepared, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(prepared.status, list(prepared.headers))
        if prepared.bodiless or environ.get("REQUEST_METHOD") == "HEAD":
            return []
        return [prepared.body]
