"""The injectable clock: the service asks this module for the time, never ``datetime.now()``.

``clock.now()`` reads the process's current clock (``SYSTEM`` unless ``clock.use(other)`` swapped
it); ``Services.clock`` is the same clock (`PROCESS`), so code holding the services object and
code deep in ``store/`` agree. Tests swap in a `ManualClock` and move time instead of sleeping:

    previous = clock.use(ManualClock(datetime(2026, 3, 1, tzinfo=UTC)))
    try: ...
    finally: clock.use(previous)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware UTC."""
        ...

    def time(self) -> float:
        """The current moment as epoch seconds (Redis scores, leases)."""
        ...

    def real_seconds(self, seconds: float) -> float:
        """How long to wait in real time for ``seconds`` of this clock to pass (a job that
        defers itself until a moment on the clock)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    def real_seconds(self, seconds: float) -> float:
        return seconds


class ManualClock:
    """A clock that only moves when told (starts at the real time unless given one)."""

    def __init__(self, start: datetime | None = None, *, poll_seconds: float = 0.2) -> None:
        self._now = (start or datetime.now(UTC)).astimezone(UTC)
        self.poll_seconds = poll_seconds

    def now(self) -> datetime:
        return self._now

    def time(self) -> float:
        return self._now.timestamp()

    def real_seconds(self, seconds: float) -> float:
        """Time moves only when told: look again shortly."""
        return min(seconds, self.poll_seconds)

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


SYSTEM = SystemClock()


_current: Clock = SYSTEM


def now() -> datetime:
    """The current moment (timezone-aware UTC) on the process's clock."""
    return _current.now()


def epoch() -> float:
    """The current moment as epoch seconds on the process's clock."""
    return _current.time()


def real_seconds(seconds: float) -> float:
    """How long to wait in real time for ``seconds`` of the process's clock to pass."""
    return _current.real_seconds(seconds)


def use(clock: Clock) -> Clock:
    """Make ``clock`` the process's clock; returns the one it replaces (to restore it)."""
    global _current
    previous, _current = _current, clock
    return previous


class ProcessClock:
    """The process's current clock, whichever `use` installed (what `Services.clock` holds)."""

    def now(self) -> datetime:
        return _current.now()

    def time(self) -> float:
        return _current.time()

    def real_seconds(self, seconds: float) -> float:
        return _current.real_seconds(seconds)


PROCESS = ProcessClock()
