"""Data API quota: units per Google project (client id) per Pacific day, as Google counts them.

Costs are the documented ones (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §7.1): every ``*.list`` 1 unit,
comment writes and ``thumbnails.set`` 50; ``videos.insert`` is one call from its own 100-a-day
bucket. The day ends at midnight America/Los_Angeles (DST-aware) on the sandbox clock. A call
that does not fit is refused with 403 ``quotaExceeded`` and not charged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
DEFAULT_DAILY_UNITS = 10_000
DEFAULT_INSERTS_PER_DAY = 100

# (HTTP method, endpoint name) -> units. Endpoint names are the API's resource paths.
COSTS: dict[tuple[str, str], int] = {
    ("GET", "channels"): 1,
    ("GET", "playlistItems"): 1,
    ("GET", "videos"): 1,
    ("GET", "commentThreads"): 1,
    ("GET", "comments"): 1,
    ("POST", "comments"): 50,
    ("POST", "commentThreads"): 50,
    ("PUT", "comments"): 50,
    ("POST", "comments/setModerationStatus"): 50,
    ("DELETE", "comments"): 50,
    ("POST", "thumbnails/set"): 50,
    ("DELETE", "videos"): 50,
    ("PUT", "videos"): 50,
}
INSERT_BUCKET = "videos.insert"


def pacific_day(ts: float) -> date:
    return datetime.fromtimestamp(ts, PACIFIC).date()


def next_reset(ts: float) -> float:
    """The next midnight Pacific after ``ts``, as a UNIX timestamp."""
    tomorrow = pacific_day(ts) + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), PACIFIC).timestamp()


@dataclass(slots=True)
class ProjectQuota:
    daily_units: int = DEFAULT_DAILY_UNITS
    inserts_per_day: int = DEFAULT_INSERTS_PER_DAY
    day: date | None = None
    units: int = 0
    inserts: int = 0
    by_method: Counter[str] = field(default_factory=Counter)


class QuotaMeter:
    """Per-project counters that roll over at midnight Pacific."""

    def __init__(self) -> None:
        self.projects: dict[str, ProjectQuota] = {}

    def project(self, client_id: str, now: float) -> ProjectQuota:
        quota = self.projects.setdefault(client_id, ProjectQuota())
        today = pacific_day(now)
        if quota.day != today:
            quota.day, quota.units, quota.inserts = today, 0, 0
            quota.by_method = Counter()
        return quota

    def charge(self, client_id: str, now: float, method: str, name: str) -> bool:
        """Charge one call; False (and nothing charged) when it does not fit today."""
        quota = self.project(client_id, now)
        if name == INSERT_BUCKET:
            if quota.inserts + 1 > quota.inserts_per_day:
                return False
            quota.inserts += 1
        else:
            cost = COSTS.get((method, name), 1)
            if quota.units + cost > quota.daily_units:
                return False
            quota.units += cost
        quota.by_method[f"{method} {name}"] += 1
        return True

    def view(self, client_id: str, now: float) -> dict[str, object]:
        quota = self.project(client_id, now)
        return {
            "client_id": client_id,
            "day": quota.day.isoformat() if quota.day else None,
            "daily_units": quota.daily_units,
            "units_used": quota.units,
            "inserts_per_day": quota.inserts_per_day,
            "inserts_used": quota.inserts,
            "by_method": dict(quota.by_method),
            "resets_at": next_reset(now),
        }
