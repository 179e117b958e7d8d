"""Call counting and the request log: how tests and benchmarks see what the client did.

Counts per route template (``GET /open.tiktokapis.com/v2/user/info/``) and per account the call
was about, overall and per platform, plus a bounded log (each entry names its platform).
Secrets in query strings are replaced by ``***`` before they are stored, so the log can be
dumped in a failing test's output. Control calls are not counted.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from sandbox.clock import Clock
from sandbox.dispatch import match_of
from sandbox.faults import FAULT_ID
from sandbox.hosts import host_of, is_control

# The account (the platform's own account id, e.g. an IG user id) a call was about; set by handlers.
ACCOUNT_ID = web.RequestKey("sandbox_account_id", str)

REDACTED_PARAMS = frozenset(
    {"access_token", "client_secret", "code", "fb_exchange_token", "refresh_token"}
)
UNMATCHED = "(unmatched)"


def endpoint_template(request: web.Request) -> str:
    """The route template that matched (``/www.googleapis.com/youtube/v3/channels``)."""
    route = match_of(request).route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else UNMATCHED


def redacted_query(request: web.Request) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for key in dict.fromkeys(request.query.keys()):
        values = ["***" if key in REDACTED_PARAMS else v for v in request.query.getall(key)]
        query[key] = values[0] if len(values) == 1 else values
    return query


@dataclass(slots=True)
class Counts:
    """Call counters: overall, or of one platform."""

    total: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_account: Counter[str] = field(default_factory=Counter)

    def add(self, endpoint: str, account: str | None) -> None:
        self.total += 1
        self.by_endpoint[endpoint] += 1
        if account is not None:
            self.by_account[account] += 1

    def summary(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_endpoint": dict(self.by_endpoint),
            "by_account": dict(self.by_account),
        }


class StatsRecorder:
    """Counters (overall and per platform) and a bounded log of non-control calls."""

    def __init__(self, clock: Clock, log_size: int) -> None:
        self._clock = clock
        self._log_size = log_size
        self.reset()

    def reset(self) -> None:
        self.counts = Counts()
        self.platforms: dict[str, Counts] = {}
        self.log: deque[dict[str, Any]] = deque(maxlen=self._log_size)

    @property
    def total(self) -> int:
        return self.counts.total

    def record(self, request: web.Request, status: int, *, platform: str | None) -> None:
        """Count one call to ``platform`` (None: a path no platform serves)."""
        endpoint = f"{request.method} {endpoint_template(request)}"
        account = request.get(ACCOUNT_ID)
        self.count(endpoint, account, platform)
        self.log.append(
            {
                "at": self._clock.iso(),
                "platform": platform,
                "method": request.method,
                "endpoint": endpoint_template(request),
                "path": request.path,
                "query": redacted_query(request),
                "account": account,
                "status": status,
                "fault": request.get(FAULT_ID),
            }
        )

    def count(self, endpoint: str, account: str | None, platform: str | None) -> None:
        """Count a call without logging it (a platform counting several calls in one request,
        e.g. Graph's multi-id lookups)."""
        self.counts.add(endpoint, account)
        if platform is not None:
            self.platforms.setdefault(platform, Counts()).add(endpoint, account)

    def summary(self, platform: str | None = None) -> dict[str, Any]:
        """``{total, by_endpoint, by_account}``, overall or of one platform."""
        if platform is None:
            return self.counts.summary()
        return self.platforms.get(platform, Counts()).summary()

    def recent(self, limit: int, *, platform: str | None = None) -> list[dict[str, Any]]:
        """The last ``limit`` entries (of one platform, if given), oldest first."""
        entries = [e for e in self.log if platform is None or e["platform"] == platform]
        return entries[-limit:] if limit > 0 else []


def stats_middleware(recorder: StatsRecorder, platform_of_host: Callable[[str], str | None]) -> Middleware:
    """Record every non-control call with the status it finally got, and its platform."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_control(request.path):
            return await handler(request)
        platform = platform_of_host(host_of(request.path))
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            recorder.record(request, exc.status, platform=platform)
            raise
        except Exception:
            recorder.record(request, 500, platform=platform)
            raise
        recorder.record(request, response.status, platform=platform)
        return response

    return middleware
