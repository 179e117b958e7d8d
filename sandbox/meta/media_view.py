"""How Graph renders Instagram media: fields, ``children{…}``, ``insights.metric(…)`` expansion,
cursor pages, and who may read what (PLATFORM_FACTS.md §2).

Metrics by product type: unsupported or deprecated → 100; before business conversion →
100/2108006; story with < 5 viewers → 10; no data yet → empty ``data``. Carousel children have
no insights. A page heavier than ``ReadSettings.max_page_weight`` answers code 1 ("reduce the
amount of data"); one item that cannot answer an expanded metric fails the whole page with that
item's error; a host listed in ``expansion_disabled_hosts`` rejects ``insights`` as a field.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from sandbox.meta.access import Caller
from sandbox.meta.accounts import InstagramAccount
from sandbox.meta.errors import GraphError, invalid_parameter
from sandbox.meta.fields import FieldRequest, nonexisting_field, parse_fields
from sandbox.meta.hosts import host_of
from sandbox.meta.media import Media
from sandbox.meta.routes import graph
from sandbox.meta.world import Meta

DAY = 86400.0
MEDIA_FIELDS = (
    "id", "caption", "media_type", "media_product_type", "media_url", "thumbnail_url", "permalink",
    "shortcode", "timestamp", "like_count", "comments_count", "children", "insights", "username",
    "owner", "is_comment_enabled", "alt_text",
)
CHILD_FIELDS = ("id", "media_type", "media_url", "thumbnail_url", "permalink", "timestamp", "shortcode")
METRICS_BY_PRODUCT = {
    "FEED": ("reach", "views", "likes", "comments", "saved", "shares", "total_interactions", "follows",
             "profile_visits"),
    "REELS": ("reach", "views", "likes", "comments", "saved", "shares", "total_interactions",
              "ig_reels_avg_watch_time", "ig_reels_video_view_total_time"),
    "STORY": ("reach", "views", "replies", "shares", "follows", "profile_visits", "total_interactions",
              "navigation"),
}
DEPRECATED_METRICS = frozenset(
    {"impressions", "plays", "video_views", "clips_replays_count", "ig_reels_aggregated_all_plays_count"}
)
ACCOUNT_SERIES_METRICS = frozenset({"reach", "follower_count"})
ACCOUNT_TOTAL_METRICS = frozenset({
    "views", "reach", "accounts_engaged", "total_interactions", "likes", "comments", "saves", "shares",
    "replies", "follows_and_unfollows", "profile_links_taps",
})
DEMOGRAPHIC_METRICS = frozenset({"follower_demographics", "engaged_audience_demographics"})
BREAKDOWNS = {
    "age": ["13-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+"],
    "gender": ["F", "M", "U"],
    "country": ["US", "GB", "DE", "FR", "BR", "IN", "IT", "ES"],
    "city": ["London, England", "New York, New York", "Berlin, Berlin", "Paris, Ile-de-France",
             "Sao Paulo, Sao Paulo", "Milan, Lombardy"],
}
MAX_BATCH = 50
MAX_INSIGHT_DAYS = 30


# --- who may read what ------------------------------------------------------------------------
def owner_account(sandbox: Meta, caller: Caller, ig_user_id: str) -> InstagramAccount | None:
    """The IG account ``ig_user_id`` if this caller may read it."""
    if caller.ig_account is not None:
        account = caller.ig_account
        return account if ig_user_id in (account.ig_user_id, account.app_scoped_id) else None
    target = graph.reachable_node(sandbox, caller, ig_user_id)
    return target if isinstance(target, InstagramAccount) else None


def read_scope(caller: Caller) -> None:
    caller.require_scope("instagram_business_basic" if caller.ig_account is not None else "instagram_basic")


def insights_scope(caller: Caller) -> None:
    caller.require_scope(
        "instagram_business_manage_insights" if caller.ig_account is not None else "instagram_manage_insights"
    )


def media_for(sandbox: Meta, caller: Caller, media_id: str) -> Media | None:
    media = sandbox.state.media.get(media_id)
    if media is None:
        return None
    return media if owner_account(sandbox, caller, media.ig_user_id) is not None else None


# --- rendering ----------------------------------------------------------------------------------
def _insight_metrics(field: FieldRequest) -> list[str] | None:
    """``insights.metric(a,b)`` → [a, b]; plain ``insights`` → None."""
    rest = field.name.removeprefix("insights")
    if not rest:
        return None
    if not rest.startswith(".metric(") or not rest.endswith(")"):
        raise invalid_parameter(f"(#100) Invalid field expansion: {field.name}")
    return [m.strip() for m in rest[len(".metric("):-1].split(",") if m.strip()]


def check_metrics(media: Media, metrics: list[str]) -> None:
    if media.is_child:
        raise invalid_parameter("(#100) Insights are not available for carousel album children")
    supported = METRICS_BY_PRODUCT[media.media_product_type]
    for metric in metrics:
        if metric in DEPRECATED_METRICS:
            raise invalid_parameter(
                f"(#100) metric[{metric}] is no longer supported for the current API version"
            )
        if metric not in supported:
            raise invalid_parameter(
                f"(#100) The Media Insights API does not support the {metric} metric for this media product type."
            )
    if media.before_business_conversion:
        raise GraphError(
            100, "Invalid parameter", subcode=2108006,
            error_user_title="Media posted before business account conversion",
            error_user_msg="The media was posted before the most recent time that the user's account was "
            "converted to a business account from a personal account.",
        )
    if media.media_product_type == "STORY" and media.story_viewers < 5:
        raise GraphError(10, "(#10) Not enough viewers for the media to show insights")


def insights_body(media: Media, metrics: list[str]) -> dict[str, Any]:
    """``{"data": [...]}``; empty when the platform has no data yet (never zeros)."""
    if not media.insights:
        return {"data": []}
    data = []
    for metric in metrics:
        entry: dict[str, Any] = {
            "name": metric, "period": "lifetime", "values": [{"value": media.insights.get(metric, 0)}],
            "title": metric.replace("_", " ").title(), "id": f"{media.media_id}/insights/{metric}/lifetime",
        }
        if metric == "navigation" and media.story_navigation:
            entry["total_value"] = {"breakdowns": [{"dimension_keys": ["story_navigation_action_type"], "results": [
                {"dimension_values": [k], "value": v} for k, v in media.story_navigation.items()]}]}
        data.append(entry)
    return {"data": data}


def _weight(item_count: int, fields: list[FieldRequest], children: int) -> int:
    metrics = 0
    for f in fields:
        if f.name.startswith("insights"):
            metrics = len(_insight_metrics(f) or METRICS_BY_PRODUCT["FEED"])
    has_children = any(f.name == "children" for f in fields)
    return item_count * (1 + metrics) + (children if has_children else 0)


def media_node(request: web.Request, sandbox: Meta, media: Media, fields: list[FieldRequest]) -> dict[str, Any]:
    """One media object with exactly the requested fields (``id`` always)."""
    host = host_of(request.path)
    body: dict[str, Any] = {}
    account = sandbox.state.ig_accounts.get(media.ig_user_id)
    for field in fields:
        name = field.name
        if name.startswith("insights"):
            if host in sandbox.state.media.reads.expansion_disabled_hosts:
                raise nonexisting_field("insights", "Media")
            metrics = _insight_metrics(field)
            if metrics is None:
                raise invalid_parameter("(#100) insights requires a metric: insights.metric(...)")
            check_metrics(media, metrics)
            body["insights"] = insights_body(media, metrics)
            continue
        if name not in MEDIA_FIELDS:
            raise nonexisting_field(name, "Media")
        if name == "children":
            if media.media_type != "CAROUSEL_ALBUM":
                continue
            subfields = list(field.subfields or ("id",))
            for sub in subfields:
                if sub not in CHILD_FIELDS:
                    raise nonexisting_field(sub, "Media")
            kids = [sandbox.state.media.by_id[c] for c in media.children]
            body["children"] = {"data": [
                media_node(request, sandbox, kid, [FieldRequest(s) for s in subfields]) for kid in kids]}
        elif name == "timestamp":
            body["timestamp"] = sandbox.clock.iso(media.timestamp)
        elif name == "username":
            body["username"] = account.username if account else ""
        elif name == "owner":
            body["owner"] = {"id": media.ig_user_id}
        elif name == "is_comment_enabled":
            body["is_comment_enabled"] = media.comment_enabled
        elif name == "thumbnail_url":
            if media.thumbnail_url:
                body["thumbnail_url"] = media.thumbnail_url
        elif name == "alt_text":
            if media.alt_text:
                body["alt_text"] = media.alt_text
        elif name != "id":
            body[name] = getattr(media, name)
    body["id"] = media.media_id
    return body


def fields_of(request: web.Request, default: tuple[str, ...] = ("id",)) -> list[FieldRequest]:
    raw = request.query.get("fields", "")
    return parse_fields(raw) if raw.strip() else [FieldRequest(n) for n in default]


def _cursor(media_id: str) -> str:
    return base64.urlsafe_b64encode(f"media:{media_id}".encode()).decode().rstrip("=")


def _uncursor(value: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_parameter("(#100) Invalid cursor") from None
    kind, _, media_id = raw.partition(":")
    if kind != "media" or not media_id:
        raise invalid_parameter("(#100) Invalid cursor")
    return media_id


def _limit(request: web.Request, default: int, maximum: int) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return default
    try:
        return max(1, min(maximum, int(raw)))
    except ValueError:
        raise invalid_parameter("(#100) Param limit must be an integer") from None


def media_page(
    request: web.Request, sandbox: Meta, items: list[Media], *, max_size: int | None = None
) -> dict[str, Any]:
    """One cursor page of ``items`` (``limit`` capped at ``max_size``, else ``max_page_size``);
    ``paging.next`` only while more items follow."""
    reads = sandbox.state.media.reads
    limit = _limit(request, 25, max_size or reads.max_page_size)
    start = 0
    if after := request.query.get("after"):
        ids = [m.media_id for m in items]
        after_id = _uncursor(after)
        start = ids.index(after_id) + 1 if after_id in ids else len(ids)
    window = items[start:start + limit]
    fields = fields_of(request)
    children = sum(len(m.children) for m in window)
    if _weight(len(window), fields, children) > reads.max_page_weight:
        raise GraphError(1, "Please reduce the amount of data you're asking for, then retry your request")
    body: dict[str, Any] = {"data": [media_node(request, sandbox, m, fields) for m in window]}
    if window:
        # loop_cursor: the "next" page is this page again (a paging bug clients must survive).
        after_cursor = request.query["after"] if reads.loop_cursor and start > 0 else _cursor(window[-1].media_id)
        paging: dict[str, Any] = {"cursors": {"before": _cursor(window[0].media_id), "after": after_cursor}}
        if start + limit < len(items):
            paging["next"] = str(request.url.update_query(after=after_cursor))
        body["paging"] = paging
    return body

