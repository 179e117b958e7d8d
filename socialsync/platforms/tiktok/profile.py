"""The TikTok user object → the account's common profile shape (and its metric points).

Fields are asked for by granted scope only: one field whose scope is missing fails the whole
``/v2/user/info/`` call (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §2.2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FIELDS_BY_SCOPE: dict[str, tuple[str, ...]] = {
    "user.info.basic": ("open_id", "union_id", "avatar_url", "display_name"),
    "user.info.profile": ("username", "bio_description", "profile_deep_link", "is_verified"),
    "user.info.stats": ("follower_count", "following_count", "likes_count", "video_count"),
}
# TikTok field -> the common profile key (Instagram's names, so analytics reads both alike).
PROFILE_KEYS = {
    "display_name": "name", "username": "username", "avatar_url": "profile_picture_url",
    "bio_description": "biography", "is_verified": "is_verified",
    "profile_deep_link": "profile_url", "follower_count": "followers_count",
    "following_count": "follows_count", "likes_count": "likes_count", "video_count": "media_count",
}
COUNT_METRICS = ("followers_count", "follows_count", "likes_count", "media_count")


def profile_fields(scopes: Iterable[str]) -> list[str]:
    granted = set(scopes)
    return [f for scope, fields in FIELDS_BY_SCOPE.items() if scope in granted for f in fields]


def profile_from_user(user: Mapping[str, Any]) -> dict[str, Any]:
    return {key: user[field] for field, key in PROFILE_KEYS.items() if field in user}
