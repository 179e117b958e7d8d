"""The people and objects living on the emulated platform.

Two kinds of login reach an Instagram professional account, as on the real platform:
- Instagram Login: the account logs in itself (``instagram_login=True``); graph.instagram.com.
- Facebook Login: a Facebook user administers Pages, some linked to an Instagram business
  account; graph.facebook.com.
Ids are strings of digits, like Meta's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

AccountType = Literal["BUSINESS", "MEDIA_CREATOR"]
TokenResponseStyle = Literal["plain", "wrapped"]

# Meta gives Instagram Login users an app-scoped id (`id` in /me) besides the professional
# account id (`user_id`). The sandbox derives one from the other so both stay deterministic.
_APP_SCOPED_SHIFT = 26000000000000000 - 17841400000000000

DEFAULT_PAGE_TASKS: tuple[str, ...] = (
    "ADVERTISE",
    "ANALYZE",
    "CREATE_CONTENT",
    "MESSAGING",
    "MODERATE",
    "MANAGE",
)


@dataclass(slots=True)
class InstagramAccount:
    """An Instagram professional (Business or Creator) account."""

    ig_user_id: str
    username: str
    name: str
    account_type: AccountType = "BUSINESS"
    followers_count: int = 0
    follows_count: int = 0
    media_count: int = 0
    biography: str = ""
    website: str = ""
    # Reachable through Instagram Login (listed on the Instagram authorize page).
    instagram_login: bool = True
    # Shape of the code-exchange answer: plain object or wrapped in {"data": [...]}.
    token_response_style: TokenResponseStyle = "plain"
    # Set for accounts linked to a Facebook Page.
    page_id: str | None = None

    @property
    def app_scoped_id(self) -> str:
        return str(int(self.ig_user_id) + _APP_SCOPED_SHIFT)

    def public(self) -> dict[str, object]:
        """Control-API view (no tokens)."""
        return {
            "ig_user_id": self.ig_user_id,
            "app_scoped_id": self.app_scoped_id,
            "username": self.username,
            "name": self.name,
            "account_type": self.account_type,
            "followers_count": self.followers_count,
            "follows_count": self.follows_count,
            "media_count": self.media_count,
            "biography": self.biography,
            "website": self.website,
            "instagram_login": self.instagram_login,
            "token_response_style": self.token_response_style,
            "page_id": self.page_id,
        }


@dataclass(slots=True)
class FacebookPage:
    """A Facebook Page, optionally linked to an Instagram business account."""

    page_id: str
    name: str
    admin_user_id: str
    ig_user_id: str | None = None
    tasks: tuple[str, ...] = DEFAULT_PAGE_TASKS
    category: str = "Brand"


@dataclass(slots=True)
class FacebookUser:
    """A Facebook user who logs in with Facebook Login and administers Pages."""

    user_id: str
    username: str
    name: str
    page_ids: list[str] = field(default_factory=list)
