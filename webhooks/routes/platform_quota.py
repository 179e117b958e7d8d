"""GET /v1/platforms/{platform}/quota: a platform's daily unit quota today (YouTube: the Google
project's units) and what scheduled syncs will spend. A platform without one answers 404."""

from __future__ import annotations

from aiohttp import web

from socialsync.platforms.registry import UnknownPlatform
from socialsync.store import accounts
from socialsync.sync.schedule import interval_seconds
from webhooks.auth import tenant_of
from webhooks.errors import ApiError
from webhooks.keys import SERVICES, SETTINGS
from webhooks.openapi import ERRORS, NOT_FOUND, path_param

routes = web.RouteTableDef()


@routes.get("/v1/platforms/{platform}/quota")
async def platform_quota(request: web.Request) -> web.Response:
    name = request.match_info["platform"]
    services = request.app[SERVICES]
    try:
        plugin = services.platforms.get(name)
    except UnknownPlatform:
        plugin = None
    if plugin is None or plugin.quota is None:
        raise ApiError(404, "no_quota", f"platform {name!r} has no daily unit quota")
    settings = request.app[SETTINGS]
    report = await plugin.quota.report(
        active_accounts=await accounts.count_active(services.store, name),
        tenant_accounts=await accounts.ids_of(services.store, tenant_of(request), name),
        now=services.clock.time(),
        sync_intervals={kind: interval_seconds(settings, kind)
                        for kind in plugin.spec.scheduled_kinds or tuple(plugin.spec.sync_kinds)},
    )
    return web.json_response(report)


OPENAPI_PATHS = {
    "/v1/platforms/{platform}/quota": {
        "get": {"summary": "A platform's daily unit quota (YouTube): units spent and left today (Pacific day), "
                           "and what scheduled syncs will spend",
                "parameters": [path_param("platform")],
                "responses": {"200": {"description": "The quota view"}, **NOT_FOUND, **ERRORS}},
    }
}
