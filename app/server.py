"""Run the app under granian from inside the `pactmock` process.

granian was measured fastest of the maintained Python servers on this project's machines (bench/WSGI.md). Its
main process only supervises: each worker process builds the app itself from `Settings.from_env()`, so what the
command line changed (host, port, threads) is written back to the environment before the workers start.

granian serves the RSGI entrance (web/entrance.py), not the WSGI app: a request body is then received on the
worker's event loop before any thread is spent on it, so slow or idle clients cannot hold the threads.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import resource
import signal
from pathlib import Path
from typing import Any

from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.log import LogLevels
from granian.server import Server

from .settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PR_SET_PDEATHSIG = 1

log = logging.getLogger(__name__)


def _load_app(_target: str) -> Any:
    """Build the app in a worker: imported by module, never from the working directory (it may hold another `app`)."""
    _exit_with_parent()
    from .web.factory import build_entrance

    settings = Settings.from_env()
    return build_entrance(settings)


def _exit_with_parent() -> None:
    """A worker whose supervisor was killed (SIGKILL leaves no time to stop it) must not keep the port."""
    # Until granian installs its own handlers (once the app is loaded), the worker still has the supervisor's
    # SIGTERM handler, which only sets a flag: a loading worker must really stop on SIGTERM.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return  # not Linux: the worker outlives a killed supervisor, as before
    if os.getppid() == 1:
        os.kill(os.getpid(), signal.SIGTERM)  # the supervisor died before prctl took effect


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


def _raise_open_files_limit(connections: int) -> None:
    """Each held connection is a file descriptor: ask for enough of them, up to what the system allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + 1024
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new_soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new_soft, hard))


def _hand_to_workers(settings: Settings) -> None:
    """Write what the command line may have changed where each worker's `Settings.from_env()` reads it.

    Each granian worker builds the app in its own process (`_load_app`); the environment is how this process
    reaches them.
    """
    os.environ["FLASK_HOST"] = settings.host
    os.environ["FLASK_PORT"] = str(settings.port)
    os.environ["PACTMOCK_THREADS"] = str(settings.threads)
    os.environ["PACTMOCK_REPLAY_PROVIDERS"] = ",".join(settings.replay_providers)
    os.environ["PACT_DIR"] = settings.pact_dir


def serve(settings: Settings, *, workers: int, reload: bool) -> None:
    """Serve `settings` under granian with `workers` processes until stopped; `reload`: restart on changes."""
    _hand_to_workers(settings)
    _raise_open_files_limit(settings.max_connections)
    server = Server(
        "app:create_app",
        address=settings.host,
        port=settings.port,
        interface=Interfaces.RSGI,
        workers=workers,
        # HTTP/2 without TLS (h2c) would be a second protocol with its own limits: one is enough for a mock.
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(header_read_timeout=int(settings.idle_timeout_seconds * 1000)),
        backlog=settings.backlog,
        backpressure=settings.max_connections,
        websockets=False,
        log_level=LogLevels.info,
        log_dictconfig=_logging_config(),
        log_access=False,
        respawn_failed_workers=True,
        respawn_interval=settings.tuning.respawn_interval_seconds,
        workers_kill_timeout=settings.tuning.workers_kill_timeout_seconds,
        reload=reload,
        reload_paths=_watched_paths(settings) if reload else None,
    )
    if not reload:  # a reloaded worker must import the code anew, not inherit this process's modules
        _share_with_workers()
    server.serve(target_loader=_load_app)


def _share_with_workers() -> None:
    """Import the web stack here, before granian forks the workers: its modules are then shared with them, not
    imported again in each (the tree's PSS on the epx pacts: 148 MB before, 137-138 MB after). Frozen, they are
    never walked by a worker's cyclic collector, which would copy their pages."""
    from .web import factory  # noqa: F401

    gc.collect()
    gc.freeze()
