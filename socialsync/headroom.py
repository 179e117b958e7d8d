"""Rate-limit headroom per budget scope, for operators (the ops console's overview).

Each platform reports its own budgets through one small interface, `HeadroomProvider`: Meta's
usage percentages per app and per account, TikTok's per-minute windows, YouTube's units left
today. A platform adds itself with one entry in `providers()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from socialsync.context import Services


@dataclass
class Headroom:
    """One budget scope now."""

    platform: str
    scope: str  # e.g. a platform app scope, an account scope, "youtube:units"
    used_percent: float | None  # None when the platform does not express it as a share
    left: str  # what is left, in the platform's own terms ("15 % left", "9,400 units left today")
    blocked_seconds: float = 0.0  # > 0: no call goes out for this long
    paced: bool = False  # above the pacing threshold: calls are spaced out


class HeadroomProvider(Protocol):
    platform: str

    async def headroom(self, services: Services, *, limit: int = 20) -> list[Headroom]:
        """The platform's scopes worth showing (at most ``limit``), most used first."""
        ...


def providers() -> list[HeadroomProvider]:
    """Every platform's provider (one line per platform)."""
    from socialsync.platforms.instagram.headroom import MetaHeadroom  # noqa: PLC0415

    return [MetaHeadroom()]


async def all_headroom(services: Services, *, limit: int = 20) -> list[Headroom]:
    rows: list[Headroom] = []
    for provider in providers():
        rows += await provider.headroom(services, limit=limit)
    return rows
