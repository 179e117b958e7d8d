"""The dashboard feed and audience: ``GET /v1/analytics`` (across the tenant's active accounts)
and ``GET /v1/accounts/{id}/audience`` (latest demographics).

Engagement rate (also in README): per post, (likes + comments + saves + shares) / followers
× 100, with saves and shares counted only when Meta reported them; per account, the mean over
its latest ``RECENT_POSTS`` feed posts and reels; across accounts, weighted by followers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync.store import accounts as account_store
from socialsync.store import audience as audience_store
from socialsync.store import media as media_store
from socialsync.store.media import MediaOut
from socialsync.store.migrations import platform_of
from webhooks.auth import tenant_of
from webhooks.keys import SERVICES
from webhooks.cursors import next_cursor, open_cursor
from webhooks.openapi import ERRORS, NOT_FOUND, json_body, parameters, path_param
from webhooks.params import PageQuery, parse_query
from webhooks.routes.sync import account_of

routes = web.RouteTableDef()
RECENT_POSTS = 12


def feed_posts(services: Any) -> tuple[str, ...]:
    """The media product types that are posts, as each platform's spec declares them (Instagram's
    feed posts and reels, TikTok's videos, YouTube's videos and Shorts; a story is not one)."""
    return tuple(dict.fromkeys(t for plugin in services.platforms for t in plugin.spec.post_product_types))


class AccountFigures(BaseModel):
    account_id: str
    platform: str
    username: str | None = None
    followers: int = 0
    posts: int = 0
    engagement_rate: float | None = None
    last_sync: dict[str, Any] | None = None


class Totals(BaseModel):
    accounts: int = 0
    followers: int = 0
    posts: int = 0
    engagement_rate: float | None = None


class Analytics(BaseModel):
    totals: Totals
    by_platform: dict[str, Totals]
    accounts: list[AccountFigures]
    next_cursor: str | None = Field(default=None, description="Pages `accounts`; totals cover all")
    recent_posts: list[MediaOut]
    top_posts: list[MediaOut]


class AudienceSnapshot(BaseModel):
    metric: str
    breakdown: str
    timeframe: str
    taken_at: datetime
    values: dict[str, float]


class Audience(BaseModel):
    account_id: str
    data: list[AudienceSnapshot]


def _figures(account: dict[str, Any], counted: tuple[int, list[float]] | None) -> AccountFigures:
    posts, rates = counted or (0, [])
    profile = account.get("profile") or {}
    return AccountFigures(
        account_id=account["_id"], platform=platform_of(account), username=account.get("username"),
        followers=int(profile.get("followers_count") or 0), posts=posts,
        engagement_rate=round(sum(rates) / len(rates), 4) if rates else None,
        last_sync=account.get("last_sync"),
    )


def _total(figures: list[AccountFigures]) -> Totals:
    rated = [f for f in figures if f.engagement_rate is not None and f.followers]
    weight = sum(f.followers for f in rated)
    return Totals(
        accounts=len(figures), followers=sum(f.followers for f in figures), posts=sum(f.posts for f in figures),
        engagement_rate=round(sum(f.engagement_rate * f.followers for f in rated) / weight, 4) if weight else None,  # type: ignore[operator]
    )


@routes.get("/v1/analytics")
async def analytics(request: web.Request) -> web.Response:
    store = request.app[SERVICES].store
    tenant = tenant_of(request)
    q = parse_query(request, PageQuery)
    paging, limit = f"analytics:{tenant}", q.limit
    after = open_cursor(request, paging, q.cursor)
    accounts = await account_store.active_for_tenant(store, tenant)
    ids = [a["_id"] for a in accounts]
    counted = await media_store.figures_by_account(store, ids, product_types=feed_posts(request.app[SERVICES]), recent=RECENT_POSTS)
    figures = [_figures(a, counted.get(a["_id"])) for a in accounts]
    by_platform: dict[str, list[AccountFigures]] = {}
    for f in figures:
        by_platform.setdefault(f.platform, []).append(f)
    listed = [f for f in figures if not after or f.account_id > after]
    newest, best = await media_store.newest_and_top(store, tenant, ids, product_types=feed_posts(request.app[SERVICES]))
    recent = [MediaOut.from_doc(d) for d in newest]
    top = [MediaOut.from_doc(d) for d in best]
    out = Analytics(
        totals=_total(figures), by_platform={p: _total(fs) for p, fs in by_platform.items()},
        accounts=listed[:limit], next_cursor=next_cursor(request, paging, listed[limit - 1].account_id) if len(listed) > limit else None,
        recent_posts=recent, top_posts=top,
    )
    return web.json_response(out.model_dump(mode="json"))


@routes.get("/v1/accounts/{account_id}/audience")
async def audience(request: web.Request) -> web.Response:
    account = await account_of(request)
    docs = await audience_store.latest(request.app[SERVICES].store, account["_id"])
    out = Audience(account_id=account["_id"], data=[AudienceSnapshot(**d) for d in docs])
    return web.json_response(out.model_dump(mode="json"))


OPENAPI_MODELS = (Analytics, Audience)
OPENAPI_PATHS = {
    "/v1/analytics": {
        "get": {
            "summary": "Dashboard: followers, posts, engagement rate per platform and account; recent and top posts",
            "parameters": parameters(query=PageQuery),
            "responses": {"200": json_body(Analytics, "The dashboard feed"), **ERRORS},
        }
    },
    "/v1/accounts/{account_id}/audience": {
        "get": {
            "summary": "Latest audience demographics (follower and engaged audience by age, gender, country, city)",
            "parameters": [path_param("account_id")],
            "responses": {"200": json_body(Audience, "Latest snapshots"), **NOT_FOUND, **ERRORS},
        }
    },
}
