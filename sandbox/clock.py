"""The sandbox clock: wall clock plus an offset that tests move forward.

Every lifetime in the sandbox (codes, tokens, rate-limit windows) is measured on this clock, so
a test can age a token by 25 hours in one control call instead of waiting.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall time shifted by ``offset`` seconds; only ever moves forward."""

    def __init__(self) -> None:
        self.offset: float = 0.0

    def now(self) -> float:
        """Current sandbox time as a UNIX timestamp."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (never back: rolling windows assume monotonic time)."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.offset += seconds

    def reset(self) -> None:
        self.offset = 0.0

    def iso(self, ts: float | None = None) -> str:
        """A timestamp in Meta's format: ISO 8601, UTC, ``+0000`` offset without a colon."""
        moment = datetime.fromtimestamp(self.now() if ts is None else ts, UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")
