"""Meta's control routes: accounts, tokens and Graph usage budgets (paths kept from before the
per-platform split: ``/_sandbox/accounts``, ``/_sandbox/tokens``, ``/_sandbox/usage``), and
Meta's section of the index page. Shared control routes are in ``sandbox/control.py``.
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from sandbox.context import Sandbox
from sandbox.control_api import control_error, describe, json_body, parse_body
from sandbox.meta.routes.control_models import (
    DEFAULT_FB_SCOPES,
    DEFAULT_IG_SCOPES,
    NEW_ACCOUNT,
    MintToken,
    NewInstagramAccount,
    Revoke,
    UsageSettings,
)
from sandbox.meta.state import NewPage, UsernameTaken
from sandbox.meta.tokens import TokenKind
from sandbox.meta.world import Meta, meta_of
from sandbox.meta.config import MetaConfig

routes = web.RouteTableDef()


def index_section(sandbox: Sandbox) -> str:
    """The seeded logins, for the index page."""
    state = Meta.of(sandbox).state
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
    return f"""<h2>Instagram Login accounts</h2><ul>{ig}</ul>
<h2>Facebook Login users (pages)</h2><ul>{fb}</ul>
<p>Meta control: <a href="/_sandbox/accounts">/_sandbox/accounts</a>,
<a href="/_sandbox/usage">/_sandbox/usage</a>, <a href="/_sandbox/publishing">/_sandbox/publishing</a>.</p>"""


@routes.get("/_sandbox/accounts")
async def list_accounts(request: web.Request) -> web.Response:
    """Every account and user, without tokens."""
    state = meta_of(request).state
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
    sandbox = meta_of(request)
    try:
        body = NEW_ACCOUNT.validate_python(await json_body(request))
    except ValidationError as exc:
        raise control_error(400, "invalid_body", describe(exc)) from None
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


@routes.post("/_sandbox/tokens/revoke")
async def revoke_tokens(request: web.Request) -> web.Response:
    """Password change for a login (every token → 190/460), or kill one token."""
    sandbox = meta_of(request)
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
    sandbox = meta_of(request)
    body = await parse_body(request, MintToken)
    kind = TokenKind(body.kind)
    config = MetaConfig.of(sandbox.config)
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


@routes.get("/_sandbox/usage")
async def get_usage(request: web.Request) -> web.Response:
    return web.json_response(meta_of(request).usage.snapshot())


@routes.post("/_sandbox/usage")
async def set_usage(request: web.Request) -> web.Response:
    """Change the app's hourly budget and/or one IG account's BUC budget."""
    sandbox = meta_of(request)
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
