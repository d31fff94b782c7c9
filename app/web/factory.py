"""Build the Flask application: the control plane under /_mock/, CORS, the error table, and the contract
front ahead of it all. The one place the web layer meets the store: it opens it and hands on the port."""

from __future__ import annotations

import logging

from flask import Flask, Response, has_request_context, request

from ..domain.cached import Freshness, keep_for
from ..domain.clock import MockClock
from ..providers.catalogue import registry_for
from ..providers.pinned import pinned_fields
from ..settings import Settings
from ..store.namespace import current_session
from ..store.unit_of_work import SqlStore
from .body_guard import BodyGuard
from .change_signal import signal_for
from .control import control, guard_control_plane
from .control_clock import clock_control
from .control_docs import docs_control
from .control_faults import faults_control
from .control_journal import journal_control
from .control_resources import resources_control
from .control_scenarios import scenarios_control
from .control_sessions import sessions_control
from .control_state import state_control
from .control_ui import ui_control
from .cors import add_cors, allowed_origin
from .entrance import Entrance
from .errors import error_response
from .front import ContractFront
from .served import Served, load_contracts, policy_of

log = logging.getLogger(__name__)


def build_app(settings: Settings | None = None) -> Flask:
    """The WSGI application for these settings (from the environment when none are given)."""
    settings = settings or Settings.from_env()
    app = Flask("pactmock")
    contracts, router = load_contracts(settings)
    providers = registry_for(settings, contracts)
    for pinned in pinned_fields(contracts.interactions, providers):
        log.warning("contract and state disagree: %s", pinned.sentence())
    store = SqlStore.connect(settings)
    # The clock's setting and the active provider states change only through the control plane, which announces
    # every change: until then each process keeps what it read, per session (domain/cached.py).
    # Contract routes are answered outside Flask (front.py): a Flask request is the control plane's, which reads
    # back what it has just changed.
    keep_for(store, Freshness(signal_for(settings.database_url).generation, current_session, has_request_context))
    # Every stateful answer reads the mock's clock, which the control plane may freeze or move.
    clock = MockClock(store)
    served = Served(
        settings=settings,
        contracts=contracts,
        router=router,
        providers=providers,
        store=store,
        policy=policy_of(settings),
        clock=clock,
    )
    app.extensions["pactmock.served"] = served
    app.extensions["pactmock.clock"] = clock
    # Werkzeug stops reading a body past this. A chunked body (no Content-Length) may be cut off
    # there rather than refused, so the cap sits one byte above the largest allowed body: a body that
    # reaches it is too large by our own check in dispatch, never stored truncated.
    app.config["MAX_CONTENT_LENGTH"] = max(settings.max_upload_bytes, settings.max_json_bytes) + 1
    app.before_request(guard_control_plane)
    app.register_blueprint(control)
    app.register_blueprint(clock_control)
    app.register_blueprint(resources_control)
    app.register_blueprint(journal_control)
    app.register_blueprint(faults_control)
    app.register_blueprint(state_control)
    app.register_blueprint(docs_control)
    app.register_blueprint(scenarios_control)
    app.register_blueprint(ui_control)
    app.extensions["pactmock.sessions"] = store.sessions
    app.register_blueprint(sessions_control)

    @app.after_request
    def add_cors_headers(response: Response) -> Response:
        # The control plane holds uploads and state: only origins named for it may read it from a browser.
        origins = settings.control_cors_origins if request.path.startswith("/_mock") else settings.cors_origins
        add_cors(response.headers, allowed_origin(request.headers.get("Origin"), origins))
        return response

    @app.errorhandler(Exception)
    def answer_error(error: Exception) -> Response:
        return error_response(error, request.method, request.path, settings.tuning.retry_after_seconds)

    # Every route a pact defines is answered by the front; only the control plane reaches Flask.
    front = ContractFront(app.wsgi_app, served, app.config["MAX_CONTENT_LENGTH"])
    app.extensions["pactmock.front"] = front
    # Outermost: whatever answered, a body left unread must not break the client's next request.
    app.wsgi_app = BodyGuard(front)  # type: ignore[method-assign]
    return app


def build_entrance(settings: Settings) -> Entrance:
    """What `pactmock serve` runs in each worker: the app behind the RSGI entrance (entrance.py)."""
    app = build_app(settings)
    return Entrance(app.wsgi_app, app.extensions["pactmock.front"], settings, settings.threads)
