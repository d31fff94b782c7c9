"""Run the app under gunicorn, a production WSGI server, from inside the `pactmock` process."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from . import create_app
from .settings import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self._settings = settings
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app(self._settings)


def _post_worker_init(worker: Any) -> None:
    # The app was built once in the arbiter (preload); a connection pool must never be shared across
    # processes, so each worker starts with an empty one of its own.
    state = worker.wsgi.config["MOCK_STATE"]
    state.database.engine.dispose(close=False)


def serve(settings: Settings, *, workers: int, threads: int, reload: bool) -> None:
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "reload": reload,
        # Load the contracts once, before forking: workers share those pages instead of each
        # building its own copy. --reload needs each worker to load the code itself.
        "preload_app": not reload,
        "post_worker_init": _post_worker_init,
        "accesslog": None,
        "loglevel": "info",
        "graceful_timeout": 10,
        "timeout": 30,
        # gunicorn 23+ opens a control socket under $HOME; a container user may have no writable home.
        "control_socket_disable": True,
        # gunicorn's largest request line: longer paths reach the app and get a problem+json answer.
        # Past 8190 bytes gunicorn itself answers 414.
        "limit_request_line": 8190,
    }
    _Gunicorn(settings, options).run()
