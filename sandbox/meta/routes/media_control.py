"""Meta's media control routes: seed media, list what a sync should store, delete a post,
and change how the read side answers (``/_sandbox/media/...``)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from sandbox.control_api import control_error, parse_body
from sandbox.meta.hosts import GRAPH_HOSTS
from sandbox.meta.seed_media import MediaMix, seed_account_media
from sandbox.meta.world import meta_of

routes = web.RouteTableDef()


class SeedMediaBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str = Field(description="IG user id or username")
    count: int = Field(default=20, ge=0, le=20000)
    images: float = Field(default=0.40, ge=0, le=1)
    carousels: float = Field(default=0.20, ge=0, le=1)
    reels: float = Field(default=0.35, ge=0, le=1)
    before_conversion: float = Field(default=0.05, ge=0, le=1)
    children: int = Field(default=3, ge=2, le=10)
    stories: int = Field(default=0, ge=0, le=100)
    quiet_stories: int = Field(default=0, ge=0, le=100)
    spacing_hours: float = Field(default=26.0, gt=0)
    newest_age_hours: float = Field(default=1.0, ge=0)


class ReadSettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expansion_disabled_hosts: list[str] | None = None
    max_page_weight: int | None = Field(default=None, ge=1)
    max_page_size: int | None = Field(default=None, ge=1, le=1000)
    stories_page_size: int | None = Field(default=None, ge=1, le=1000)
    loop_cursor: bool | None = None


@routes.post("/_sandbox/media/seed")
async def seed_media(request: web.Request) -> web.Response:
    """Add deterministic media to an account (the realistic mix); answers the ids added."""
    sandbox = meta_of(request)
    body = await parse_body(request, SeedMediaBody)
    account = sandbox.state.find_ig_account(body.account)
    if account is None:
        raise control_error(404, "not_found", f"no Instagram account {body.account!r}")
    mix = MediaMix(**body.model_dump(exclude={"account"}))
    added = seed_account_media(sandbox.state.media, account.ig_user_id, account.username, sandbox.clock.now(), mix)
    account.media_count = len(sandbox.state.media.of_account(account.ig_user_id, product_types=("FEED", "REELS")))
    return web.json_response({"ig_user_id": account.ig_user_id, "media": [m.media_id for m in added]}, status=201)


@routes.get("/_sandbox/media")
async def list_seeded(request: web.Request) -> web.Response:
    """Every top-level media of an account, with its insight values (what a sync should store)."""
    sandbox = meta_of(request)
    account = sandbox.state.find_ig_account(request.query.get("account", ""))
    if account is None:
        raise control_error(404, "not_found", "no such Instagram account")
    items = sandbox.state.media.of_account(account.ig_user_id)
    return web.json_response({"media": [
        {"id": m.media_id, "media_type": m.media_type, "media_product_type": m.media_product_type,
         "timestamp": sandbox.clock.iso(m.timestamp), "children": m.children, "like_count": m.like_count,
         "comments_count": m.comments_count, "insights": m.insights,
         "before_business_conversion": m.before_business_conversion, "story_viewers": m.story_viewers}
        for m in items]})


@routes.delete("/_sandbox/media/{media_id}")
async def delete_media(request: web.Request) -> web.Response:
    """The owner deletes a post on Instagram."""
    if not meta_of(request).state.media.delete(request.match_info["media_id"]):
        raise control_error(404, "not_found", "no such media")
    return web.json_response({"ok": True})


@routes.post("/_sandbox/media/settings")
async def read_settings(request: web.Request) -> web.Response:
    reads = meta_of(request).state.media.reads
    body = await parse_body(request, ReadSettingsBody)
    if body.expansion_disabled_hosts is not None:
        unknown = set(body.expansion_disabled_hosts) - GRAPH_HOSTS
        if unknown:
            raise control_error(400, "invalid_body", f"not a Graph host: {sorted(unknown)}")
        reads.expansion_disabled_hosts = set(body.expansion_disabled_hosts)
    for name in ("max_page_weight", "max_page_size", "stories_page_size", "loop_cursor"):
        if (value := getattr(body, name)) is not None:
            setattr(reads, name, value)
    return web.json_response({
        "expansion_disabled_hosts": sorted(reads.expansion_disabled_hosts),
        "max_page_weight": reads.max_page_weight, "max_page_size": reads.max_page_size,
        "stories_page_size": reads.stories_page_size, "loop_cursor": reads.loop_cursor,
    })
