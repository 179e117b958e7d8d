"""Prometheus metrics of the worker, served on their own port (``worker_metrics_port``; 0: off).

Only arq's public API is used: every job function and cron job is wrapped in our own coroutine
(``dataclasses.replace`` on arq's ``Function`` / ``CronJob``) that times it and classifies how it
ended; queue depth comes from ``ArqRedis.queued_jobs`` at scrape time. API calls are counted by an
httpx response hook on the shared client, rate-limit refusals by wrapping the governor's
``acquire`` of this process's services, so no platform code knows about metrics.

Series (all prefixed ``socialsync_worker_`` or ``socialsync_``):
- ``socialsync_worker_jobs_total{job, outcome}`` outcome: success, retry, error, cancelled;
- ``socialsync_worker_job_duration_seconds{job}`` (histogram);
- ``socialsync_worker_queue_depth{queue}``, ``…_queue_due{queue}``, ``…_queue_oldest_due_seconds{queue}``;
- ``socialsync_ratelimit_refusals_total{platform, reason}`` reason: blocked, paced;
- ``socialsync_ratelimit_scope_used_percent{platform, scope}``, ``socialsync_ratelimit_scope_blocked{…}``;
- ``socialsync_api_calls_total{platform, endpoint, status}`` (endpoint: path with ids as ``{id}``);
- ``socialsync_publish_outcomes_total{outcome}`` what each ``publish.advance`` step ended in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from aiohttp import web
from arq import Retry
from arq.cron import CronJob
from arq.worker import Function
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from socialsync import headroom, worker_status
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.logs import get_logger

log = get_logger(__name__)
PUBLISH_JOB = "publish.advance"
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_ID_SEGMENT = re.compile(r"^(\d{3,}|[0-9a-f]{16,}|[A-Za-z0-9_-]{24,})$")
_VERSION_SEGMENT = re.compile(r"^v\d+(\.\d+)?$")


def endpoint_of(path: str) -> str:
    """A low-cardinality name of an API path: ids become ``{id}``, versions ``{v}``."""
    parts = []
    for segment in path.strip("/").split("/"):
        if _VERSION_SEGMENT.match(segment):
            parts.append("{v}")
        elif _ID_SEGMENT.match(segment):
            parts.append("{id}")
        else:
            parts.append(segment)
    return "/" + "/".join(parts[:6])


class WorkerMetrics:
    """The worker process's metrics, in a registry of its own (tests build many workers).

    One instance per settings object (`for_settings`): when a process runs several arq Workers
    (one per queue) they share it, and the server is started once and stopped by the last."""

    _instances: dict[int, tuple[weakref.ref, "WorkerMetrics"]] = {}  # id(settings) -> (ref, metrics)

    @classmethod
    def for_settings(cls, settings: Settings) -> "WorkerMetrics":
        key = id(settings)
        found = cls._instances.get(key)
        if found is not None and found[0]() is settings:
            return found[1]
        metrics = cls(settings)
        cls._instances[key] = (weakref.ref(settings, lambda _ref, k=key: cls._instances.pop(k, None)), metrics)
        return metrics

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = CollectorRegistry()
        r = self.registry
        self.jobs = Counter("socialsync_worker_jobs", "Jobs run, by name and outcome", ["job", "outcome"], registry=r)
        self.duration = Histogram("socialsync_worker_job_duration_seconds", "Job durations", ["job"],
                                  buckets=DURATION_BUCKETS, registry=r)
        self.queue_depth = Gauge("socialsync_worker_queue_depth", "Jobs queued (due or deferred)", ["queue"], registry=r)
        self.queue_due = Gauge("socialsync_worker_queue_due", "Queued jobs already due", ["queue"], registry=r)
        self.queue_oldest = Gauge("socialsync_worker_queue_oldest_due_seconds",
                                  "How long the longest-waiting due job has been due", ["queue"], registry=r)
        self.refusals = Counter("socialsync_ratelimit_refusals", "Calls the rate-limit governor held back",
                                ["platform", "reason"], registry=r)
        self.scope_used = Gauge("socialsync_ratelimit_scope_used_percent", "Budget used per scope (platform's view)",
                                ["platform", "scope"], registry=r)
        self.scope_blocked = Gauge("socialsync_ratelimit_scope_blocked_seconds", "Seconds until a blocked scope opens",
                                   ["platform", "scope"], registry=r)
        self.api_calls = Counter("socialsync_api_calls", "Platform API calls by endpoint and HTTP status",
                                 ["platform", "endpoint", "status"], registry=r)
        self.publish = Counter("socialsync_publish_outcomes", "What publish steps ended in", ["outcome"], registry=r)
        self.worker = worker_status.worker_id()
        self._runner: web.AppRunner | None = None
        self._users = 0  # Workers started with this instance and not yet stopped
        self._services: Services | None = None

    # --- jobs ---------------------------------------------------------------------------------
    def _wrap(self, name: str, coroutine: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(coroutine)
        async def timed(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            started = time.time()
            outcome = "error"
            try:
                result = await coroutine(ctx, *args, **kwargs)
                outcome = "success"
                if name == PUBLISH_JOB:
                    self.publish.labels(result if isinstance(result, str) and len(result) <= 40 else "other").inc()
                return result
            except Retry:
                outcome = "retry"
                raise
            except asyncio.CancelledError:
                outcome = "cancelled"  # a timeout, or the worker shutting down
                raise
            finally:
                self.jobs.labels(name, outcome).inc()
                self.duration.labels(name).observe(time.time() - started)
                await self._seen(ctx, name, outcome, started)

        return timed

    async def _seen(self, ctx: dict[str, Any], name: str, outcome: str, started: float) -> None:
        services: Services | None = ctx.get("services")
        if services is None:
            return
        try:
            await worker_status.record_job(services.redis, self.worker, job=name, outcome=outcome, started_at=started)
        except Exception as exc:  # noqa: BLE001 - liveness must never fail a job
            log.warning("could not record worker liveness", error=type(exc).__name__)

    def functions(self, functions: list[Function]) -> list[Function]:
        return [dataclasses.replace(f, coroutine=self._wrap(f.name, f.coroutine)) for f in functions]

    def cron_jobs(self, jobs: list[CronJob]) -> list[CronJob]:
        return [dataclasses.replace(c, coroutine=self._wrap(c.name, c.coroutine)) for c in jobs]

    # --- services: API calls and the governor ------------------------------------------------
    def attach(self, services: Services) -> None:
        """Count this process's platform calls and governor refusals."""
        self._services = services
        hooks = services.http.event_hooks.setdefault("response", [])
        if self._on_response not in hooks:
            hooks.append(self._on_response)
        governor = services.governor
        if governor is not None and not getattr(governor.acquire, "_metered", False):
            original = governor.acquire

            async def acquire(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await original(*args, **kwargs)
                except Exception as exc:
                    reason = getattr(exc, "reason", None)
                    if reason is not None:  # the governor's RateLimited
                        self.refusals.labels(_platform_of_scope(getattr(exc, "scope", "")), str(reason) or "blocked").inc()
                    raise

            acquire._metered = True  # type: ignore[attr-defined]
            governor.acquire = acquire  # type: ignore[method-assign]

    async def _on_response(self, response: httpx.Response) -> None:
        host, path = _host_and_path(response.request.url, self.settings)
        platform = _platform_of_host(host)
        endpoint = endpoint_of(path) if platform != "other" else "-"  # CRM callback URLs: any shape
        self.api_calls.labels(platform, endpoint, str(response.status_code)).inc()

    # --- scrape ---------------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Update the gauges read from Redis (queues, rate-limit scopes)."""
        services = self._services
        if services is None:
            return
        for stat in await worker_status.queue_stats(services.redis, worker_status.queue_names(self.settings)):
            self.queue_depth.labels(stat.name).set(stat.depth)
            self.queue_due.labels(stat.name).set(stat.due)
            self.queue_oldest.labels(stat.name).set(stat.oldest_due_seconds or 0.0)
        for row in await headroom.all_headroom(services, limit=20):
            if row.used_percent is not None:
                self.scope_used.labels(row.platform, row.scope).set(row.used_percent)
            self.scope_blocked.labels(row.platform, row.scope).set(row.blocked_seconds)

    async def _metrics(self, _request: web.Request) -> web.Response:
        try:
            await self.refresh()
        except Exception as exc:  # noqa: BLE001 - still serve the counters
            log.warning("worker metrics refresh failed", error=type(exc).__name__)
        return web.Response(body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def start_server(self) -> None:
        port = self.settings.worker_metrics_port
        self._users += 1
        if port <= 0 or self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.settings.worker_metrics_host, port).start()
        self._runner = runner
        log.info("worker metrics served", port=port)

    async def stop_server(self) -> None:
        self._users = max(0, self._users - 1)
        if self._runner is not None and self._users == 0:
            await self._runner.cleanup()
            self._runner = None


def _host_and_path(url: httpx.URL, settings: Settings) -> tuple[str, str]:
    """The real platform host and path; in sandbox mode the host is the first path segment."""
    if settings.sandbox_mode and url.path.count("/") >= 2:
        sandbox = httpx.URL(settings.sandbox_base_url)
        if url.host == sandbox.host and url.port == sandbox.port:
            first, _, rest = url.path.lstrip("/").partition("/")
            return first, "/" + rest
    return url.host, url.path


def _platform_of_host(host: str) -> str:
    for platform, hosts in _platform_hosts().items():
        if host in hosts:
            return platform
    return "other"


@functools.cache
def _platform_hosts() -> dict[str, frozenset[str]]:
    """Each registered platform's API hosts, from its spec (socialsync.platforms.registry)."""
    from socialsync.platforms.registry import PLATFORMS, plugin_class  # noqa: PLC0415

    hosts: dict[str, frozenset[str]] = {}
    for name in PLATFORMS:
        try:
            hosts[name] = frozenset(plugin_class(name).spec.hosts)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the metrics
            log.warning("no hosts for platform", platform=name, error=type(exc).__name__)
    return hosts


@functools.cache
def _scope_prefixes() -> tuple[tuple[str, str], ...]:
    """(budget scope prefix, platform) of every registered platform, from its spec."""
    from socialsync.platforms.registry import PLATFORMS, plugin_class  # noqa: PLC0415

    prefixes: list[tuple[str, str]] = []
    for name in PLATFORMS:
        try:
            spec = plugin_class(name).spec
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not stop the metrics
            log.warning("no budget scopes for platform", platform=name, error=type(exc).__name__)
            continue
        prefixes += [(prefix, name) for prefix in (*spec.budget_scope_prefixes, f"{name}:")]
    return tuple(prefixes)


def _platform_of_scope(scope: str) -> str:
    for prefix, name in _scope_prefixes():
        if scope.startswith(prefix):
            return name
    return scope.split(":", 1)[0] or "other"
