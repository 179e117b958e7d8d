"""GET /v1/platforms/youtube/quota: the Google project's units today and what syncs will spend."""

from __future__ import annotations

import time

from aiohttp import web

from webhooks.openapi import ERRORS, NOT_FOUND, path_param

from socialsync.platforms.youtube.planner import plan
from socialsync.platforms.youtube.quota import QuotaGovernor
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
    project = block.resolved_client_id(block.uses_sandbox(settings))
    governor = QuotaGovernor(services.redis, project, daily_units=block.daily_units,
                             reserve_units=block.reserve_units)
    status = await governor.status()
    tenant = tenant_of(request)
    active = await services.store.accounts.count_documents({"platform": "youtube", "status": "active"})
    mine = [d["_id"] async for d in services.store.accounts.find(
        {"tenant_id": tenant, "platform": "youtube"}, {"_id": 1})]
    planned = plan(daily_units=block.daily_units, reserve_units=block.reserve_units,
                   sync_interval_minutes=block.sync_interval_minutes, accounts=active,
                   seconds_to_reset=status.resets_at - time.time())
    return web.json_response({
        "platform": "youtube", "day": status.day, "resets_at": status.resets_at,
        "daily_units": status.daily_units, "reserve_units": status.reserve_units,
        "spent": status.spent, "left": status.left, "calls": status.calls,
        "blocked_until": status.blocked_until,
        "your_accounts": {k: v for k, v in status.by_account.items() if k in set(mine)},
        "scheduled": planned.public(),
    })


OPENAPI_PATHS = {
    "/v1/platforms/{platform}/quota": {
        "get": {"summary": "YouTube: units spent and left today (Pacific day), and what scheduled syncs will spend",
                "parameters": [path_param("platform")],
                "responses": {"200": {"description": "The quota view"}, **NOT_FOUND, **ERRORS}},
    }
}
