"""Run the app under granian, a production WSGI server, from inside the `pactmock` process.

granian was measured fastest of the maintained WSGI servers on this project's machines (bench/WSGI.md). Its main
process only supervises: each worker process builds the app itself, so everything a worker needs (the CLI's host,
port and the rest of the settings) travels through the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server import Server

from .settings import Settings

# A worker still loading the app ignores SIGTERM; after this many seconds granian kills it, so a stop
# requested during start-up never hangs. In-flight requests get the same time to finish.
WORKERS_KILL_TIMEOUT_SECONDS = 10
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _load_app(_target: str) -> Any:
    """Build the app in a worker: imported by module, never from the working directory (it may hold another `app`)."""
    from . import create_app

    return create_app()


def _logging_config() -> dict[str, Any]:
    """One format for granian's lines and the app's, on stderr, in every process."""
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": "INFO"},
        "loggers": {"_granian": {"handlers": ["console"], "level": "INFO", "propagate": False}},
    }


def _watched_paths(settings: Settings) -> list[Path]:
    """The code and the pacts: granian's default (the working directory) holds the SQLite file and logs."""
    paths = [Path(__file__).resolve().parent]
    pact_dir = Path(settings.pact_dir).resolve()
    if pact_dir.exists():
        paths.append(pact_dir)
    return paths


def serve(settings: Settings, *, workers: int, threads: int, reload: bool) -> None:
    # Workers read their settings from the environment: carry the command line's host and port there.
    os.environ["FLASK_HOST"] = settings.host
    os.environ["FLASK_PORT"] = str(settings.port)
    server = Server(
        "app:create_app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        websockets=False,
        log_level=LogLevels.info,
        log_dictconfig=_logging_config(),
        log_access=False,
        workers_kill_timeout=WORKERS_KILL_TIMEOUT_SECONDS,
        reload=reload,
        reload_paths=_watched_paths(settings) if reload else None,
    )
    server.serve(target_loader=_load_app)
