"""Who is calling: the one place a Graph request's token becomes an account.

Every Graph route starts with ``await authenticate(request, host)``; it applies the token rules
(unknown → 190, expired → 190/463, password changed → 190/460, wrong host → 190) so new routes
(media, insights, publishing) get them for free.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from sandbox.meta.accounts import FacebookPage, FacebookUser, InstagramAccount
from sandbox.meta.world import note_account, meta_of
from sandbox.meta.errors import (
    GraphError,
    expired_token,
    invalid_token,
    missing_token,
    permission_missing,
    revoked_token,
)
from sandbox.meta.state import SandboxState
from sandbox.meta.tokens import Token, TokenKind


@dataclass(frozen=True, slots=True)
class Caller:
    """A validated token and what it speaks for."""

    token: Token
    # Instagram Login tokens: the IG account itself.
    ig_account: InstagramAccount | None = None
    # Facebook user tokens: the user; page tokens: the page's admin.
    fb_user: FacebookUser | None = None
    # Page tokens: the page.
    page: FacebookPage | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.token.scopes

    def require_scope(self, scope: str) -> None:
        """Code 10 when the login did not grant ``scope``."""
        if not self.has_scope(scope):
            raise permission_missing()


async def token_value(request: web.Request) -> str | None:
    """The access token of a call: query, ``Authorization: Bearer|OAuth``, or form body."""
    value = request.query.get("access_token")
    if value:
        return value
    auth = request.headers.get("Authorization", "")
    scheme, _, credentials = auth.partition(" ")
    if scheme.lower() in ("bearer", "oauth") and credentials.strip():
        return credentials.strip()
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        posted = form.get("access_token")
        if isinstance(posted, str) and posted:
            return posted
    return None


async def authenticate(request: web.Request, host: str) -> Caller:
    """Validate the call's token for ``host`` and resolve it to its account."""
    value = await token_value(request)
    if value is None:
        raise missing_token()
    token = check_token(request, value, host)
    caller = _resolve(meta_of(request).state, token)
    note_account(request, token.subject_id)
    return caller


def check_token(request: web.Request, value: str, host: str) -> Token:
    """The same rules for a token passed as a parameter (exchange, refresh)."""
    sandbox = meta_of(request)
    token = sandbox.state.tokens.get(value)
    if token is None or token.kind.host != host or token.replaced:
        raise invalid_token()
    if token.revoked:
        raise revoked_token()
    now = sandbox.clock.now()
    if token.expires_at is not None and now >= token.expires_at:
        raise expired_token(sandbox.clock.iso(token.expires_at), sandbox.clock.iso(now))
    return token


def _resolve(state: SandboxState, token: Token) -> Caller:
    if token.kind in (TokenKind.IG_SHORT, TokenKind.IG_LONG):
        account = state.ig_accounts.get(token.subject_id)
        if account is None:
            raise invalid_token()
        return Caller(token=token, ig_account=account)
    if token.kind is TokenKind.FB_PAGE:
        page = state.pages.get(token.subject_id)
        user = state.fb_users.get(token.fb_user_id or "")
        if page is None or user is None or page.page_id not in user.page_ids:
            # Lost the page role: the page token dies with it.
            raise GraphError(
                190,
                "Error validating access token: The user is not an administrator of the page.",
                subcode=492,
            )
        return Caller(token=token, fb_user=user, page=page)
    user = state.fb_users.get(token.subject_id)
    if user is None:
        raise invalid_token()
    return Caller(token=token, fb_user=user)
