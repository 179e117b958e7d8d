"""The one place that builds the receiver's aiohttp application."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from socialsync.config import Settings
from socialsync.context import open_services
from webhooks import metrics, openapi
from webhooks.auth import auth_middleware
from webhooks.errors import error_middleware
from webhooks.keys import SERVICES, SETTINGS
from webhooks.routes import accounts, admin, connect, oauth, ops

async def _services_ctx(app: web.Application) -> AsyncIterator[None]:
    async with open_services(app[SETTINGS]) as services:
        app[SERVICES] = services
        yield


def build_app(settings: Settings) -> web.Application:
    app = web.Application(
        middlewares=[metrics.metrics_middleware, error_middleware, auth_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    metrics.install(app)
    app.cleanup_ctx.append(_services_ctx)
    for table in (ops.routes, admin.routes, connect.routes, accounts.routes, oauth.routes, openapi.routes):
        app.router.add_routes(table)
    return app
