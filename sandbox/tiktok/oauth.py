"""Login Kit v2: the authorize page (www.tiktok.com), token and revoke (open.tiktokapis.com).

Facts: PLATFORM_FACTS_TIKTOK_YOUTUBE.md §1. The dialog is automated like Meta's:
``sandbox_account`` (username or open_id), ``sandbox_decision=allow|deny``, ``sandbox_scopes``.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from aiohttp import web

from sandbox.context import note_account
from sandbox.consent import (
    ConsentChoice,
    consent_page,
    error_page,
    granted_scopes,
    parse_scopes,
    redirect_back,
    valid_redirect_uri,
)
from sandbox.tiktok.envelope import OAuthError, world
from sandbox.tiktok.world import CLIENT_KEY, CLIENT_SECRET, Grant, RefreshToken, TikTokWorld

www_routes = web.RouteTableDef()
oauth_routes = web.RouteTableDef()


@www_routes.get("/v2/auth/authorize/")
async def authorize(request: web.Request) -> web.Response:
    w = world(request)
    query = request.query
    if query.get("client_key") != CLIENT_KEY:
        return error_page("client_key", "Something went wrong: the client_key is not valid.")
    if query.get("response_type") != "code":
        return error_page("response_type", "response_type must be 'code'.")
    redirect_uri = query.get("redirect_uri", "")
    if not valid_redirect_uri(redirect_uri):
        return error_page("redirect_uri", "redirect_uri is not a registered absolute URL.")
    requested = parse_scopes(query.get("scope", ""))
    state_params = {"state": query["state"]} if "state" in query else {}
    decision = query.get("sandbox_decision")
    if decision is None:
        choices = [ConsentChoice(u.username, f"{u.display_name} (@{u.username})") for u in w.users.values()]
        return consent_page(request, platform="TikTok", app_id=CLIENT_KEY, choices=choices, scopes=requested)
    if decision == "deny":
        return redirect_back(
            redirect_uri,
            {"error": "access_denied", "error_description": "The user denied the request", **state_params},
            fragment=None,
        )
    if decision != "allow":
        return error_page("Invalid Request", "sandbox_decision must be 'allow' or 'deny'.")
    user = w.find_user(query.get("sandbox_account", ""))
    if user is None:
        return error_page("Unknown account", "No such TikTok sandbox account.")
    granted, _declined = granted_scopes(request, requested)
    code = w.issue_code(user.open_id, redirect_uri, granted)
    note_account(request, user.open_id)
    # Percent-encode every reserved character ("*" and "!" too), as TikTok does: the client
    # must URL-decode the code before exchanging it.
    params = {"code": code.value, "scopes": ",".join(granted), **state_params}
    separator = "&" if "?" in redirect_uri else "?"
    location = redirect_uri + separator + urlencode(params, quote_via=quote, safe="")
    return web.Response(status=302, headers={"Location": location})


async def _form(request: web.Request) -> dict[str, str]:
    if not request.content_type.startswith("application/x-www-form-urlencoded"):
        raise OAuthError("invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _check_client(form: dict[str, str]) -> None:
    if form.get("client_key") != CLIENT_KEY or form.get("client_secret") != CLIENT_SECRET:
        raise OAuthError("invalid_client", "Client key or secret is invalid.", status=401)


def _pair_body(w: TikTokWorld, grant: Grant) -> dict[str, object]:
    access, refresh = w.issue_pair(grant)
    now = w.clock.now()
    return {
        "access_token": access.value,
        "expires_in": int(access.expires_at - now),
        "open_id": grant.open_id,
        "refresh_expires_in": int(refresh.expires_at - now),
        "refresh_token": refresh.value,
        "scope": ",".join(grant.scopes),
        "token_type": "Bearer",
    }


@oauth_routes.post("/v2/oauth/token/")
async def token(request: web.Request) -> web.Response:
    w = world(request)
    form = await _form(request)
    _check_client(form)
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        code = w.codes.get(form.get("code", ""))
        if code is None or code.used or code.issued_at + w.limits.code_ttl_seconds <= w.clock.now():
            raise OAuthError("invalid_grant", "Authorization code is expired.")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("invalid_grant", "Redirect URI mismatch.")
        code.used = True
        grant = Grant(code.open_id, code.scopes)
        w.grants.append(grant)
        note_account(request, grant.open_id)
        return web.json_response(_pair_body(w, grant))
    if grant_type == "refresh_token":
        refresh: RefreshToken | None = w.refresh_tokens.get(form.get("refresh_token", ""))
        if refresh is None or refresh.spent or refresh.grant.revoked or refresh.expires_at <= w.clock.now():
            raise OAuthError("invalid_grant", "Refresh token is invalid or expired.")
        refresh.spent = True  # rotation: the old one stops working once a new one is issued
        note_account(request, refresh.grant.open_id)
        return web.json_response(_pair_body(w, refresh.grant))
    raise OAuthError("unsupported_grant_type", "grant_type is not supported.")


@oauth_routes.post("/v2/oauth/revoke/")
async def revoke(request: web.Request) -> web.Response:
    w = world(request)
    form = await _form(request)
    _check_client(form)
    access = w.access_tokens.get(form.get("token", ""))
    if access is None:
        raise OAuthError("invalid_request", "Token is invalid.")
    note_account(request, access.grant.open_id)
    w.revoke_grant(access.grant)
    return web.json_response({})
