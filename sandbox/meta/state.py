"""In-memory state of the emulated platform: accounts, tokens, codes.

One object, owned by Meta's part of the sandbox (``sandbox.meta.world.Meta.state``), mutated
only by route handlers and control calls. Nothing is persisted: ``reset`` rebuilds the seeded
world, which is what tests want.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sandbox.meta.accounts import (
    AccountType,
    FacebookPage,
    FacebookUser,
    InstagramAccount,
    TokenResponseStyle,
)
from sandbox.clock import Clock
from sandbox.publish_log import PublishLog
from sandbox.meta.media import MediaStore
from sandbox.meta.tokens import AuthCode, LoginFlow, Token, TokenKind, random_value

# First ids handed to accounts created through the control API (seeded ids sit below these).
_FIRST_CREATED_IG_ID = 17841400000001001
_FIRST_CREATED_FB_USER_ID = 10000000000001001
_FIRST_CREATED_PAGE_ID = 20000000000001001


class UsernameTaken(ValueError):
    """Usernames are one namespace across Instagram accounts and Facebook users."""


@dataclass(frozen=True, slots=True)
class NewPage:
    """A page to create for a new Facebook user, with an optional linked IG account."""

    name: str
    ig_username: str | None = None
    ig_name: str | None = None
    ig_followers_count: int = 1000
    ig_follows_count: int = 100
    ig_media_count: int = 0


class SandboxState:
    """Accounts, tokens and codes of the emulated platform."""

    def __init__(self, clock: Clock, published: PublishLog) -> None:
        self.clock = clock
        self.published = published
        self.ig_accounts: dict[str, InstagramAccount] = {}
        self.fb_users: dict[str, FacebookUser] = {}
        self.pages: dict[str, FacebookPage] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, AuthCode] = {}
        self.media = MediaStore()
        self._next_ig = _FIRST_CREATED_IG_ID
        self._next_fb_user = _FIRST_CREATED_FB_USER_ID
        self._next_page = _FIRST_CREATED_PAGE_ID

    # --- lookups ----------------------------------------------------------------------------
    def instagram_login_accounts(self) -> list[InstagramAccount]:
        return [a for a in self.ig_accounts.values() if a.instagram_login]

    def find_instagram_login_account(self, key: str) -> InstagramAccount | None:
        """By username or IG user id; only accounts that can use Instagram Login."""
        for account in self.instagram_login_accounts():
            if key.lower() == account.username.lower() or key == account.ig_user_id:
                return account
        return None

    def find_fb_user(self, key: str) -> FacebookUser | None:
        """By username or user id."""
        for user in self.fb_users.values():
            if key.lower() == user.username.lower() or key == user.user_id:
                return user
        return None

    def find_ig_account(self, key: str) -> InstagramAccount | None:
        """Any IG account by username, IG user id or (Instagram Login) app-scoped id."""
        for account in self.ig_accounts.values():
            if key.lower() == account.username.lower() or key in (
                account.ig_user_id,
                account.app_scoped_id,
            ):
                return account
        return None

    def username_taken(self, username: str) -> bool:
        lowered = username.lower()
        return any(a.username.lower() == lowered for a in self.ig_accounts.values()) or any(
            u.username.lower() == lowered for u in self.fb_users.values()
        )

    def pages_of(self, user: FacebookUser) -> list[FacebookPage]:
        return [self.pages[pid] for pid in user.page_ids]

    # --- creating accounts ------------------------------------------------------------------
    def add_instagram_account(self, account: InstagramAccount) -> InstagramAccount:
        if self.username_taken(account.username):
            raise UsernameTaken(account.username)
        self.ig_accounts[account.ig_user_id] = account
        return account

    def add_fb_user(self, user: FacebookUser, pages: Iterable[FacebookPage]) -> FacebookUser:
        if self.username_taken(user.username):
            raise UsernameTaken(user.username)
        self.fb_users[user.user_id] = user
        for page in pages:
            self.pages[page.page_id] = page
            if page.page_id not in user.page_ids:
                user.page_ids.append(page.page_id)
        return user

    def create_instagram_login_account(
        self,
        username: str,
        *,
        name: str | None = None,
        account_type: AccountType = "BUSINESS",
        followers_count: int = 0,
        follows_count: int = 0,
        media_count: int = 0,
        biography: str = "",
        website: str = "",
        token_response_style: TokenResponseStyle = "plain",
    ) -> InstagramAccount:
        """A new account for Instagram Login, with the next free IG user id."""
        if self.username_taken(username):
            raise UsernameTaken(username)
        account = InstagramAccount(
            ig_user_id=str(self._next_ig),
            username=username,
            name=name or username,
            account_type=account_type,
            followers_count=followers_count,
            follows_count=follows_count,
            media_count=media_count,
            biography=biography,
            website=website,
            token_response_style=token_response_style,
        )
        self._next_ig += 1
        return self.add_instagram_account(account)

    def create_fb_user(
        self, username: str, *, name: str | None = None, pages: Iterable[NewPage] = ()
    ) -> FacebookUser:
        """A new Facebook user administering new pages (some linked to new IG accounts)."""
        pages = list(pages)
        wanted = [username] + [p.ig_username for p in pages if p.ig_username]
        if len({w.lower() for w in wanted}) != len(wanted):
            raise UsernameTaken("duplicate username in request")
        for candidate in wanted:
            if self.username_taken(candidate):
                raise UsernameTaken(candidate)
        user = FacebookUser(
            user_id=str(self._next_fb_user), username=username, name=name or username
        )
        self._next_fb_user += 1
        self.fb_users[user.user_id] = user
        for spec in pages:
            page = FacebookPage(
                page_id=str(self._next_page), name=spec.name, admin_user_id=user.user_id
            )
            self._next_page += 1
            if spec.ig_username:
                ig = InstagramAccount(
                    ig_user_id=str(self._next_ig),
                    username=spec.ig_username,
                    name=spec.ig_name or spec.name,
                    followers_count=spec.ig_followers_count,
                    follows_count=spec.ig_follows_count,
                    media_count=spec.ig_media_count,
                    instagram_login=False,
                    page_id=page.page_id,
                )
                self._next_ig += 1
                self.ig_accounts[ig.ig_user_id] = ig
                page.ig_user_id = ig.ig_user_id
            self.pages[page.page_id] = page
            user.page_ids.append(page.page_id)
        return user

    # --- codes and tokens -------------------------------------------------------------------
    def issue_code(
        self,
        *,
        flow: LoginFlow,
        client_id: str,
        redirect_uri: str,
        subject_id: str,
        login_username: str,
        scopes: tuple[str, ...],
        declined: tuple[str, ...],
    ) -> AuthCode:
        code = AuthCode(
            value=random_value("AQ", 300) if flow == "facebook" else random_value("AQB", 220),
            flow=flow,
            client_id=client_id,
            redirect_uri=redirect_uri,
            subject_id=subject_id,
            login_username=login_username,
            scopes=scopes,
            declined=declined,
            issued_at=self.clock.now(),
        )
        self.codes[code.value] = code
        return code

    def issue_token(
        self,
        kind: TokenKind,
        *,
        subject_id: str,
        login_username: str,
        scopes: tuple[str, ...],
        declined: tuple[str, ...] = (),
        ttl_seconds: float | None,
        fb_user_id: str | None = None,
    ) -> Token:
        """A new token; ``ttl_seconds=None`` means it never expires (page tokens)."""
        now = self.clock.now()
        prefix = "IGAA" if kind.host == "graph.instagram.com" else "EAA"
        token = Token(
            value=random_value(prefix),
            kind=kind,
            subject_id=subject_id,
            login_username=login_username,
            scopes=scopes,
            declined=declined,
            issued_at=now,
            expires_at=None if ttl_seconds is None else now + ttl_seconds,
            fb_user_id=fb_user_id,
        )
        self.tokens[token.value] = token
        return token

    def revoke_login(self, username: str) -> int:
        """Password change: every token hanging on that login dies (190/460)."""
        lowered = username.lower()
        count = 0
        for token in self.tokens.values():
            if token.login_username.lower() == lowered and not token.revoked:
                token.revoked = True
                count += 1
        return count
