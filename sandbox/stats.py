"""Call counting and the request log: how tests and benchmarks see what the client did.

Counts per route template (``GET /graph.instagram.com/{version}/me``) and per account the call
was about, plus a bounded log. Secrets in query strings are replaced by ``***`` before they are
stored, so the log can be dumped in a failing test's output. Control calls are not counted.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from sandbox.clock import Clock
from sandbox.faults import FAULT_ID
from sandbox.hosts import is_control

# The account (IG user id, FB user id or page id) a call was about; set by handlers.
ACCOUNT_ID = web.RequestKey("sandbox_account_id", str)

REDACTED_PARAMS = frozenset({"access_token", "client_secret", "code", "fb_exchange_token"})
UNMATCHED = "(unmatched)"


def endpoint_template(request: web.Request) -> str:
    """The route template that matched (``/graph.facebook.com/{version}/me``)."""
    route = request.match_info.route
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else UNMATCHED


def redacted_query(request: web.Request) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for key in dict.fromkeys(request.query.keys()):
        values = ["***" if key in REDACTED_PARAMS else v for v in request.query.getall(key)]
        query[key] = values[0] if len(values) == 1 else values
    return query


class StatsRecorder:
    """Counters and a bounded log of non-control calls."""

    def __init__(self, clock: Clock, log_size: int) -> None:
        self._clock = clock
        self._log_size = log_size
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.by_endpoint: Counter[str] = Counter()
        self.by_account: Counter[str] = Counter()
        self.log: deque[dict[str, Any]] = deque(maxlen=self._log_size)

    def record(self, request: web.Request, status: int) -> None:
        endpoint = f"{request.method} {endpoint_template(request)}"
        account = request.get(ACCOUNT_ID)
        self.total += 1
        self.by_endpoint[endpoint] += 1
        if account is not None:
            self.by_account[account] += 1
        self.log.append(
            {
                "at": self._clock.iso(),
                "method": request.method,
                "endpoint": endpoint_template(request),
                "path": request.path,
                "query": redacted_query(request),
                "account": account,
                "status": status,
                "fault": request.get(FAULT_ID),
            }
        )

    def summary(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_endpoint": dict(self.by_endpoint),
            "by_account": dict(self.by_account),
        }

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The last ``limit`` entries, oldest first."""
        entries = list(self.log)
        return entries[-limit:] if limit > 0 else []


def stats_middleware(recorder: StatsRecorder) -> Middleware:
    """Record every non-control call with the status it finally got."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if is_control(request.path):
            return await handler(request)
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            recorder.record(request, exc.status)
            raise
        except Exception:
            recorder.record(request, 500)
            raise
        recorder.record(request, response.status)
        return response

    return middleware
