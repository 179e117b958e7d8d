"""Which day a daily Instagram insight belongs to.

Meta measures account insights in Pacific calendar days (America/Los_Angeles, DST included), and a
daily value's ``end_time`` is the *end* of the measured day: ``2026-11-30T08:00:00+0000`` carries
the value of 29 November. Labelling a value with the date of its ``end_time`` would show it on the
following day, so the project labels it with the measured day: the Pacific date that ended at
``end_time``, stored as that date at 00:00 UTC (a calendar label, not an instant; see docs/sync.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")


def pacific_midnight(day: date) -> datetime:
    """The instant a Pacific day starts (aware, in UTC)."""
    return datetime.combine(day, time(), PACIFIC).astimezone(UTC)


def pacific_today(now: datetime) -> date:
    return now.astimezone(PACIFIC).date()


def day_label(day: date) -> datetime:
    """How a measured day is stored and shown: the date at 00:00 UTC."""
    return datetime.combine(day, time(), UTC)


def measured_day(end_time: datetime) -> date:
    """The Pacific day that ended at ``end_time``."""
    return (end_time.astimezone(PACIFIC) - timedelta(seconds=1)).date()
