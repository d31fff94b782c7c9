"""A clock that moves in steps (a model file's `clock: {step: ...}`) gives every moment of a step its start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.domain.clock import stepped

NOON = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "step", "start"),
    [
        (NOON + timedelta(seconds=0.7), 1, NOON),
        (NOON + timedelta(seconds=1.0), 1, NOON + timedelta(seconds=1)),
        (NOON + timedelta(seconds=59.9), 60, NOON),
        (NOON + timedelta(seconds=0.74), 0.25, NOON + timedelta(seconds=0.5)),
        (NOON, 1, NOON),
    ],
)
def test_a_moment_is_seen_at_the_start_of_its_step(moment: datetime, step: float, start: datetime) -> None:
    assert stepped(moment, step) == start


def test_steps_begin_at_the_same_instants_in_every_zone() -> None:
    in_paris = (NOON + timedelta(seconds=30.5)).astimezone(timezone(timedelta(hours=2)))

    seen = stepped(in_paris, 60)

    assert seen == NOON and seen.utcoffset() == timedelta(hours=2)
