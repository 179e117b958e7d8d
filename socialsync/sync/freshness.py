"""What the API says about an account's syncs: per kind, when it last ran and when it runs next.

``accounts.last_sync_by_kind.<kind>`` holds the last finished run of each kind (a full sync
covers every kind); ``accounts.sync_schedule.<kind>`` the last occurrence of the kind's interval
the cron started (schedule.py). The next run starts at the account's phase in the following
occurrence, or at the next cron tick when that is already past (due now).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field

from socialsync.config import Settings
from socialsync.sync.schedule import bucket, interval_seconds, phase_seconds


def next_run_at(settings: Settings, account_id: str, kind: str, last_bucket: int | None, now: datetime) -> datetime:
    """When the cron will start the next run of ``kind``."""
    interval = interval_seconds(settings, kind)
    phase = phase_seconds(account_id, kind, interval)
    following = (last_bucket if last_bucket is not None else bucket(account_id, kind, interval, now) - 1) + 1
    at = phase + following * interval
    if at <= now.timestamp():
        tick = 60 * max(1, settings.sync_schedule_tick_minutes)
        at = math.ceil(now.timestamp() / tick) * tick
    return datetime.fromtimestamp(at, UTC)


class KindFreshness(BaseModel):
    last_sync_at: datetime | None = Field(default=None, description="When the last run covering this kind finished")
    last_status: str | None = Field(default=None, description="success | partial | failed | skipped")
    last_run_id: str | None = None
    next_sync_at: datetime | None = Field(default=None, description="When the schedule runs it next (null: not scheduled)")


def freshness(
    settings: Settings, doc: dict[str, Any], scheduled: tuple[str, ...], now: datetime
) -> dict[str, KindFreshness]:
    """Per sync kind (``full`` and the platform's ``scheduled`` kinds): the last finished run
    covering it (its own, or a newer full sync) and the next scheduled one (none for ``full`` or
    an inactive account)."""
    by_kind = doc.get("last_sync_by_kind") or {}
    marks = doc.get("sync_schedule") or {}
    full = by_kind.get("full")
    out: dict[str, KindFreshness] = {}
    for kind in ("full", *scheduled):
        last = by_kind.get(kind)
        if kind != "full" and full and (last is None or _at(full) > _at(last)):
            last = full
        item = KindFreshness()
        if last:
            item.last_sync_at, item.last_status, item.last_run_id = _at(last), last.get("status"), last.get("run_id")
        if kind != "full" and doc.get("status") == "active":
            item.next_sync_at = next_run_at(settings, doc["_id"], kind, marks.get(kind), now)
        out[kind] = item
    return out


def _at(summary: dict[str, Any]) -> datetime:
    moment = summary.get("finished_at") or datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
