"""The one place that builds the receiver's aiohttp application.

The root app holds the middlewares (they wrap every sub-app's handlers too), the services and
``/healthz``, ``/readyz``, ``/metrics``, ``/data-deletion/{code}``. Three sub-apps:
- ``/v1``: the CRM API (every route in ``/v1/openapi.json``);
- ``/oauth``: the browser's callbacks, ``/oauth/{flow}/callback`` and choices ``/oauth/{flow}/select``
  of every platform's connect flows (``routes/oauth.py``);
- ``/webhooks``: platform deliveries, ``/webhooks/{source}`` (and Meta's privacy callbacks).
Route modules keep writing full paths (``/v1/accounts``); ``SUBAPPS`` decides where each route
lives by its prefix. ``/webhooks/{source}`` dispatches to the plugin registry
(``routes/inbox.py``: ``Registry.for_source``). A callback of a flow no platform declares is 404
``unknown_platform``; another method than GET on a known one is 405.
Another area mounts its own sub-app with ``mount(app, "/ops", sub)`` (it shares the root's keys).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from types import ModuleType

from aiohttp import web

from socialsync.config import Settings
from socialsync.context import open_services
from webhooks import metrics, openapi
from webhooks.console import build_console
from webhooks.auth import auth_middleware
from webhooks.boundary import encoding_middleware
from webhooks.errors import error_middleware
from webhooks.keys import SERVICES, SETTINGS
from webhooks.params import path_middleware
from webhooks.routes import accounts, admin, connect, oauth, ops
from webhooks.routes import actions, comments, inbox, privacy, webhook_endpoint
from webhooks.routes import events as events_routes
from webhooks.routes import posts
from webhooks.routes import analytics, media, sync
from webhooks.routes import mentions
from webhooks.routes import metrics as metrics_routes
from webhooks.routes import platform_quota

# Every module that serves routes: each exposes `routes` (a RouteTableDef). Add new areas here.
# oauth's /oauth/{flow}/callback serves every platform's connect flow; every webhook source is
# served by inbox.
ROUTE_MODULES = (ops, admin, connect, accounts, oauth, openapi, inbox, privacy, comments, actions, webhook_endpoint, posts, sync, media, metrics_routes, analytics, events_routes, platform_quota, mentions)
SUBAPPS = ("/v1", "/oauth", "/webhooks")


async def _services_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_services(app[SETTINGS]) as services:
        app[SERVICES] = services
        yield


def mount(app: web.Application, prefix: str, sub: web.Application) -> web.Application:
    """Mount ``sub`` at ``prefix``, sharing the root's settings, metrics and (once started) services,
    so handlers keep reading ``request.app[SERVICES]`` whichever app they are in."""
    for key in list(app.keys()):
        if key not in sub:
            sub[key] = app[key]

    async def _share_services(sub_app: web.Application) -> None:  # runs after the root's services ctx
        sub_app[SERVICES] = app[SERVICES]

    sub.on_startup.append(_share_services)
    app.add_subapp(prefix, sub)
    return sub


def _split(modules: Iterable[ModuleType]) -> dict[str, list[web.RouteDef]]:
    """Each route under the sub-app whose prefix starts its path (the prefix cut off), else root."""
    placed: dict[str, list[web.RouteDef]] = {"": [], **{p: [] for p in SUBAPPS}}
    for module in modules:
        for route in module.routes:
            assert isinstance(route, web.RouteDef), route
            prefix = next((p for p in SUBAPPS if route.path.startswith(p + "/")), "")
            placed[prefix].append(web.RouteDef(route.method, route.path[len(prefix):], route.handler, route.kwargs))
    return placed


def build_app(settings: Settings) -> web.Application:
    app = web.Application(
        # Order matters: errors become the JSON shape; bytes are checked before the API key
        # (a non-UTF-8 Authorization header is a 401) and path ids after it.
        middlewares=[metrics.metrics_middleware, error_middleware, encoding_middleware, auth_middleware,
                     path_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    metrics.install(app)
    app[openapi.SPEC] = openapi.build_spec(ROUTE_MODULES)
    app.cleanup_ctx.append(_services_ctx)
    placed = _split(ROUTE_MODULES)
    app.router.add_routes(placed[""])
    for prefix in SUBAPPS:
        sub = web.Application(client_max_size=settings.max_body_bytes)
        sub.router.add_routes(placed[prefix])
        mount(app, prefix, sub)
    app.add_subapp("/ops", build_console())  # the ops console (webhooks/console/)
    return app
