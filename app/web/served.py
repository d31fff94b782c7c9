"""What one worker process serves: the contracts and their router, the stateful providers, and their store.

Built once by the factory (factory.py) and handed to the contract front and the control plane.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ..contract.read.loader import LoadResult, load_pacts
from ..contract.serve.router import Router
from ..domain.lifecycle import Durations
from ..domain.model import Policy
from ..domain.ports import Store
from ..providers.registry import Registry
from ..settings import Settings

log = logging.getLogger(__name__)


def system_clock() -> datetime:
    """The time now, in UTC: the clock every stateful answer reads unless a test sets another."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Served:
    """The contracts this worker serves, the providers that keep state, and where they keep it."""

    settings: Settings
    contracts: LoadResult
    router: Router
    providers: Registry
    store: Store
    policy: Policy
    clock: Callable[[], datetime] = system_clock


def load_contracts(settings: Settings) -> tuple[LoadResult, Router]:
    """Every pact under the pact folder, and the router over their HTTP interactions."""
    # Loading builds millions of small objects that live as long as the process: the cyclic
    # collector would walk them all again and again (3x the load time at 100,000 interactions).
    gc.disable()
    try:
        # Large pacts are indexed and each interaction compiled on first use (contract/read/index.py).
        loaded = load_pacts(settings.pact_dir, compile_lazily_from=settings.tuning.compile_lazily_from)
        router = Router(loaded.interactions)
    finally:
        gc.enable()
    # Later collections skip the contracts, and forked workers do not copy their pages by touching them.
    gc.freeze()
    for problem in loaded.problems:
        log.error("not serving %s", problem)
    log.info("serving %d interactions from %d contracts", router.count, len(loaded.contracts))
    return loaded, router


def policy_of(settings: Settings) -> Policy:
    """The domain's policy as the settings give it."""
    durations = Durations(
        settings.run_not_started_seconds,
        settings.run_queued_seconds,
        settings.run_running_seconds,
        settings.run_outcome,
    )
    return Policy(
        settings.user_id,
        durations,
        max_job_upload_bytes=settings.max_job_upload_bytes,
        max_total_upload_bytes=settings.max_total_upload_bytes,
        max_listed_runs=settings.max_listed_runs,
    )
