"""What the web layer keeps for the life of the process: contracts, router, database."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ..contract.read.loader import LoadResult, load_pacts
from ..contract.serve.router import Router
from ..domain.lifecycle import Durations
from ..domain.services import Policy
from ..settings import Settings
from ..store.database import Database
from ..store.repositories import ProviderStateRepository

log = logging.getLogger(__name__)

# Below this many HTTP interactions a pact is compiled whole at start, so a broken interaction is reported
# before the first request, as it always was: 2,000 compile in well under a second and hold about 14 MB per
# worker. From it on, compiling whole costs seconds and hundreds of megabytes in every worker, so the file
# is indexed and each interaction compiled on first use (contract/read/index.py, docs/contract-engine.md).
COMPILE_LAZILY_FROM = 2000


class DatabaseNeeded(Exception):
    """Raised where code that must not wait on the database (the entrance's event loop) was about to."""


_where = threading.local()


@contextmanager
def no_database_here() -> Iterator[None]:
    """Within this block, this thread must not wait on the database: `active_states` raises DatabaseNeeded."""
    _where.no_database = True
    try:
        yield
    finally:
        _where.no_database = False


@dataclass
class MockState:
    settings: Settings
    loaded: LoadResult
    router: Router
    database: Database
    policy: Policy

    @classmethod
    def load(cls, settings: Settings) -> MockState:
        # Loading builds millions of small objects that live as long as the process: the cyclic
        # collector would walk them all again and again (3x the load time at 100,000 interactions).
        gc.disable()
        try:
            loaded = load_pacts(settings.pact_dir, compile_lazily_from=COMPILE_LAZILY_FROM)
            router = Router(loaded.interactions)
        finally:
            gc.enable()
        # Later collections skip the contracts, and forked workers do not copy their pages by touching them.
        gc.freeze()
        for problem in loaded.problems:
            log.error("not serving %s", problem)
        log.info("serving %d interactions from %d contracts", router.count, len(loaded.contracts))
        durations = Durations(
            settings.run_not_started_seconds,
            settings.run_queued_seconds,
            settings.run_running_seconds,
            settings.run_outcome,
        )
        policy = Policy(
            settings.user_id,
            durations,
            max_job_upload_bytes=settings.max_job_upload_bytes,
            max_total_upload_bytes=settings.max_total_upload_bytes,
            max_listed_runs=settings.max_listed_runs,
        )
        return cls(settings, loaded, router, Database(settings), policy)

    def active_states(self) -> frozenset[str]:
        """Provider states live in the database, so every worker process routes by the same ones."""
        if getattr(_where, "no_database", False):
            raise DatabaseNeeded
        with self.database.transaction(write=False) as session:
            return ProviderStateRepository(session).active()
