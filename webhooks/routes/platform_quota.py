"""GET /v1/platforms/youtube/quota: the Google project's units today and what syncs will spend."""

from __future__ import annotations

from aiohttp import web

from webhooks.openapi import ERRORS, NOT_FOUND, path_param

from socialsync.platforms.youtube.planner import plan
from socialsync.platforms.youtube.quota import status as quota_status
from socialsync.sync.schedule import interval_seconds
from webhooks.auth import tenant_of
from webhooks.errors import ApiError
from webhooks.keys import SERVICES, SETTINGS

routes = web.RouteTableDef()


@routes.get("/v1/platforms/{platform}/quota")
async def platform_quota(request: web.Request) -> web.Response:
    name = request.match_info["platform"]
    if name != "youtube":
        raise ApiError(404, "no_quota", f"platform {name!r} has no daily unit quota")
    settings = request.app[SETTINGS]
    services = request.app[SERVICES]
    block = settings.youtube
    plugin = services.platforms.get("youtube")
    tenant = tenant_of(request)
    active = await services.store.accounts.count_documents({"platform": "youtube", "status": "active"})
    mine = [d["_id"] async for d in services.store.accounts.find(
        {"tenant_id": tenant, "platform": "youtube"}, {"_id": 1})]
    now = services.clock.time()
    assert services.governor is not None
    status = await quota_status(services.governor, plugin.rates, mine, now)
    planned = plan(daily_units=block.daily_units, reserve_units=block.reserve_units,
                   sync_interval_minutes=interval_seconds(settings, "recent") // 60, accounts=active,
                   seconds_to_reset=status.resets_at - now)
    return web.json_response({
        "platform": "youtube", "day": status.day, "resets_at": status.resets_at,
        "daily_units": status.daily_units, "reserve_units": status.reserve_units,
        "spent": status.spent, "left": status.left, "uploads_today": status.inserts,
        "blocked_until": status.blocked_until,
        "your_accounts": status.by_account,
        "scheduled": planned.public(),
    })


OPENAPI_PATHS = {
    "/v1/platforms/{platform}/quota": {
        "get": {"summary": "YouTube: units spent and left today (Pacific day), and what scheduled syncs will spend",
                "parameters": [path_param("platform")],
                "responses": {"200": {"description": "The quota view"}, **NOT_FOUND, **ERRORS}},
    }
}
