"""Access tokens and authorization codes, and how their values look.

A token records *who* it speaks for (``subject_id``), *whose login* it hangs on
(``login_username``: a password change there kills it), what was granted, and when it expires
on the sandbox clock. Values look like Meta's (``IGAA…`` for Instagram Login, ``EAA…`` for
Facebook Login) so a client that sniffs prefixes behaves as in production.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

_ALPHABET = string.ascii_letters + string.digits

LoginFlow = Literal["instagram", "facebook"]


class TokenKind(StrEnum):
    IG_SHORT = "ig_short"  # Instagram Login, 1 hour
    IG_LONG = "ig_long"  # Instagram Login, 60 days, refreshable
    FB_USER_SHORT = "fb_user_short"  # Facebook Login user token, 1-2 hours
    FB_USER_LONG = "fb_user_long"  # Facebook Login user token, 60 days
    FB_PAGE = "fb_page"  # Page token; no expiry when derived from a long-lived user token

    @property
    def host(self) -> str:
        """The Graph host that accepts this kind of token."""
        if self in (TokenKind.IG_SHORT, TokenKind.IG_LONG):
            return "graph.instagram.com"
        return "graph.facebook.com"

    @property
    def is_user_token(self) -> bool:
        return self in (TokenKind.FB_USER_SHORT, TokenKind.FB_USER_LONG)


def random_value(prefix: str, length: int = 180) -> str:
    """A random opaque string with a platform-looking prefix."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length - len(prefix)))


@dataclass(slots=True)
class Token:
    """One issued access token."""

    value: str
    kind: TokenKind
    # IG user id (Instagram Login), FB user id (user tokens) or page id (page tokens).
    subject_id: str
    # The login whose password change revokes this token.
    login_username: str
    scopes: tuple[str, ...]
    declined: tuple[str, ...]
    issued_at: float
    expires_at: float | None
    # For page tokens: the Facebook user it was derived from.
    fb_user_id: str | None = None
    revoked: bool = False
    # Set when an Instagram refresh replaced this token.
    replaced: bool = False


@dataclass(slots=True)
class AuthCode:
    """An authorization code handed out by a login dialog: single use, bound to app + URI."""

    value: str
    flow: LoginFlow
    client_id: str
    redirect_uri: str
    subject_id: str
    login_username: str
    scopes: tuple[str, ...]
    declined: tuple[str, ...]
    issued_at: float
    used: bool = False
