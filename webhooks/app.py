"""The one place that builds the receiver's aiohttp application."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from socialsync.config import Settings
from socialsync.context import open_services
from webhooks import metrics, openapi
from webhooks.auth import auth_middleware
from webhooks.boundary import encoding_middleware
from webhooks.errors import error_middleware
from webhooks.params import path_middleware
from webhooks.keys import SERVICES, SETTINGS
from webhooks.routes import accounts, admin, connect, oauth, ops
from webhooks.routes import actions, comments, meta_webhooks, privacy, webhook_endpoint
from webhooks.routes import events as events_routes
from webhooks.routes import posts
from webhooks.routes import analytics, media, sync
from webhooks.routes import metrics as metrics_routes

# Every module that serves routes: each exposes `routes` (a RouteTableDef). Add new areas here.
ROUTE_MODULES = (ops, admin, connect, accounts, oauth, openapi, meta_webhooks, privacy, comments, actions, webhook_endpoint, posts, sync, media, metrics_routes, analytics, events_routes)


async def _services_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_services(app[SETTINGS]) as services:
        app[SERVICES] = services
        yield


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
    app.cleanup_ctx.append(_services_ctx)
    for module in ROUTE_MODULES:
        app.router.add_routes(module.routes)
    app[openapi.SPEC] = openapi.build_spec(ROUTE_MODULES)
    return app
