"""YouTube's answer to ``GET /v1/platforms/youtube/quota`` (the core's `QuotaReporter`): the Google
project's units today (read from the core governor) and what the scheduled syncs will spend."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from socialsync.platforms.youtube.planner import plan
from socialsync.platforms.youtube.quota import status as quota_status

if TYPE_CHECKING:
    from socialsync.platforms.youtube.plugin import YouTubePlatform


class QuotaReport:
    def __init__(self, plugin: YouTubePlatform) -> None:
        self.plugin = plugin

    async def report(self, *, active_accounts: int, tenant_accounts: list[str], now: float,
                     sync_intervals: Mapping[str, int]) -> dict[str, Any]:
        plugin, block = self.plugin, self.plugin.block
        governor = plugin.context.governor
        assert governor is not None, "the quota is kept by the core governor"
        status = await quota_status(governor, plugin.rates, tenant_accounts, now)
        planned = plan(daily_units=block.daily_units, reserve_units=block.reserve_units,
                       sync_interval_minutes=sync_intervals["recent"] // 60, accounts=active_accounts,
                       seconds_to_reset=status.resets_at - now)
        return {
            "platform": "youtube", "day": status.day, "resets_at": status.resets_at,
            "daily_units": status.daily_units, "reserve_units": status.reserve_units,
            "spent": status.spent, "left": status.left, "uploads_today": status.inserts,
            "blocked_until": status.blocked_until,
            "your_accounts": status.by_account,
            "scheduled": planned.public(),
        }
