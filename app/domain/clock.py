"""The mock's clock: the system's time, unless a test froze it, set it or moved it.

Every stateful answer reads time here (Epistemix's run lifecycle, a generic item's timed moves), so a test
can take a run from QUEUED to DONE without sleeping. The clock's setting is kept in the store, so every
worker process tells the same time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .cached import kept
from .errors import Invalid
from .ports import Store

SETTING = "clock"
# A clock moved further than this either way is a mistake in a test, not a simulation.
LARGEST_MOVE = timedelta(days=365 * 100)


def system_now() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ClockSetting:
    """How the mock's time relates to the system's: frozen at an instant, or the system's plus an offset."""

    frozen_at: datetime | None = None
    offset_seconds: float = 0.0

    def now(self, system: datetime) -> datetime:
        """The mock's time when the system's is `system`."""
        return self.frozen_at if self.frozen_at is not None else system + timedelta(seconds=self.offset_seconds)

    def as_json(self, system: datetime) -> dict[str, Any]:
        """What GET /_mock/clock answers."""
        return {
            "now": self.now(system).isoformat(),
            "frozen": self.frozen_at is not None,
            "offset_seconds": self.offset_seconds,
        }


class MockClock:
    """Reads (and changes) the clock's setting in the store.

    The web app's store keeps the setting per process and session until the control plane announces a change
    (cached.py); every other store is asked on each reading.
    """

    def __init__(self, store: Store, system: Callable[[], datetime] = system_now) -> None:
        self.store = store
        self.system = system

    def __call__(self) -> datetime:
        """The mock's time now."""
        return self.setting().now(self.system())

    def setting(self) -> ClockSetting:
        """The clock's setting now."""
        return kept(self.store, SETTING, self.stored_setting)

    def stored_setting(self) -> ClockSetting:
        """The clock's setting as the store holds it (a query)."""
        with self.store.reading() as uow:
            return _read(uow.settings.get(SETTING))

    def change(self, action: str, seconds: float | None = None, at: datetime | None = None) -> ClockSetting:
        """freeze (at now, or at `at`), advance by `seconds`, set to `at`, or resume (run on from where it is)."""
        system = self.system()
        with self.store.writing() as uow:
            current = _read(uow.settings.get(SETTING))
            changed = _changed(current, action, seconds, at, system)
            uow.settings.put(SETTING, _write(changed))
        return changed

    def reset(self) -> ClockSetting:
        """Back to the system's time."""
        with self.store.writing() as uow:
            uow.settings.put(SETTING, _write(ClockSetting()))
        return ClockSetting()


def _changed(
    current: ClockSetting, action: str, seconds: float | None, at: datetime | None, system: datetime
) -> ClockSetting:
    now = current.now(system)
    if action == "freeze":
        return ClockSetting(frozen_at=at or now)
    if action == "resume":
        return ClockSetting(offset_seconds=(now - system).total_seconds())
    if action == "set":
        if at is None:
            raise Invalid('"set" needs "at", an RFC 3339 date-time with a zone')
        _check_move(at - now)
        return (
            ClockSetting(frozen_at=at)
            if current.frozen_at
            else ClockSetting(offset_seconds=(at - system).total_seconds())
        )
    if action == "advance":
        if seconds is None or seconds < 0:
            raise Invalid('"advance" needs "seconds", a number of seconds of 0 or more (time does not go back)')
        _check_move(timedelta(seconds=seconds))
        if current.frozen_at is not None:
            return ClockSetting(frozen_at=current.frozen_at + timedelta(seconds=seconds))
        return ClockSetting(offset_seconds=current.offset_seconds + seconds)
    raise Invalid(f"action must be one of freeze, advance, set, resume, not {action!r}")


def _check_move(move: timedelta) -> None:
    if abs(move) > LARGEST_MOVE:
        raise Invalid(f"the clock moves at most {LARGEST_MOVE.days} days at once, not {move.days} days")


def _read(value: dict[str, Any] | None) -> ClockSetting:
    if not value:
        return ClockSetting()
    frozen = value.get("frozen_at")
    return ClockSetting(datetime.fromisoformat(frozen) if frozen else None, float(value.get("offset_seconds", 0.0)))


def _write(setting: ClockSetting) -> dict[str, Any]:
    frozen = setting.frozen_at.isoformat() if setting.frozen_at else None
    return {"frozen_at": frozen, "offset_seconds": setting.offset_seconds}


def stepped(moment: datetime, step: float) -> datetime:
    """`moment` at the start of its step: the time as a provider whose clock moves in steps of `step` seconds
    sees it (a model file's `clock: {step: ...}`); steps are counted from the Unix epoch, so every worker and
    server agrees on where each begins."""
    zone = moment.tzinfo or UTC
    return datetime.fromtimestamp(math.floor(moment.timestamp() / step) * step, zone)
