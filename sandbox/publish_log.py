"""The publish log: every post that went live on any platform, oldest first.

Shared by all platforms (``GET /_sandbox/published``). A record names its platform, the account
it was published on (the platform's own account id), the platform's media id and the sandbox
time; a platform adds its own fields in ``details`` (see its package's README), which the control API
shows flat beside the common ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import Clock


@dataclass(frozen=True, slots=True)
class PublishRecord:
    platform: str
    account: str
    media_id: str
    at: float
    details: dict[str, Any] = field(default_factory=dict)

    def public(self, clock: Clock) -> dict[str, Any]:
        return {
            **self.details,
            "platform": self.platform,
            "account": self.account,
            "media_id": self.media_id,
            "at": clock.iso(self.at),
        }


class PublishLog:
    """Append-only (until reset) list of published posts."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._records: list[PublishRecord] = []

    def reset(self) -> None:
        self._records = []

    def record(
        self, platform: str, account: str, media_id: str, **details: Any
    ) -> PublishRecord:
        entry = PublishRecord(platform, account, media_id, self._clock.now(), dict(details))
        self._records.append(entry)
        return entry

    def records(
        self, *, platform: str | None = None, account: str | None = None
    ) -> Iterator[PublishRecord]:
        for entry in self._records:
            if platform is not None and entry.platform != platform:
                continue
            if account is not None and entry.account != account:
                continue
            yield entry

    def count_since(self, platform: str, account: str, since: float) -> int:
        """How many posts went live on ``account`` after ``since`` (publishing quotas)."""
        return sum(1 for r in self.records(platform=platform, account=account) if r.at > since)
