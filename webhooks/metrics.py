"""Prometheus metrics of the receiver (one registry per app, so tests can build many apps)."""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
REQUESTS = web.AppKey("metric_requests", Counter)
LATENCY = web.AppKey("metric_latency", Histogram)
CONNECTS = web.AppKey("metric_connects", Counter)


def install(app: web.Application) -> None:
    registry = CollectorRegistry()
    app[REGISTRY] = registry
    app[REQUESTS] = Counter(
        "socialsync_http_requests", "HTTP requests by route and status", ["method", "route", "status"],
        registry=registry,
    )
    app[LATENCY] = Histogram(
        "socialsync_http_request_seconds", "HTTP request latency by route", ["route"], registry=registry
    )
    app[CONNECTS] = Counter(
        "socialsync_oauth_connects", "OAuth connect outcomes", ["login", "outcome"], registry=registry
    )


def _route(request: web.Request) -> str:
    route = request.match_info.route  # match_info is a dict: empty (falsy) for static paths
    resource = route.resource if route is not None else None
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = _route(request)
        request.app[REQUESTS].labels(request.method, route, str(status)).inc()
        request.app[LATENCY].labels(route).observe(time.perf_counter() - start)
