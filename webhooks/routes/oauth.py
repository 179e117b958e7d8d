"""OAuth callbacks of both Instagram login flows, and the Facebook page-selection step.

The browser always ends on the CRM's return_url: ``?status=connected&account_id=…`` or
``?status=error&error=<code>``. Only when the state is unknown (forged, expired, reused) is there
no return_url to go back to: then a plain 400 page says to start again from the CRM.
"""

from __future__ import annotations

import html

from aiohttp import web
from yarl import URL

from socialsync import lifecycle
from socialsync.logs import get_logger
from socialsync.oauth_state import OAuthState, consume_state
from socialsync.platforms.instagram import pages
from socialsync.platforms.instagram.pages import PendingSelection
from socialsync.platforms.instagram.plugin import graph_of
from socialsync.platforms.instagram.connect import (
    ConnectError, connect_facebook_page, connect_instagram_login, facebook_login_pages,
)
from socialsync.store import accounts as account_store
from webhooks.boundary import read_form
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


def _fail(request: web.Request, state: OAuthState, login: str, code: str, message: str) -> web.HTTPSeeOther:
    request.app[CONNECTS].labels(login, code).inc()
    log.info("connect failed", login=login, tenant_id=state.tenant_id, error=code, reason=message)
    return back_to_crm(state.return_url, status="error", error=code)


async def _store_and_return(request: web.Request, state: OAuthState, login: str, account) -> web.HTTPSeeOther:  # noqa: ANN001
    account_id = await account_store.upsert_connected(request.app[SERVICES].store, account)
    await lifecycle.account_connected(request.app[SERVICES], account_id)
    request.app[CONNECTS].labels(login, "connected").inc()
    log.info("account connected", login=login, tenant_id=state.tenant_id, account_id=account_id)
    return back_to_crm(state.return_url, status="connected", account_id=account_id)


async def _begin(request: web.Request, login: str) -> OAuthState | web.StreamResponse:
    state = await consume_state(request.app[SERVICES].redis, _param(request, "state"))
    if state is None:
        request.app[CONNECTS].labels(login, "invalid_state").inc()
        return invalid_link_page()
    if state.login != login:  # a state issued for the other flow
        raise _fail(request, state, login, "invalid_state", "state issued for another login flow")
    if request.query.get("error"):
        code = "access_denied" if request.query["error"] == "access_denied" else "authorization_failed"
        raise _fail(request, state, login, code, request.query.get("error_description", ""))
    if not _param(request, "code"):
        raise _fail(request, state, login, "invalid_callback", "no code in the callback")
    return state


@routes.get("/oauth/instagram/callback")
async def instagram_callback(request: web.Request) -> web.StreamResponse:
    begun = await _begin(request, "instagram")
    if not isinstance(begun, OAuthState):
        return begun
    services, settings = request.app[SERVICES], request.app[SETTINGS]
    try:
        account = await connect_instagram_login(
            graph_of(services), settings, services.cipher, begun, code=_param(request, "code"),
            redirect_uri=redirect_uri(settings.public_base, "instagram"),
        )
    except ConnectError as exc:
        raise _fail(request, begun, "instagram", exc.code, exc.message) from None
    raise await _store_and_return(request, begun, "instagram", account)


@routes.get("/oauth/facebook/callback")
async def facebook_callback(request: web.Request) -> web.StreamResponse:
    begun = await _begin(request, "facebook")
    if not isinstance(begun, OAuthState):
        return begun
    services, settings = request.app[SERVICES], request.app[SETTINGS]
    try:
        pending = await facebook_login_pages(
            graph_of(services), settings, services.cipher, begun, code=_param(request, "code"),
            redirect_uri=redirect_uri(settings.public_base, "facebook"),
        )
        if len(pending.pages) == 1:
            account = await connect_facebook_page(
                graph_of(services), settings, services.cipher, pending, pending.pages[0].page_id
            )
            raise await _store_and_return(request, begun, "facebook", account)
    except ConnectError as exc:
        raise _fail(request, begun, "facebook", exc.code, exc.message) from None
    state_value = _param(request, "state")
    await pages.put(services.redis, state_value, pending, settings.oauth_state_ttl_seconds)
    raise web.HTTPSeeOther(str(URL("/oauth/facebook/select").with_query(state=state_value)))


def _selection_form(state_value: str, pending: PendingSelection) -> str:
    options = "".join(
        f"<p><label><input type='radio' name='page_id' value='{html.escape(p.page_id)}'"
        f"{' checked' if i == 0 else ''}> {html.escape(p.page_name or p.page_id)}</label></p>"
        for i, p in enumerate(pending.pages)
    )
    return (
        f"<!doctype html><html><head><title>Choose a Page</title></head><body style='{PAGE_STYLE}'>"
        "<h1>Which account do you want to connect?</h1>"
        "<p>Several of your Facebook Pages have an Instagram professional account. Pick one.</p>"
        f"<form method='post' action='/oauth/facebook/select'>"
        f"<input type='hidden' name='state' value='{html.escape(state_value)}'>{options}"
        "<button type='submit'>Connect</button></form></body></html>"
    )


@routes.get("/oauth/facebook/select")
async def choose_page(request: web.Request) -> web.Response:
    state_value = request.query.get("state", "")
    pending = await pages.peek(request.app[SERVICES].redis, state_value)
    if pending is None:
        return invalid_link_page()
    return web.Response(text=_selection_form(state_value, pending), content_type="text/html")


@routes.post("/oauth/facebook/select")
async def page_chosen(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    services, settings = request.app[SERVICES], request.app[SETTINGS]
    pending = await pages.take(services.redis, str(form.get("state", "")))
    if pending is None:
        return invalid_link_page()
    try:
        account = await connect_facebook_page(
            graph_of(services), settings, services.cipher, pending, str(form.get("page_id", ""))
        )
    except ConnectError as exc:
        raise _fail(request, pending.state, "facebook", exc.code, exc.message) from None
    raise await _store_and_return(request, pending.state, "facebook", account)
