"""Scheduling spread: for N accounts (default 10,000) over one day, how many sync runs the
scheduler cron starts per tick and per minute, computed from the real scheduling code
(``socialsync.sync.schedule``: ``interval_seconds``, ``bucket``, ``scheduled_kinds`` of the
Instagram plugin, ``due_kind``'s first-due-kind rule and the tick cadence of the cron), no calls made. Peak ÷ mean is the figure (goal ≤ 1.5).

The loop below is the scheduler cron without MongoDB: at each tick, for every account,
the first due kind starts a run and the others wait for a later tick (one run per account at a
time); every run is assumed finished before the next tick. Accounts start as after their first
full sync at a random moment of the previous day (``mark_scheduled``).

Run: ``python bench/scale_schedule_spread.py [accounts]``.
"""

from __future__ import annotations

import random
import statistics
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import functools  # noqa: E402

from types import SimpleNamespace  # noqa: E402

from socialsync.config import Settings  # noqa: E402
from socialsync.platforms.instagram.plugin import SPEC  # noqa: E402
from socialsync.sync import schedule as sync_jobs  # noqa: E402
from socialsync.sync.schedule import bucket, interval_seconds  # noqa: E402

SCHEDULED_KINDS = sync_jobs.scheduled_kinds(SimpleNamespace(spec=SPEC))  # type: ignore[arg-type]
# The account's phase is a hash, the same every call: cache it (speed only; same values).
sync_jobs.phase_seconds = functools.lru_cache(maxsize=None)(sync_jobs.phase_seconds)


def simulate(accounts: int, settings: Settings, day: datetime, seed: int = 14) -> tuple[Counter[datetime], Counter[str]]:
    """Runs started per tick during ``day``, after two days of warm-up (steady state)."""
    rng = random.Random(seed)
    tick = timedelta(minutes=max(1, settings.sync_schedule_tick_minutes))
    intervals = {k: interval_seconds(settings, k) for k in SCHEDULED_KINDS}
    ids = [f"acc_{rng.getrandbits(64):016x}" for _ in range(accounts)]
    start = day - timedelta(days=2)
    marks: dict[str, dict[str, int]] = {}
    due_at: dict[str, dict[str, float]] = {}
    wake: dict[float, list[str]] = {}  # tick timestamp -> accounts with something due then
    tick_s = tick.total_seconds()

    def next_tick(t: float) -> float:  # the first tick at or after t
        base = start.timestamp()
        return base + -(-(t - base) // tick_s) * tick_s

    for account_id in ids:  # connected (full sync) at a random moment of the day before the warm-up
        connected = start - timedelta(seconds=rng.uniform(0, 86400))
        marks[account_id] = {k: bucket(account_id, k, intervals[k], connected) for k in SCHEDULED_KINDS}
        # the bucket after the mark begins at phase + (mark + 1) * interval (see socialsync.sync.schedule.bucket)
        due_at[account_id] = {k: sync_jobs.phase_seconds(account_id, k, intervals[k]) + (marks[account_id][k] + 1) * intervals[k]
                              for k in SCHEDULED_KINDS}
        wake.setdefault(max(start.timestamp(), next_tick(min(due_at[account_id].values()))), []).append(account_id)
    per_tick: Counter[datetime] = Counter()
    per_kind: Counter[str] = Counter()
    now = start
    while now < day + timedelta(days=1):
        t = now.timestamp()
        for account_id in wake.pop(t, []):
            mark = marks[account_id]
            for kind in SCHEDULED_KINDS:  # socialsync.sync.schedule.due_kind
                current = bucket(account_id, kind, intervals[kind], now)
                if mark[kind] >= current:
                    continue
                mark[kind] = current
                due_at[account_id][kind] = sync_jobs.phase_seconds(account_id, kind, intervals[kind]) + (current + 1) * intervals[kind]
                if now >= day:
                    per_tick[now] += 1
                    per_kind[kind] += 1
                break  # one run per account at a time: other due kinds wait for a later tick
            wake.setdefault(max(t + tick_s, next_tick(min(due_at[account_id].values()))), []).append(account_id)
        now += tick
    return per_tick, per_kind


def report(name: str, counts: list[int]) -> str:
    mean = statistics.fmean(counts)
    return (f"{name}: mean {mean:.1f}, peak {max(counts)}, min {min(counts)}, "
            f"peak/mean {max(counts) / mean:.2f}, p99/mean {sorted(counts)[int(len(counts) * 0.99)] / mean:.2f}")


def main(accounts: int) -> None:
    settings = Settings(token_keys="x" * 44)
    day = datetime(2026, 12, 2, tzinfo=UTC)
    per_tick, per_kind = simulate(accounts, settings, day)
    ticks = [per_tick.get(day + timedelta(minutes=m), 0) for m in range(0, 1440, max(1, settings.sync_schedule_tick_minutes))]
    print(f"{accounts} accounts, one day, tick every {settings.sync_schedule_tick_minutes} min, "
          f"intervals (min): " + ", ".join(f"{k} {interval_seconds(settings, k) // 60}" for k in SCHEDULED_KINDS))
    print(f"runs started: {sum(ticks)} ({dict(per_kind)})")
    print(report(f"runs per tick ({len(ticks)} ticks)", ticks))
    per_minute = [c / max(1, settings.sync_schedule_tick_minutes) for c in ticks]
    print(report("runs per minute, each tick's runs spread over its minutes (what the workers see)", per_minute))
    one = Settings(token_keys="x" * 44, sync_schedule_tick_minutes=1)
    per_tick1, _ = simulate(accounts, one, day)
    minutes = [per_tick1.get(day + timedelta(minutes=m), 0) for m in range(1440)]
    print(report("with a 1-minute tick: runs per minute", minutes))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
