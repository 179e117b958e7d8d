"""When sync runs start: on demand (`request_sync`) and on each kind's interval, per account.

Each account fires each kind at a stable spot inside the interval (a hash of the account and
the kind), so 10,000 accounts do not fire at once; a full sync counts for every scheduled kind.
The kinds are the plugin's (``spec.sync_kinds``, all but ``full``); intervals are the
``sync_<kind>_minutes`` settings (``recent`` uses ``sync_profile_minutes``), 6 h otherwise.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any

from socialsync import queue
from socialsync.config import Settings
from socialsync.platforms.base import Platform
from socialsync.store import accounts as account_store
from socialsync.store import sync_runs

if TYPE_CHECKING:
    from socialsync.context import Services

DEFAULT_INTERVAL_MINUTES = 360


async def request_sync(
    services: Services, account: dict[str, Any], kind: str, trigger: str
) -> tuple[dict[str, Any], bool]:
    """Start a run of ``kind`` for the account, or join the one in progress; (re-)enqueue its job
    under its deterministic id either way (harmless when queued; revives a lost enqueue)."""
    run, created = await sync_runs.start_or_join(services.store, account, kind, trigger)
    await queue.enqueue(services.redis, queue.SYNC_RUN, run["_id"], job_id=queue.sync_job_id(account["_id"], run["_id"]))
    return run, created


def scheduled_kinds(plugin: Platform) -> tuple[str, ...]:
    if plugin.spec.scheduled_kinds is not None:
        return tuple(plugin.spec.scheduled_kinds)
    return tuple(k for k in plugin.spec.sync_kinds if k != "full")


def interval_seconds(settings: Settings, kind: str) -> int:
    minutes = getattr(settings, f"sync_{ {'recent': 'profile'}.get(kind, kind)}_minutes", DEFAULT_INTERVAL_MINUTES)
    return 60 * max(1, int(minutes))


def phase_seconds(account_id: str, kind: str, interval: int) -> int:
    """A stable spot inside the interval for this account: 10,000 accounts do not fire at once."""
    digest = hashlib.sha256(f"{account_id}:{kind}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % interval


def bucket(account_id: str, kind: str, interval: int, now: datetime) -> int:
    """Which occurrence of the schedule ``now`` falls in, shifted by the account's phase."""
    return int((now.timestamp() - phase_seconds(account_id, kind, interval)) // interval)


def due_kind(settings: Settings, plugin: Platform, account: dict[str, Any], now: datetime) -> tuple[str, int] | None:
    """The first scheduled kind due for the account, with its current bucket (None: nothing due)."""
    marks = account.get("sync_schedule") or {}
    for kind in scheduled_kinds(plugin):
        current = bucket(account["_id"], kind, interval_seconds(settings, kind), now)
        if marks.get(kind, -1) < current:
            return kind, current
    return None


async def mark_scheduled(services: Services, account: dict[str, Any], now: datetime) -> None:
    """A full sync covers every scheduled kind: the next ones are due after their interval."""
    plugin = services.platforms.for_account(account)
    s = services.settings
    await account_store.set_schedule_marks(services.store, account["_id"], {
        k: bucket(account["_id"], k, interval_seconds(s, k), now) for k in scheduled_kinds(plugin)
    })
