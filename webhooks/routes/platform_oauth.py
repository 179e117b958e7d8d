"""``GET /oauth/{platform}/callback`` for interface platforms (TikTok…).

The same redirect codes as Instagram's (``access_denied``, ``invalid_state``,
``missing_scopes``, ``token_exchange_failed`` …) back to the CRM's return_url; a forged, expired
or reused state gets the plain "link no longer valid" page. (Their webhooks go through the one
inbox of every source: webhooks/routes/meta_webhooks.py.)
"""

from __future__ import annotations

from aiohttp import web

from socialsync import queue
from socialsync.logs import get_logger
from socialsync.oauth_state import consume_state
from socialsync.platforms.base import ConnectFailed
from socialsync.plugins import INTERFACE_PLATFORMS, is_interface_platform, plugin_for
from socialsync.store import platform_accounts
from webhooks.keys import SERVICES, SETTINGS
from webhooks.metrics import CONNECTS
from webhooks.routes.connect import redirect_uri
from webhooks.routes.oauth import back_to_crm, invalid_link_page
from socialsync.sync.schedule import request_sync
from worker.jobs.platforms import PUSH_SUBSCRIBE, push_job_id
from socialsync import clock

routes = web.RouteTableDef()
log = get_logger(__name__)


def _platform_of(request: web.Request) -> str:
    return request.match_info.get("platform") or request.path.split("/")[2]


async def callback(request: web.Request) -> web.StreamResponse:
    platform = _platform_of(request)
    if not is_interface_platform(platform):
        raise web.HTTPNotFound()
    services, settings = request.app[SERVICES], request.app[SETTINGS]
    state = await consume_state(services.redis, request.query.get("state", ""))
    if state is None:
        request.app[CONNECTS].labels(platform, "invalid_state").inc()
        return invalid_link_page()

    def fail(code: str, message: str) -> web.HTTPSeeOther:
        request.app[CONNECTS].labels(platform, code).inc()
        log.info("connect failed", login=platform, tenant_id=state.tenant_id, error=code, reason=message)
        return back_to_crm(state.return_url, status="error", error=code)

    if state.login != platform:
        raise fail("invalid_state", "state issued for another login flow")
    if request.query.get("error"):
        code = "access_denied" if request.query["error"] == "access_denied" else "authorization_failed"
        raise fail(code, request.query.get("error_description", ""))
    plugin = plugin_for(services, platform)
    assert plugin.connect is not None and plugin.tokens is not None
    try:
        accounts = await plugin.connect.callback(
            platform, params=dict(request.query), redirect_uri=redirect_uri(settings.public_base, platform),
            code_verifier=state.code_verifier)
    except ConnectFailed as exc:
        raise fail(exc.code, exc.message) from None
    new = list(accounts)[0]  # type: ignore[index]
    account_id = await platform_accounts.upsert_new_account(
        services.store, services.cipher, tenant_id=state.tenant_id, platform=platform, new=new,
        user_ref=state.user_ref, next_check_at=plugin.tokens.next_check_at(new.credentials, clock.now()),
    )
    account = await services.store.accounts.find_one({"_id": account_id})
    assert account is not None
    await request_sync(services, account, "full", "connect")
    if getattr(plugin.inbound, "subscribe", None) is not None:
        # Push subscriptions (YouTube's WebSub): made by the worker, renewed before the lease ends.
        await queue.enqueue(services.redis, PUSH_SUBSCRIBE, account_id, job_id=push_job_id(account_id, clock.now()))
    request.app[CONNECTS].labels(platform, "connected").inc()
    log.info("account connected", login=platform, tenant_id=state.tenant_id, account_id=account_id)
    params = {"status": "connected", "account_id": account_id}
    if new.extra.get("read_only"):
        params["read_only"] = "true"
    raise back_to_crm(state.return_url, **params)


# One static route per interface platform, registered before the /oauth/… routes of the core
# (webhooks/app.py puts this module first).
for _name in INTERFACE_PLATFORMS:
    routes.get(f"/oauth/{_name}/callback")(callback)
