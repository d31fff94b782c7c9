"""What the web layer keeps for the life of the process: contracts, router, active provider states."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from ..contract.loader import LoadResult, load_pacts
from ..contract.router import Router
from ..settings import Settings

log = logging.getLogger(__name__)


@dataclass
class MockState:
    settings: Settings
    loaded: LoadResult
    router: Router
    _active_states: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, settings: Settings) -> MockState:
        loaded = load_pacts(settings.pact_dir)
        for problem in loaded.problems:
            log.error("not serving %s", problem)
        router = Router(loaded.interactions)
        log.info("serving %d interactions from %d contracts", router.count, len(loaded.contracts))
        return cls(settings, loaded, router)

    @property
    def active_states(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._active_states)

    def set_state(self, name: str, active: bool) -> None:
        with self._lock:
            if active:
                self._active_states.add(name)
            else:
                self._active_states.discard(name)
