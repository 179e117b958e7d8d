"""Reading media from the Graph API: the /media and /stories edges, one item's insights.

Every call names the IG account (``account_id``) so the governor sees it; pages are parsed into
pydantic models at this boundary.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from socialsync.platforms.instagram import insights
from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.client import GraphClient

BASE_FIELDS = (
    "id,caption,media_type,media_product_type,media_url,thumbnail_url,permalink,shortcode,timestamp,"
    "like_count,comments_count"
)
CHILDREN_FIELDS = "children{id,media_type,media_url,thumbnail_url}"


def media_fields(expand_metrics: tuple[str, ...] | None) -> str:
    fields = f"{BASE_FIELDS},{CHILDREN_FIELDS}"
    if expand_metrics:
        fields += f",insights.metric({','.join(expand_metrics)})"
    return fields


def parse_timestamp(value: Any) -> Any:
    # Meta writes "+0000" (no colon); Python 3.11 reads it.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class Child(BaseModel):
    id: str
    media_type: str | None = None
    media_url: str | None = None
    thumbnail_url: str | None = None


class MediaItem(BaseModel):
    id: str
    caption: str | None = None
    media_type: str
    media_product_type: str | None = None
    media_url: str | None = None
    thumbnail_url: str | None = None
    permalink: str | None = None
    shortcode: str | None = None
    timestamp: datetime
    like_count: int | None = None
    comments_count: int | None = None
    children: list[Child] = Field(default_factory=list)
    insights: dict[str, float | int] | None = None  # None: not asked; {}: no data yet

    _ts = field_validator("timestamp", mode="before")(parse_timestamp)

    @field_validator("children", mode="before")
    @classmethod
    def _children(cls, value: Any) -> Any:
        return (value or {}).get("data", []) if isinstance(value, dict) else value or []

    @field_validator("insights", mode="before")
    @classmethod
    def _insights(cls, value: Any) -> Any:
        return insights.parse(value) if isinstance(value, dict) else value


class MediaPage(BaseModel):
    items: list[MediaItem]
    after: str | None = None
    has_next: bool = False


async def read_page(
    graph: GraphClient, access: AccountAccess, *, edge: str = "media", after: str | None, limit: int,
    expand_metrics: tuple[str, ...] | None,
) -> MediaPage:
    params: dict[str, Any] = {"fields": media_fields(expand_metrics), "limit": limit}
    if after:
        params["after"] = after
    body = await graph.get(
        access.url(f"{access.ig_user_id}/{edge}"), token=access.token, account_id=access.ig_user_id, **params
    )
    paging = body.get("paging") or {}
    return MediaPage(
        items=[MediaItem.model_validate(item) for item in body.get("data") or []],
        after=(paging.get("cursors") or {}).get("after"),
        has_next=bool(paging.get("next")),
    )


async def read_insights(
    graph: GraphClient, access: AccountAccess, media_id: str, metrics: tuple[str, ...]
) -> dict[str, float | int]:
    """One media's insights ({} when Meta has no data yet). Raises GraphError per item."""
    body = await graph.get(
        access.url(f"{media_id}/insights"), token=access.token, account_id=access.ig_user_id,
        metric=",".join(metrics),
    )
    return insights.parse(body)
