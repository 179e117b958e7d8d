"""Instagram's `Connector` (socialsync.platforms.base): both login flows, as the core drives them.

Instagram Login: code → short-lived token → long-lived token (60 days) → profile: one account.
Facebook Login: code → long-lived user token → granted scopes → the pages that carry an
Instagram professional account: one page connects at once, several are a `Choice` (the core
keeps its ``pending`` under the OAuth state, page tokens encrypted, and shows the choice page);
``choose`` reads the picked page's account with its page token.

Every step that can fail raises `ConnectFailed` with the code the CRM sees in its return_url
(``?status=error&error=<code>``). Nothing is stored here: the core stores the `NewAccount`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from socialsync import clock
from socialsync.platforms.base import Choice, ConnectFailed, Credentials, NewAccount
from socialsync.platforms.instagram import oauth
from socialsync.platforms.instagram.errors import GraphError, TransportError
from socialsync.platforms.instagram.pages import PendingPage, PendingSelection

IG_LONG_LIVED_DEFAULT = timedelta(days=60)
ConnectError = ConnectFailed  # the name the previous release raised


def _missing(required: list[str], granted: list[str]) -> list[str]:
    return [s for s in required if s not in set(granted)]


async def _step(code: str, what: str, coro):  # noqa: ANN001, ANN202 - awaitable passthrough
    try:
        return await coro
    except GraphError as exc:
        raise ConnectFailed(code, f"{what} failed: {exc.message} (code {exc.code})") from exc
    except TransportError as exc:
        raise ConnectFailed(code, f"{what} failed: Meta did not answer ({exc})") from exc


class InstagramConnect:
    """``login`` is ``instagram`` (Instagram Login) or ``facebook`` (Facebook Login)."""

    def __init__(self, context: Any) -> None:
        self.context = context

    @property
    def _graph(self):  # noqa: ANN202
        from socialsync.platforms.instagram.plugin import graph_of  # noqa: PLC0415 - plugin imports this

        return graph_of(self.context)

    def authorize_url(self, login: str, *, state: str, redirect_uri: str, code_challenge: str | None = None) -> str:
        build = oauth.facebook_dialog_url if login == "facebook" else oauth.instagram_authorize_url
        return build(self.context.settings, state=state, redirect_uri=redirect_uri)

    async def callback(
        self, login: str, *, params: Mapping[str, str], redirect_uri: str, code_verifier: str | None = None
    ) -> Sequence[NewAccount] | Choice:
        # Meta appends "#_" to the redirect; browsers drop fragments, but a copied URL may keep it.
        code = str(params.get("code") or "").removesuffix("#_")
        if not code:
            raise ConnectFailed("invalid_callback", "no code in the callback")
        if login == "facebook":
            pending = await self._facebook_pages(code=code, redirect_uri=redirect_uri)
            if len(pending["pages"]) == 1:
                return [await self.choose(login, pending, pending["pages"][0]["page_id"])]
            return Choice(options=self.options(login, pending), pending=pending)
        return [await self._instagram_login(code=code, redirect_uri=redirect_uri)]

    def options(self, login: str, pending: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"id": p["page_id"], "name": p.get("page_name") or p["page_id"]} for p in pending.get("pages", [])]

    async def choose(self, login: str, pending: Mapping[str, Any], option_id: str) -> NewAccount:
        selection = _Pending.model_validate(pending)
        page = next((p for p in selection.pages if p.page_id == option_id), None)
        if page is None:
            raise ConnectFailed("invalid_page", "The chosen page is not one of the offered pages.")
        settings, cipher = self.context.settings, self.context.cipher
        page_token = cipher.decrypt(page.page_token_ciphertext)
        profile = await _step(
            "profile_fetch_failed", "Reading the Instagram business account",
            oauth.facebook_ig_profile(self._graph, settings, page.ig_user_id, page_token),
        )
        return NewAccount(
            login="facebook",
            external_id=profile.ig_user_id,
            username=profile.username,
            name=profile.name,
            account_type=profile.account_type or "BUSINESS",
            profile_picture_url=profile.profile_picture_url,
            profile=profile.figures(),
            scopes=tuple(selection.granted_scopes),
            platform_user_id=selection.fb_user_id,
            top_fields={"page_id": page.page_id, "page_name": page.page_name},
            # a page token from a long-lived user token: it does not expire
            credentials=Credentials(access_token=page_token, kind="fb_page", issued_at=clock.now()),
        )

    async def _instagram_login(self, *, code: str, redirect_uri: str) -> NewAccount:
        graph, settings = self._graph, self.context.settings
        grant = await _step(
            "token_exchange_failed", "Exchanging the authorization code",
            oauth.exchange_instagram_code(graph, settings, code=code, redirect_uri=redirect_uri),
        )
        missing = _missing(settings.instagram_required_scopes, grant.permissions)
        if missing:
            raise ConnectFailed("missing_scopes", f"Permissions not granted: {', '.join(missing)}")
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
        return NewAccount(
            login="instagram",
            external_id=profile.ig_user_id,
            username=profile.username,
            name=profile.name,
            account_type=profile.account_type,
            profile_picture_url=profile.profile_picture_url,
            profile=profile.figures(),
            scopes=tuple(grant.permissions),
            platform_user_id=grant.user_id,
            top_fields={"page_id": None, "page_name": None},
            credentials=Credentials(
                access_token=long_lived.access_token, kind="ig_long_lived", issued_at=issued,
                access_expires_at=issued + lifetime,
            ),
        )

    async def _facebook_pages(self, *, code: str, redirect_uri: str) -> dict[str, Any]:
        """Code → long-lived user token → granted scopes → the pages that carry an IG account,
        as the pending choice (the previous release's JSON, without its ``state``)."""
        graph, settings, cipher = self._graph, self.context.settings, self.context.cipher
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
            raise ConnectFailed("missing_scopes", f"Permissions not granted: {', '.join(missing)}")
        pages = await _step(
            "pages_fetch_failed", "Listing your Facebook Pages",
            oauth.facebook_pages(graph, settings, user.access_token),
        )
        usable = [p for p in pages if p.ig_user_id]
        if not usable:
            raise ConnectFailed(
                "no_instagram_business_account",
                "None of your Facebook Pages is linked to an Instagram professional account. "
                "Link one in Instagram's settings (Account type and tools → Connect a Facebook Page).",
            )
        me = await _step(
            "token_exchange_failed", "Reading the Facebook user",
            graph.get(f"{settings.fb_graph}/{settings.graph_version}/me", token=user.access_token, fields="id"),
        )
        return _Pending(
            granted_scopes=granted,
            fb_user_id=str(me.get("id")) if me.get("id") is not None else None,
            pages=[
                PendingPage(page_id=p.id, page_name=p.name, ig_user_id=p.ig_user_id or "",
                            page_token_ciphertext=cipher.encrypt(p.access_token))
                for p in usable
            ],
        ).model_dump(mode="json", exclude={"state"})


class _Pending(PendingSelection):
    """The pending choice as the plugin sees it: the core keeps the OAuth state beside it."""

    state: Any = None
