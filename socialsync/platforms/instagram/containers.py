"""The Graph calls of content publishing (PLATFORM_FACTS.md §3), typed.

Every call names the account (``account_id=<IG user id>``) so the rate-limit governor sees it.
Nothing here decides anything: the state machine in ``publish.py`` does.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.client import GraphClient

CLOCK_SKEW = timedelta(minutes=2)  # between our clock and Meta's media timestamps
StatusCode = Literal["IN_PROGRESS", "FINISHED", "ERROR", "EXPIRED", "PUBLISHED"]
_SUBCODE = re.compile(r"\b(22\d{5})\b")


class ContainerStatus(BaseModel):
    id: str
    status_code: StatusCode
    status: str | None = None

    @property
    def error_subcode(self) -> int | None:
        """For ERROR: the subcode Meta puts in ``status`` (the only place it is given)."""
        found = _SUBCODE.search(self.status or "")
        return int(found.group(1)) if found else None


class QuotaConfig(BaseModel):
    quota_total: int
    quota_duration: int = 86400


class PublishingLimit(BaseModel):
    quota_usage: int
    config: QuotaConfig

    @property
    def spent(self) -> bool:
        return self.quota_usage >= self.config.quota_total


class MediaSummary(BaseModel):
    id: str
    caption: str | None = None
    timestamp: str | None = None
    media_product_type: str | None = None
    permalink: str | None = None


def container_form(post: dict[str, Any], *, item: int | None = None, children: list[str] | None = None) -> dict[str, str]:
    """The ``POST /{ig-user-id}/media`` parameters for one container of a stored post request:
    a carousel item (``item``), the carousel parent (``children``), or the single container."""
    kind = post["type"]
    options = post.get("options") or {}
    if item is not None:
        media = post["media"][item]
        form = {"is_carousel_item": "true"}
        if media["kind"] == "image":
            form["image_url"] = media["url"]
            if media.get("alt_text"):
                form["alt_text"] = media["alt_text"]
        else:
            form.update(media_type="VIDEO", video_url=media["url"])
        return form
    form = {"caption": post.get("caption", "")} if kind != "story" else {}
    if children is not None:
        form.update(media_type="CAROUSEL", children=",".join(children))
    else:
        media = post["media"][0]
        if kind == "image":
            form["image_url"] = media["url"]
            if media.get("alt_text"):
                form["alt_text"] = media["alt_text"]
        elif kind == "reel":
            form.update(media_type="REELS", video_url=media["url"])
        else:  # story
            form["media_type"] = "STORIES"
            form["image_url" if media["kind"] == "image" else "video_url"] = media["url"]
    if options.get("share_to_feed") is not None:
        form["share_to_feed"] = "true" if options["share_to_feed"] else "false"
    if options.get("cover_url"):
        form["cover_url"] = options["cover_url"]
    if options.get("thumb_offset_ms") is not None:
        form["thumb_offset"] = str(options["thumb_offset_ms"])
    if options.get("location_id"):
        form["location_id"] = options["location_id"]
    if options.get("user_tags"):
        form["user_tags"] = json.dumps(options["user_tags"])
    if options.get("collaborators"):
        form["collaborators"] = json.dumps(options["collaborators"])
    return form


async def create(graph: GraphClient, access: AccountAccess, form: dict[str, str]) -> str:
    body = await graph.post_form(
        access.url(f"{access.ig_user_id}/media"), form, token=access.token, account_id=access.ig_user_id
    )
    return str(body["id"])


async def read(graph: GraphClient, access: AccountAccess, container_id: str) -> ContainerStatus:
    body = await graph.get(
        access.url(container_id), token=access.token, account_id=access.ig_user_id,
        fields="id,status_code,status",
    )
    return ContainerStatus.model_validate(body)


async def publishing_limit(graph: GraphClient, access: AccountAccess) -> PublishingLimit:
    body = await graph.get(
        access.url(f"{access.ig_user_id}/content_publishing_limit"), token=access.token,
        account_id=access.ig_user_id, fields="quota_usage,config",
    )
    return PublishingLimit.model_validate(body["data"][0])


async def publish(graph: GraphClient, access: AccountAccess, container_id: str) -> str:
    body = await graph.post_form(
        access.url(f"{access.ig_user_id}/media_publish"), {"creation_id": container_id},
        token=access.token, account_id=access.ig_user_id,
    )
    return str(body["id"])


async def permalink(graph: GraphClient, access: AccountAccess, media_id: str) -> str | None:
    body = await graph.get(access.url(media_id), token=access.token, account_id=access.ig_user_id, fields="permalink")
    return body.get("permalink")


MEDIA_LOOKUP_PAGE = 50
MEDIA_LOOKUP_MAX_PAGES = 10  # ≤ 500 media back: a lookup never turns into a full listing


async def media_since(
    graph: GraphClient, access: AccountAccess, *, story: bool, not_before: datetime,
    max_pages: int = MEDIA_LOOKUP_MAX_PAGES,
) -> list[MediaSummary]:
    """The account's media (or live stories), newest first, paging back until a page reaches
    media older than ``not_before`` - a media published since then is among them even when a burst
    of later posts pushed it out of the first page. Bounded by ``max_pages``; stops at the end of
    the listing or at a cursor Meta already returned."""
    edge = "stories" if story else "media"
    found: list[MediaSummary] = []
    after: str | None = None
    seen: set[str] = set()
    for _ in range(max(1, max_pages)):
        params: dict[str, Any] = {"fields": "id,caption,timestamp,media_product_type,permalink",
                                  "limit": MEDIA_LOOKUP_PAGE}
        if after:
            params["after"] = after
        body = await graph.get(access.url(f"{access.ig_user_id}/{edge}"), token=access.token,
                               account_id=access.ig_user_id, **params)
        page = [MediaSummary.model_validate(item) for item in body.get("data", [])]
        found.extend(page)
        times = [t for m in page if (t := parse_timestamp(m.timestamp)) is not None]
        paging = body.get("paging") or {}
        after = (paging.get("cursors") or {}).get("after")
        if not page or not paging.get("next") or not after or after in seen:
            break
        if times and min(times) < not_before:
            break
        seen.add(after)
    return found


def parse_timestamp(value: str | None) -> datetime | None:
    """Meta's ``2021-08-13T08:25:28+0000``."""
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def matching_media(
    candidates: list[MediaSummary], *, caption: str, product_type: str, not_before: datetime,
    claimed: set[str],
) -> MediaSummary | None:
    """The one media that is this post, or None when zero or several could be (never a guess)."""
    skew = CLOCK_SKEW
    found = [
        m for m in candidates
        if (m.caption or "") == caption
        and (m.media_product_type or product_type) == product_type
        and (ts := parse_timestamp(m.timestamp)) is not None and ts >= not_before - skew
        and m.id not in claimed
    ]
    return found[0] if len(found) == 1 else None


PRODUCT_TYPE = {"image": "FEED", "carousel": "FEED", "reel": "REELS", "story": "STORY"}
