"""What operators see of the workers: the last job each worker process ran (liveness) and the
depth of each arq queue. Written by the worker (worker/metrics.py), read by the ops console
and the worker's /metrics.

Liveness is one Redis hash, ``ops:workers``: field = worker id (host:pid), value = JSON with
the last job's name, when it ended and how it went. One HSET per job; entries of workers not
heard from for a day are dropped when read.

Queue depth uses arq's public ``ArqRedis.queued_jobs`` (no reading of arq's keys): it reads
every queued job, so its cost grows with the backlog; callers cache it briefly.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from arq.connections import ArqRedis
from redis.asyncio import Redis

from socialsync.config import Settings
from socialsync import clock

WORKERS_KEY = "ops:workers"
FORGET_AFTER_SECONDS = 24 * 3600


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def queue_names(settings: Settings) -> list[str]:
    """Every arq queue the workers consume (socialsync.queue names them per workload)."""
    from socialsync import queue  # noqa: PLC0415

    names = [settings.queue_name]
    every = getattr(queue, "all_queue_names", None)
    for name in (every(settings.queue_name) if every else []):
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


async def record_job(redis: Redis, wid: str, *, job: str, outcome: str, at: float | None = None,
                     started_at: float | None = None) -> None:
    now = time.time() if at is None else at
    value = {"job": job, "outcome": outcome, "at": now, "started_at": started_at}
    await redis.hset(WORKERS_KEY, wid, json.dumps(value))


@dataclass
class WorkerSeen:
    worker: str
    job: str | None
    outcome: str | None
    at: datetime

    @property
    def age_seconds(self) -> float:
        return (clock.now() - self.at).total_seconds()


async def workers(redis: Redis, *, now: float | None = None) -> list[WorkerSeen]:
    """Workers heard from in the last day, most recently seen first."""
    now = time.time() if now is None else now
    raw = await redis.hgetall(WORKERS_KEY)
    seen: list[WorkerSeen] = []
    stale: list[Any] = []
    for key, value in raw.items():
        try:
            data = json.loads(value)
            at = float(data["at"])
        except (ValueError, KeyError, TypeError):
            stale.append(key)
            continue
        if now - at > FORGET_AFTER_SECONDS:
            stale.append(key)
            continue
        name = key.decode() if isinstance(key, bytes) else str(key)
        seen.append(WorkerSeen(name, data.get("job"), data.get("outcome"), datetime.fromtimestamp(at, UTC)))
    if stale:
        await redis.hdel(WORKERS_KEY, *stale)
    return sorted(seen, key=lambda w: w.at, reverse=True)


@dataclass
class QueueStat:
    name: str
    depth: int  # queued jobs, due or deferred
    due: int  # of which due now
    oldest_due_seconds: float | None  # how long the longest-waiting due job has been due


async def queue_stats(redis: ArqRedis, names: list[str], *, now: float | None = None) -> list[QueueStat]:
    now_ms = (time.time() if now is None else now) * 1000
    stats = []
    for name in names:
        jobs = await redis.queued_jobs(queue_name=name)
        due = [j.score for j in jobs if j.score is not None and j.score <= now_ms]
        oldest = (now_ms - min(due)) / 1000 if due else None
        stats.append(QueueStat(name, len(jobs), len(due), oldest))
    return stats
