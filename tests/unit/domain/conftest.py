"""The domain's unit tests share a fresh in-memory store, the settings' policy and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.lifecycle import Durations
from app.domain.model import Policy

from .memory_store import MemoryStore

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
# The user every job belongs to (Settings.user_id's default, the contract's example).
USER_ID = 456
POLICY = Policy(user_id=USER_ID, durations=Durations(not_started=1, queued=2, running=3))


def at(seconds: float) -> datetime:
    """START plus some seconds: the clock the tests move by hand."""
    return START + timedelta(seconds=seconds)


@pytest.fixture
def store() -> MemoryStore:
    """An empty store whose counters start where a freshly migrated database's do."""
    return MemoryStore()
