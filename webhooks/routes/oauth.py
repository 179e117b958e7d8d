"""The browser's OAuth callbacks and account choices, one driver for every platform's flows.

``GET /oauth/{flow}/callback`` (the flow: socialsync/connect_flows.py; Instagram's
``/oauth/instagram/callback`` and ``/oauth/facebook/callback`` as registered in the Meta apps,
``/oauth/tiktok/callback``, ``/oauth/youtube/callback``): state checks → the platform's
``connect.callback`` → the store upserts the `NewAccount` (store/accounts.upsert_new) →
``lifecycle.account_connected``. A `Choice` (Facebook Login with several pages) is kept under the
state and shown at ``GET /oauth/{flow}/select``; ``POST`` there hands the pick to
``connect.choose``.

The browser always ends on the CRM's return_url: ``?status=connected&account_id=…`` or
``?status=error&error=<code>``. Only when the state is unknown (forged, expired, reused) is there
no return_url to go back to: then a plain 400 page says to start again from the CRM.
"""

from __future__ import annotations

import html
import json
from typing import Any

from aiohttp import web
from yarl import URL

from socialsync import clock, connect_flows, lifecycle
from socialsync.connect_flows import Flow
from socialsync.logs import get_logger
from socialsync.oauth_state import OAuthState, consume_state, peek_pending, put_pending, take_pending
from socialsync.platforms.base import Choice, ConnectFailed, NewAccount
from socialsync.store import accounts as account_store
from webhooks.boundary import read_form
from webhooks.errors import ApiError
from webhooks.keys import SERVICES, SETTINGS
from webhooks.metrics import CONNECTS
from webhooks.routes.connect import redirect_uri

routes = web.RouteTableDef()
log = get_logger(__name__)

PAGE_STYLE = "font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;line-height:1.5"


def _param(request: web.Request, name: str) -> str:
    # Meta appends "#_" to the redirect; browsers drop fragments, but a copied URL may keep it.
    return request.query.get(name, "").removesuffix("#_")


def back_to_crm(return_url: str, **params: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(str(URL(return_url).update_query(params)))


def invalid_link_page() -> web.Response:
    body = (
        f"<!doctype html><html><body style='{PAGE_STYLE}'><h1>This connect link is no longer valid</h1>"
        "<p>It was already used, has expired (links last 10 minutes) or was not issued by us. "
        "Go back to your CRM and start connecting again.</p></body></html>"
    )
    return web.Response(status=400, text=body, content_type="text/html")


def _flow(request: web.Request) -> Flow:
    name = request.match_info["flow"]
    flow = connect_flows.resolve(request.app[SERVICES].platforms, name)
    if flow is None:
        raise ApiError(404, "unknown_platform", f"No platform or webhook source named {name!r}.")
    return flow


def _fail(request: web.Request, state: OAuthState, flow: str, code: str, message: str) -> web.HTTPSeeOther:
    request.app[CONNECTS].labels(flow, code).inc()
    log.info("connect failed", login=flow, tenant_id=state.tenant_id, error=code, reason=message)
    return back_to_crm(state.return_url, status="error", error=code)


async def _store_and_return(request: web.Request, flow: Flow, state: OAuthState, new: NewAccount) -> web.HTTPSeeOther:
    services = request.app[SERVICES]
    tokens = flow.plugin.tokens
    at = clock.now()
    account_id = await account_store.upsert_new(
        services.store, services.cipher, tenant_id=state.tenant_id, platform=flow.plugin.name, new=new,
        user_ref=state.user_ref, next_check_at=tokens.next_check_at(new.credentials, at) if tokens else at,
    )
    await lifecycle.account_connected(services, account_id)
    request.app[CONNECTS].labels(flow.name, "connected").inc()
    log.info("account connected", login=flow.name, tenant_id=state.tenant_id, account_id=account_id)
    params = {"status": "connected", "account_id": account_id}
    if new.extra.get("read_only"):
        params["read_only"] = "true"
    return back_to_crm(state.return_url, **params)


@routes.get("/oauth/{flow}/callback")
async def callback(request: web.Request) -> web.StreamResponse:
    flow = _flow(request)
    services, settings = request.app[SERVICES], request.app[SETTINGS]
    state_value = _param(request, "state")
    state = await consume_state(services.redis, state_value)
    if state is None:
        request.app[CONNECTS].labels(flow.name, "invalid_state").inc()
        return invalid_link_page()
    if state.login != flow.name:  # a state issued for another flow
        raise _fail(request, state, flow.name, "invalid_state", "state issued for another login flow")
    if request.query.get("error"):
        code = "access_denied" if request.query["error"] == "access_denied" else "authorization_failed"
        raise _fail(request, state, flow.name, code, request.query.get("error_description", ""))
    assert flow.plugin.connect is not None
    try:
        result = await flow.plugin.connect.callback(
            flow.connector_login, params=dict(request.query),
            redirect_uri=redirect_uri(settings.public_base, flow.name), code_verifier=state.code_verifier,
        )
    except ConnectFailed as exc:
        raise _fail(request, state, flow.name, exc.code, exc.message) from None
    if isinstance(result, Choice):
        kept = {"state": state.model_dump(mode="json"), **result.pending}
        await put_pending(services.redis, state_value, json.dumps(kept), settings.oauth_state_ttl_seconds)
        raise web.HTTPSeeOther(str(URL(f"/oauth/{flow.name}/select").with_query(state=state_value)))
    accounts = list(result)
    if not accounts:
        raise _fail(request, state, flow.name, "no_account", "the platform returned no account to connect")
    raise await _store_and_return(request, flow, state, accounts[0])


@routes.post("/oauth/{flow}/callback")
async def callback_other_method(request: web.Request) -> web.Response:
    _flow(request)  # 404 unknown_platform for a flow no platform declares
    raise ApiError(405, "method_not_allowed", "OAuth callbacks are GET requests.")


def _split_pending(raw: str) -> tuple[OAuthState, dict[str, Any]]:
    kept = json.loads(raw)
    return OAuthState.model_validate(kept.pop("state")), kept


def _choice_form(flow: Flow, state_value: str, options: list[dict[str, Any]]) -> str:
    field, login = flow.login.choice_field, flow.login
    rows = "".join(
        f"<p><label><input type='radio' name='{html.escape(field)}' value='{html.escape(str(o['id']))}'"
        f"{' checked' if i == 0 else ''}> {html.escape(str(o.get('name') or o['id']))}</label></p>"
        for i, o in enumerate(options)
    )
    return (
        f"<!doctype html><html><head><title>{html.escape(login.choice_title)}</title></head>"
        f"<body style='{PAGE_STYLE}'><h1>Which account do you want to connect?</h1>"
        f"<p>{html.escape(login.choice_prompt)}</p>"
        f"<form method='post' action='/oauth/{html.escape(flow.name)}/select'>"
        f"<input type='hidden' name='state' value='{html.escape(state_value)}'>{rows}"
        "<button type='submit'>Connect</button></form></body></html>"
    )


@routes.get("/oauth/{flow}/select")
async def show_choice(request: web.Request) -> web.Response:
    flow = _flow(request)
    state_value = request.query.get("state", "")
    raw = await peek_pending(request.app[SERVICES].redis, state_value)
    if raw is None:
        return invalid_link_page()
    state, pending = _split_pending(raw)
    if state.login != flow.name or flow.plugin.connect is None:
        return invalid_link_page()
    options = list(flow.plugin.connect.options(flow.connector_login, pending))
    return web.Response(text=_choice_form(flow, state_value, options), content_type="text/html")


@routes.post("/oauth/{flow}/select")
async def choice_made(request: web.Request) -> web.StreamResponse:
    flow = _flow(request)
    form = await read_form(request)
    raw = await take_pending(request.app[SERVICES].redis, str(form.get("state", "")))
    if raw is None:
        return invalid_link_page()
    state, pending = _split_pending(raw)
    if state.login != flow.name or flow.plugin.connect is None:
        return invalid_link_page()
    try:
        new = await flow.plugin.connect.choose(flow.connector_login, pending, str(form.get(flow.login.choice_field, "")))
    except ConnectFailed as exc:
        raise _fail(request, state, flow.name, exc.code, exc.message) from None
    raise await _store_and_return(request, flow, state, new)
