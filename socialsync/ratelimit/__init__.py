"""Rate limits: the Redis governor (`governor.py`) and the policies for budget styles that
platforms configure (`policies.py`: per-minute windows, daily units). See docs/platforms.md."""

from socialsync.platforms.base import Budget, BudgetUpdate, Call, RateLimited
from socialsync.ratelimit.governor import Governor, day_and_reset
from socialsync.ratelimit.policies import DailyUnitsPolicy, WindowPolicy, WindowRule

__all__ = [
    "Budget", "BudgetUpdate", "Call", "DailyUnitsPolicy", "Governor", "RateLimited", "WindowPolicy",
    "WindowRule", "day_and_reset",
]
