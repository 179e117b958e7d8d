"""A fixed answer latency for every platform call (not the control API), like the real Graph
API's ~100 ms: benchmarks of many workers need calls that take time, not CPU."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def latency_middleware(seconds: float) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def latency(request: web.Request, handler: Handler) -> web.StreamResponse:
        if seconds > 0 and not request.path.startswith("/_sandbox"):
            await asyncio.sleep(seconds)
        return await handler(request)

    return latency
