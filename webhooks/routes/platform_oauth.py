"""``GET /oauth/{platform}/callback`` for interface platforms (TikTok…), and their webhooks
``POST /webhooks/{source}``.

Callback: the same redirect codes as Instagram's (``access_denied``, ``invalid_state``,
``missing_scopes``, ``token_exchange_failed`` …) back to the CRM's return_url; a forged, expired
or reused state gets the plain "link no longer valid" page. Webhooks: the signature is checked
on the raw bytes (401, nothing stored), the delivery stored durably, then 200.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import web
from pymongo.errors import PyMongoError

from socialsync import queue
from socialsync.logs import get_logger
from socialsync.oauth_state import consume_state
from socialsync.platform_inbound import record
from socialsync.platforms.base import ConnectFailed, InboundRequest, Platform
from socialsync.platforms.registry import UnknownPlatform
from socialsync.plugins import INTERFACE_PLATFORMS, is_interface_platform, plugin_for, plugins_of
from socialsync.store import platform_accounts
from webhooks.errors import ApiError
from webhooks.keys import SERVICES, SETTINGS
from webhooks.metrics import CONNECTS
from webhooks.routes.connect import redirect_uri
from webhooks.routes.meta_webhooks import read_limited
from webhooks.routes.oauth import back_to_crm, invalid_link_page
from worker.jobs.platforms import PUSH_SUBSCRIBE, WEBHOOK_EVENT, push_job_id, request_sync, webhook_job_id
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


def _source_plugin(request: web.Request) -> Platform:
    try:
        plugin = plugins_of(request.app[SERVICES]).for_source(
            request.match_info.get("source") or request.path.split("/")[2])
    except UnknownPlatform:
        raise ApiError(404, "not_found", "No such webhook source.") from None
    if plugin.inbound is None:
        raise ApiError(404, "not_found", "No such webhook source.")
    return plugin


def _inbound(request: web.Request, body: bytes = b"") -> InboundRequest:
    return InboundRequest(request.method, dict(request.query), dict(request.headers), body,
                          path_params={k: v for k, v in request.match_info.items() if k != "source"})


async def handshake(request: web.Request) -> web.Response:
    """A subscription check (WebSub's ``hub.challenge``): the plugin answers (404: not ours)."""
    plugin = _source_plugin(request)
    assert plugin.inbound is not None
    answer = plugin.inbound.handshake(_inbound(request))
    if answer.status >= 400:
        raise ApiError(answer.status, "verification_failed", answer.body)
    return web.Response(text=answer.body, status=answer.status, content_type=answer.content_type)


async def receive(request: web.Request) -> web.Response:
    services, settings = request.app[SERVICES], request.app[SETTINGS]
    plugin = _source_plugin(request)
    assert plugin.inbound is not None
    body = await read_limited(request, settings.webhook_max_body_bytes)
    inbound = _inbound(request, body)
    if not plugin.inbound.verify(inbound, clock.now()):
        if plugin.spec.webhook_bad_signature == "drop":
            # WebSub: a subscriber answers 2xx to a delivery it cannot verify, and discards it.
            log.warning("webhook delivery with a bad signature dropped", source=plugin.spec.webhook_source)
            return web.json_response({"ok": True, "dropped": True}, status=202)
        header = (plugin.spec.webhook_signature_header or f"{plugin.name}-signature").lower()
        code = "signature_missing" if header not in {k.lower() for k in request.headers} else "signature_invalid"
        raise ApiError(401, code, "The signature is missing, stale or does not match the body.")
    try:
        eid, needs = await record(services, plugin.spec.webhook_source or plugin.name, body,
                                  timedelta(days=settings.webhook_event_ttl_days))
    except PyMongoError as exc:
        log.error("webhook event not stored; answering 503 so the platform retries", error=type(exc).__name__)
        raise ApiError(503, "store_unavailable", "The event could not be stored; retry later.") from None
    if needs:
        try:
            await queue.enqueue(services.redis, WEBHOOK_EVENT, eid, job_id=webhook_job_id(eid))
        except Exception as exc:  # noqa: BLE001 - stored durably: the sweeper enqueues it
            log.warning("webhook event stored but not enqueued", event_id=eid, error=type(exc).__name__)
    return web.json_response({"ok": True})


# One static route per interface platform, registered before the generic /webhooks/{source} and
# /oauth/… routes of the core (webhooks/app.py puts this module first), so these platforms are
# served here and every other source keeps the core's dispatch.
# A key segment (YouTube's per-channel WebSub callback token) is long, so it never shadows a
# fixed route; the key reaches the plugin as ``InboundRequest.path_params["key"]``.
KEY = "{key:[A-Za-z0-9_.-]{20,200}}"
for _name in INTERFACE_PLATFORMS:
    routes.get(f"/oauth/{_name}/callback")(callback)
    routes.post(f"/webhooks/{_name}")(receive)
    routes.get(f"/webhooks/{_name}/{KEY}")(handshake)
    routes.post(f"/webhooks/{_name}/{KEY}")(receive)
