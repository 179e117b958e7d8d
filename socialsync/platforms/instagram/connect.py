"""Turning an OAuth callback into a connected Instagram account, for both login flows.

Every step that can fail maps to one error code the CRM sees in its return_url
(``?status=error&error=<code>``). Nothing is written to MongoDB until every call succeeded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from socialsync.config import Settings
from socialsync.crypto import TokenCipher
from socialsync.oauth_state import OAuthState
from socialsync.platforms.instagram import oauth
from socialsync.platforms.instagram.client import GraphClient
from socialsync.platforms.instagram.errors import GraphError, TransportError
from socialsync.platforms.instagram.pages import PendingPage, PendingSelection
from socialsync.store.accounts import ConnectedAccount, StoredToken
from socialsync import clock

IG_LONG_LIVED_DEFAULT = timedelta(days=60)


class ConnectError(Exception):
    """A connect flow failed; ``code`` goes to the return_url, ``message`` to the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _missing(required: list[str], granted: list[str]) -> list[str]:
    return [s for s in required if s not in set(granted)]


async def _step(code: str, what: str, coro):  # noqa: ANN001, ANN202 - awaitable passthrough
    try:
        return await coro
    except GraphError as exc:
        raise ConnectError(code, f"{what} failed: {exc.message} (code {exc.code})") from exc
    except TransportError as exc:
        raise ConnectError(code, f"{what} failed: Meta did not answer ({exc})") from exc


async def connect_instagram_login(
    graph: GraphClient, settings: Settings, cipher: TokenCipher, state: OAuthState, *, code: str,
    redirect_uri: str,
) -> ConnectedAccount:
    grant = await _step(
        "token_exchange_failed", "Exchanging the authorization code",
        oauth.exchange_instagram_code(graph, settings, code=code, redirect_uri=redirect_uri),
    )
    missing = _missing(settings.instagram_required_scopes, grant.permissions)
    if missing:
        raise ConnectError("missing_scopes", f"Permissions not granted: {', '.join(missing)}")
    long_lived = await _step(
        "token_exchange_failed", "Exchanging for a long-lived token",
        oauth.instagram_long_lived(graph, settings, grant.access_token),
    )
    profile = await _step(
        "profile_fetch_failed", "Reading the Instagram profile",
        oauth.instagram_login_profile(graph, settings, long_lived.access_token),
    )
    issued = clock.now()
    lifetime = timedelta(seconds=long_lived.expires_in) if long_lived.expires_in else IG_LONG_LIVED_DEFAULT
    return ConnectedAccount(
        tenant_id=state.tenant_id,
        login="instagram",
        external_id=profile.ig_user_id,
        username=profile.username,
        name=profile.name,
        account_type=profile.account_type,
        profile_picture_url=profile.profile_picture_url,
        profile=profile.figures(),
        scopes=grant.permissions,
        user_ref=state.user_ref,
        platform_user_id=grant.user_id,
        token=StoredToken(
            ciphertext=cipher.encrypt(long_lived.access_token),
            kind="ig_long_lived",
            issued_at=issued,
            expires_at=issued + lifetime,
        ),
    )


async def facebook_login_pages(
    graph: GraphClient, settings: Settings, cipher: TokenCipher, state: OAuthState, *, code: str,
    redirect_uri: str,
) -> PendingSelection:
    """Code → long-lived user token → granted scopes → the pages that carry an IG account."""
    short = await _step(
        "token_exchange_failed", "Exchanging the authorization code",
        oauth.exchange_facebook_code(graph, settings, code=code, redirect_uri=redirect_uri),
    )
    user = await _step(
        "token_exchange_failed", "Exchanging for a long-lived token",
        oauth.facebook_long_lived(graph, settings, short.access_token),
    )
    granted = await _step(
        "permissions_check_failed", "Reading granted permissions",
        oauth.facebook_granted_scopes(graph, settings, user.access_token),
    )
    missing = _missing(settings.facebook_required_scopes, granted)
    if missing:
        raise ConnectError("missing_scopes", f"Permissions not granted: {', '.join(missing)}")
    pages = await _step(
        "pages_fetch_failed", "Listing your Facebook Pages",
        oauth.facebook_pages(graph, settings, user.access_token),
    )
    usable = [p for p in pages if p.ig_user_id]
    if not usable:
        raise ConnectError(
            "no_instagram_business_account",
            "None of your Facebook Pages is linked to an Instagram professional account. "
            "Link one in Instagram's settings (Account type and tools → Connect a Facebook Page).",
        )
    me = await _step(
        "token_exchange_failed", "Reading the Facebook user",
        graph.get(f"{settings.fb_graph}/{settings.graph_version}/me", token=user.access_token, fields="id"),
    )
    return PendingSelection(
        state=state,
        granted_scopes=granted,
        fb_user_id=str(me.get("id")) if me.get("id") is not None else None,
        pages=[
            PendingPage(
                page_id=p.id,
                page_name=p.name,
                ig_user_id=p.ig_user_id or "",
                page_token_ciphertext=cipher.encrypt(p.access_token),
            )
            for p in usable
        ],
    )


async def connect_facebook_page(
    graph: GraphClient, settings: Settings, cipher: TokenCipher, pending: PendingSelection, page_id: str
) -> ConnectedAccount:
    page = next((p for p in pending.pages if p.page_id == page_id), None)
    if page is None:
        raise ConnectError("invalid_page", "The chosen page is not one of the offered pages.")
    page_token = cipher.decrypt(page.page_token_ciphertext)
    profile = await _step(
        "profile_fetch_failed", "Reading the Instagram business account",
        oauth.facebook_ig_profile(graph, settings, page.ig_user_id, page_token),
    )
    return ConnectedAccount(
        tenant_id=pending.state.tenant_id,
        login="facebook",
        external_id=profile.ig_user_id,
        username=profile.username,
        name=profile.name,
        account_type=profile.account_type or "BUSINESS",
        profile_picture_url=profile.profile_picture_url,
        profile=profile.figures(),
        scopes=pending.granted_scopes,
        user_ref=pending.state.user_ref,
        platform_user_id=pending.fb_user_id,
        page_id=page.page_id,
        page_name=page.page_name,
        token=StoredToken(
            ciphertext=page.page_token_ciphertext,  # a page token from a long-lived user token
            kind="fb_page",
            issued_at=clock.now(),
            expires_at=None,
        ),
    )
