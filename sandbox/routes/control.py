"""The control API under ``/_sandbox/``: how tests and people steer the emulated platform.

JSON in and out, no auth, loopback callers only (unless ``SandboxConfig.control_remote_access``).
Control calls are never counted in the stats nor hit by faults.
"""

from __future__ import annotations

import html
import ipaddress
import json
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError

from sandbox.context import Sandbox, sandbox_of
from sandbox.faults import FaultSpec
from sandbox.routes.control_models import (
    DEFAULT_FB_SCOPES,
    DEFAULT_IG_SCOPES,
    NEW_ACCOUNT,
    ClockAdvance,
    MintToken,
    NewInstagramAccount,
    Revoke,
    UsageSettings,
)
from sandbox.state import NewPage, UsernameTaken
from sandbox.tokens import TokenKind

routes = web.RouteTableDef()

Model = TypeVar("Model", bound=BaseModel)


# --- plumbing ---------------------------------------------------------------------------------
def control_error(status: int, code: str, message: str) -> web.HTTPException:
    body = json.dumps({"error": {"code": code, "message": message}})
    cls: type[web.HTTPException] = {
        400: web.HTTPBadRequest,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        409: web.HTTPConflict,
    }[status]
    return cls(text=body, content_type="application/json")


async def _json(request: web.Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise control_error(400, "invalid_json", "the body must be a JSON object") from None


async def parse_body(request: web.Request, model: type[Model]) -> Model:
    try:
        return model.model_validate(await _json(request))
    except ValidationError as exc:
        raise control_error(400, "invalid_body", _describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )


@web.middleware
async def local_only_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The control API is for the machine the sandbox runs on."""
    guarded = request.path.startswith("/_sandbox")
    remote_ok = sandbox_of(request).config.control_remote_access or _is_loopback(request.remote)
    if guarded and not remote_ok:
        raise control_error(403, "forbidden", "the control API only answers local callers")
    return await handler(request)


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return True  # unix socket / in-process test server
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


# --- routes -----------------------------------------------------------------------------------
@routes.get("/")
async def index(request: web.Request) -> web.Response:
    """What a person opening the sandbox URL sees: the seeded logins and where things are."""
    state = sandbox_of(request).state
    ig = "".join(
        f"<li><code>{html.escape(a.username)}</code> ({a.account_type})</li>"
        for a in state.instagram_login_accounts()
    )
    fb = "".join(
        f"<li><code>{html.escape(u.username)}</code>: "
        + html.escape(", ".join(p.name for p in state.pages_of(u)) or "no pages")
        + "</li>"
        for u in state.fb_users.values()
    )
    body = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>socialsync sandbox</title></head><body>
<h1>socialsync platform sandbox</h1>
<p>Emulates Instagram / Facebook Login and the Graph API: real <code>https://HOST/PATH</code> is
served here at <code>/HOST/PATH</code>.</p>
<h2>Instagram Login accounts</h2><ul>{ig}</ul>
<h2>Facebook Login users (pages)</h2><ul>{fb}</ul>
<p>Control API (JSON): <a href="/_sandbox/accounts">/_sandbox/accounts</a>,
<a href="/_sandbox/stats">/_sandbox/stats</a>, <a href="/_sandbox/requests">/_sandbox/requests</a>,
<a href="/_sandbox/usage">/_sandbox/usage</a>, <a href="/_sandbox/clock">/_sandbox/clock</a>,
<a href="/_sandbox/faults">/_sandbox/faults</a>.</p></body></html>"""
    return web.Response(text=body, content_type="text/html")


@routes.get("/_sandbox/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@routes.get("/_sandbox/accounts")
async def list_accounts(request: web.Request) -> web.Response:
    """Every account and user, without tokens."""
    state = sandbox_of(request).state
    facebook = []
    for user in state.fb_users.values():
        pages = []
        for page in state.pages_of(user):
            ig = state.ig_accounts.get(page.ig_user_id) if page.ig_user_id else None
            pages.append(
                {
                    "id": page.page_id,
                    "name": page.name,
                    "tasks": list(page.tasks),
                    "instagram_business_account": ig.public() if ig else None,
                }
            )
        facebook.append(
            {"user_id": user.user_id, "username": user.username, "name": user.name, "pages": pages}
        )
    return web.json_response(
        {"instagram": [a.public() for a in state.instagram_login_accounts()], "facebook": facebook}
    )


@routes.post("/_sandbox/accounts")
async def create_account(request: web.Request) -> web.Response:
    """Create an Instagram Login account, or a Facebook user with pages; returns the ids."""
    sandbox = sandbox_of(request)
    try:
        body = NEW_ACCOUNT.validate_python(await _json(request))
    except ValidationError as exc:
        raise control_error(400, "invalid_body", _describe(exc)) from None
    try:
        if isinstance(body, NewInstagramAccount):
            account = sandbox.state.create_instagram_login_account(
                body.username,
                name=body.name,
                account_type=body.account_type,
                followers_count=body.followers_count,
                follows_count=body.follows_count,
                media_count=body.media_count,
                biography=body.biography,
                website=body.website,
                token_response_style=body.token_response_style,
            )
            if body.buc_calls_per_window is not None or body.buc_window_seconds is not None:
                sandbox.usage.set_account_budget(
                    account.ig_user_id,
                    calls_per_window=body.buc_calls_per_window,
                    window_seconds=body.buc_window_seconds,
                )
            created: dict[str, Any] = {
                "login": "instagram",
                "username": account.username,
                "ig_user_id": account.ig_user_id,
                "app_scoped_id": account.app_scoped_id,
            }
        else:
            user = sandbox.state.create_fb_user(
                body.username,
                name=body.name,
                pages=[NewPage(**p.model_dump()) for p in body.pages],
            )
            created = {
                "login": "facebook",
                "username": user.username,
                "user_id": user.user_id,
                "pages": [
                    {
                        "id": page.page_id,
                        "name": page.name,
                        "ig_user_id": page.ig_user_id,
                        "ig_username": (
                            sandbox.state.ig_accounts[page.ig_user_id].username
                            if page.ig_user_id
                            else None
                        ),
                    }
                    for page in sandbox.state.pages_of(user)
                ],
            }
    except UsernameTaken as exc:
        raise control_error(409, "username_taken", f"username already exists: {exc}") from None
    return web.json_response(created, status=201)


@routes.get("/_sandbox/clock")
async def get_clock(request: web.Request) -> web.Response:
    return web.json_response(_clock(sandbox_of(request)))


@routes.post("/_sandbox/clock")
async def advance_clock(request: web.Request) -> web.Response:
    """Move the sandbox clock forward: ages codes, tokens and rate-limit windows."""
    sandbox = sandbox_of(request)
    body = await parse_body(request, ClockAdvance)
    sandbox.clock.advance(body.advance_seconds)
    return web.json_response(_clock(sandbox))


def _clock(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "now": sandbox.clock.now(),
        "iso": sandbox.clock.iso(),
        "offset_seconds": sandbox.clock.offset,
    }


@routes.post("/_sandbox/tokens/revoke")
async def revoke_tokens(request: web.Request) -> web.Response:
    """Password change for a login (every token → 190/460), or kill one token."""
    sandbox = sandbox_of(request)
    body = await parse_body(request, Revoke)
    if body.access_token is not None:
        token = sandbox.state.tokens.get(body.access_token)
        if token is None:
            raise control_error(404, "not_found", "unknown access_token")
        count = 0 if token.revoked else 1
        token.revoked = True
        return web.json_response({"revoked": count})
    assert body.username is not None
    state = sandbox.state
    if (
        state.find_instagram_login_account(body.username) is None
        and state.find_fb_user(body.username) is None
    ):
        raise control_error(
            404, "not_found", f"no Instagram Login account or Facebook user {body.username!r}"
        )
    return web.json_response({"revoked": state.revoke_login(body.username)})


@routes.post("/_sandbox/tokens")
async def mint_token(request: web.Request) -> web.Response:
    """Issue a token without the login dance (for tests that are about something else)."""
    sandbox = sandbox_of(request)
    body = await parse_body(request, MintToken)
    kind = TokenKind(body.kind)
    config = sandbox.config
    if kind in (TokenKind.IG_SHORT, TokenKind.IG_LONG):
        account = sandbox.state.find_instagram_login_account(body.username)
        if account is None:
            raise control_error(404, "not_found", f"no Instagram Login account {body.username!r}")
        subject, login = account.ig_user_id, account.username
        default_scopes: tuple[str, ...] = DEFAULT_IG_SCOPES
        ttl = (
            config.ig_short_token_ttl_seconds
            if kind is TokenKind.IG_SHORT
            else config.long_token_ttl_seconds
        )
    else:
        user = sandbox.state.find_fb_user(body.username)
        if user is None:
            raise control_error(404, "not_found", f"no Facebook user {body.username!r}")
        subject, login = user.user_id, user.username
        default_scopes = DEFAULT_FB_SCOPES
        ttl = (
            config.fb_short_token_ttl_seconds
            if kind is TokenKind.FB_USER_SHORT
            else config.long_token_ttl_seconds
        )
    scopes = tuple(body.scopes) if body.scopes is not None else default_scopes
    token = sandbox.state.issue_token(
        kind,
        subject_id=subject,
        login_username=login,
        scopes=scopes,
        declined=tuple(s for s in default_scopes if s not in scopes),
        ttl_seconds=ttl,
    )
    return web.json_response(
        {"access_token": token.value, "kind": kind.value, "subject_id": subject, "expires_in": ttl},
        status=201,
    )


@routes.post("/_sandbox/faults")
async def add_fault(request: web.Request) -> web.Response:
    spec = await parse_body(request, FaultSpec)
    fault = sandbox_of(request).faults.add(spec)
    return web.json_response({"id": fault.id}, status=201)


@routes.get("/_sandbox/faults")
async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": [f.public() for f in sandbox_of(request).faults.list()]})


@routes.delete("/_sandbox/faults")
async def clear_faults(request: web.Request) -> web.Response:
    sandbox_of(request).faults.clear()
    return web.json_response({"ok": True})


@routes.delete("/_sandbox/faults/{fault_id}")
async def delete_fault(request: web.Request) -> web.Response:
    if not sandbox_of(request).faults.remove(request.match_info["fault_id"]):
        raise control_error(404, "not_found", "no such fault")
    return web.json_response({"ok": True})


@routes.get("/_sandbox/stats")
async def stats(request: web.Request) -> web.Response:
    return web.json_response(sandbox_of(request).stats.summary())


@routes.get("/_sandbox/requests")
async def requests_log(request: web.Request) -> web.Response:
    """The request log, newest last; secrets in queries shown as ``***``."""
    try:
        limit = int(request.query.get("limit", "100"))
    except ValueError:
        raise control_error(400, "invalid_limit", "limit must be an integer") from None
    return web.json_response({"requests": sandbox_of(request).stats.recent(limit)})


@routes.get("/_sandbox/usage")
async def get_usage(request: web.Request) -> web.Response:
    return web.json_response(sandbox_of(request).usage.snapshot())


@routes.post("/_sandbox/usage")
async def set_usage(request: web.Request) -> web.Response:
    """Change the app's hourly budget and/or one IG account's BUC budget."""
    sandbox = sandbox_of(request)
    body = await parse_body(request, UsageSettings)
    if body.app_calls_per_hour is not None:
        sandbox.usage.app_budget.calls_per_window = body.app_calls_per_hour
    if body.account is not None:
        account = sandbox.state.find_ig_account(body.account)
        if account is None:
            raise control_error(404, "not_found", f"no Instagram account {body.account!r}")
        sandbox.usage.set_account_budget(
            account.ig_user_id,
            calls_per_window=body.buc_calls_per_window,
            window_seconds=body.buc_window_seconds,
        )
    return web.json_response(sandbox.usage.snapshot())


@routes.post("/_sandbox/reset")
async def reset(request: web.Request) -> web.Response:
    """Back to the seeded state: accounts, tokens, codes, clock, budgets, faults, stats."""
    sandbox_of(request).reset()
    return web.json_response({"ok": True})
