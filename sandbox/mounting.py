"""Turn route tables written with full sandbox paths (``/HOST/...``) into one sub-app per host.

A platform package keeps its routes readable as the real URLs (``/open.tiktokapis.com/v2/user/info/``)
and calls ``mount_hosts`` from its ``mount``: every route whose first path segment is one of
``hosts`` goes to that host's sub-app (``root.add_subapp("/" + host, sub)``), in table order
(aiohttp tries routes in registration order); anything else (control routes, aliases) is added
to the root app. The root's middlewares (control guard, stats, usage, faults) wrap every
sub-app; ``middlewares`` are the platform's own, innermost (e.g. its error rendering).
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web
from aiohttp.typedefs import Middleware


def mount_hosts(
    root: web.Application,
    hosts: Iterable[str],
    tables: Iterable[web.RouteTableDef],
    *,
    middlewares: Iterable[Middleware] = (),
) -> dict[str, web.Application]:
    """Add one sub-app per host to ``root``; returns them by host."""
    subs = {host: web.Application(middlewares=list(middlewares)) for host in hosts}
    for table in tables:
        for route in table:
            if not isinstance(route, web.RouteDef):
                raise TypeError(f"only plain routes can be mounted, not {route!r}")
            host = route.path.lstrip("/").split("/", 1)[0]
            if host in subs:
                rest = route.path[len(host) + 1 :] or "/"
                subs[host].router.add_route(route.method, rest, route.handler, **route.kwargs)
            else:
                root.router.add_route(route.method, route.path, route.handler, **route.kwargs)
    for host, sub in subs.items():
        root.add_subapp("/" + host, sub)
    return subs
