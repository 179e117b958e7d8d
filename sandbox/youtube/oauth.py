"""Google OAuth 2.0, web-server flow: ``accounts.google.com`` (the consent page) and
``oauth2.googleapis.com`` (token, refresh, revoke).

Automation like the Meta dialogs: ``sandbox_account`` + ``sandbox_decision=allow|deny``
(+ ``sandbox_scopes``: the scopes left ticked). A refresh answer never repeats the refresh
token; a project in Testing issues refresh tokens that die 7 days later on the sandbox clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from aiohttp import web

from sandbox.consent import (
    ConsentChoice,
    consent_page,
    error_page,
    granted_scopes,
    parse_scopes,
    redirect_back,
    valid_redirect_uri,
)
from sandbox.context import note_account
from sandbox.youtube.access import yt_of
from sandbox.youtube.errors import OAuthError
from sandbox.youtube.state import CLIENT_ID, CLIENT_SECRET, CODE_TTL, KNOWN_SCOPES

consent_routes = web.RouteTableDef()
token_routes = web.RouteTableDef()


@consent_routes.get("/o/oauth2/v2/auth")
async def authorize(request: web.Request) -> web.Response:
    yt = yt_of(request)
    query = request.query
    if query.get("client_id") != CLIENT_ID:
        return error_page("Error 401: invalid_client", "The OAuth client was not found.", 401)
    redirect_uri = query.get("redirect_uri", "")
    if not valid_redirect_uri(redirect_uri):
        return error_page("Error 400: redirect_uri_mismatch", "Invalid redirect_uri.")
    if query.get("response_type") != "code":
        return error_page("Error 400: invalid_request", "response_type must be 'code'.")
    requested = parse_scopes(query.get("scope", ""))
    unknown = [s for s in requested if s not in KNOWN_SCOPES]
    if not requested or unknown:
        return error_page("Error 400: invalid_scope", f"Some requested scopes were invalid: {unknown}")
    challenge = query.get("code_challenge")
    method = query.get("code_challenge_method")
    if challenge and method not in ("S256", "plain"):
        return error_page("Error 400: invalid_request", "Invalid code_challenge_method.")
    state_params = {"state": query["state"]} if "state" in query else {}
    decision = query.get("sandbox_decision")
    if decision is None:
        choices = [ConsentChoice(a.username, f"{a.name} ({a.username})") for a in yt.accounts.values()]
        return consent_page(request, platform="Google", app_id=CLIENT_ID, choices=choices,
                            scopes=requested)
    if decision == "deny":
        return redirect_back(redirect_uri, {"error": "access_denied", **state_params}, fragment=None)
    if decision != "allow":
        return error_page("Invalid Request", "sandbox_decision must be 'allow' or 'deny'.")
    account = yt.find_account(query.get("sandbox_account", ""))
    if account is None:
        return error_page("Unknown account", "No such Google account in the sandbox.")
    granted, _declined = granted_scopes(request, requested)
    key = (CLIENT_ID, account.username)
    if query.get("include_granted_scopes") == "true":
        granted = tuple(dict.fromkeys(granted + yt.prior_grants.get(key, ())))
    yt.prior_grants[key] = granted
    code = yt.issue_code(
        client_id=CLIENT_ID, redirect_uri=redirect_uri, username=account.username,
        scopes=granted, code_challenge=challenge, code_challenge_method=method,
        offline=query.get("access_type") == "offline",
        force_consent="consent" in query.get("prompt", "").split(),
    )
    note_account(request, account.channel_id or account.google_id)
    params = {"code": code.value, "scope": " ".join(granted), **state_params}
    return redirect_back(redirect_uri, params, fragment=None)


def _verifier_matches(verifier: str, challenge: str, method: str | None) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    else:
        expected = verifier
    return hmac.compare_digest(expected, challenge)


@token_routes.post("/token")
async def token(request: web.Request) -> web.Response:
    yt = yt_of(request)
    form = await request.post()
    if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
        raise OAuthError("invalid_client", "Unauthorized", 401)
    grant_type = form.get("grant_type")
    now = yt.clock.now()
    if grant_type == "authorization_code":
        code = yt.codes.get(str(form.get("code", "")))
        if code is None or code.used or now - code.issued_at > CODE_TTL:
            raise OAuthError("invalid_grant", "Bad Request")
        if form.get("redirect_uri") != code.redirect_uri:
            raise OAuthError("redirect_uri_mismatch", "Bad Request")
        if code.code_challenge:
            verifier = str(form.get("code_verifier", ""))
            if not verifier or not _verifier_matches(verifier, code.code_challenge, code.code_challenge_method):
                raise OAuthError("invalid_grant", "Invalid code verifier.")
        code.used = True
        body: dict[str, object] = {}
        refresh_value: str | None = None
        if code.offline:
            existing = [g for g in yt.grants.values() if g.kind == "refresh" and g.alive(now)
                        and g.client_id == code.client_id and g.username == code.username]
            if code.force_consent or not existing:
                refresh = yt.issue_refresh(code.client_id, code.username, code.scopes)
                refresh_value = refresh.value
                body["refresh_token"] = refresh.value
                if refresh.expires_at is not None:  # Testing-mode projects say so
                    body["refresh_token_expires_in"] = int(refresh.expires_at - now)
            else:
                refresh_value = existing[-1].value
        access = yt.issue_access(code.client_id, code.username, code.scopes, refresh_value)
        return web.json_response({
            "access_token": access.value, "expires_in": 3599, **body,
            "scope": " ".join(code.scopes), "token_type": "Bearer",
        })
    if grant_type == "refresh_token":
        refresh = yt.grants.get(str(form.get("refresh_token", "")))
        if refresh is None or refresh.kind != "refresh" or not refresh.alive(now):
            raise OAuthError("invalid_grant", "Token has been expired or revoked.")
        access = yt.issue_access(refresh.client_id, refresh.username, refresh.scopes, refresh.value)
        return web.json_response({
            "access_token": access.value, "expires_in": 3599,
            "scope": " ".join(refresh.scopes), "token_type": "Bearer",
        })
    raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")


@token_routes.post("/revoke")
async def revoke(request: web.Request) -> web.Response:
    yt = yt_of(request)
    form = await request.post()
    value = request.query.get("token") or str(form.get("token", ""))
    grant = yt.grants.get(value)
    if grant is None or grant.revoked:
        raise OAuthError("invalid_token", "Token expired or revoked")
    yt.revoke(value)
    return web.json_response({})
