"""Graph API reads of media, insights, demographics and stories (PLATFORM_FACTS.md §2).

- ``GET /{ig-user-id}/media`` — cursor paged, newest first; ``fields`` with ``children{…}`` and
  ``insights.metric(…)`` expansion. One expansion request is one call, but a page heavier than
  ``ReadSettings.max_page_weight`` answers code 1 ("reduce the amount of data"); one item that
  cannot answer an expanded metric fails the whole page with that item's error; a host listed in
  ``expansion_disabled_hosts`` rejects ``insights`` as a field (code 100).
- ``GET /{media-id}`` and ``GET /{media-id}/insights?metric=…`` — metrics by product type:
  unsupported or deprecated → 100; before business conversion → 100/2108006; story with < 5
  viewers → 10; no data yet → empty ``data``. Carousel children have no insights.
- ``GET /{ig-user-id}/insights`` — account insights (``metric_type=total_value`` where Meta
  requires it) and demographics (≥ 100 followers), ``GET /{ig-user-id}/stories`` (live ones).
- graph.facebook.com only: ``GET /?ids=a,b`` (each id is one call) and ``POST /?batch=[…]``
  (≤ 50; each sub-request is one call).
Every call about an account is charged to its Business Use Case budget.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from sandbox.access import Caller, authenticate
from sandbox.accounts import InstagramAccount
from sandbox.context import Sandbox, charge_ig_account, sandbox_of
from sandbox.errors import GraphError, invalid_parameter, unsupported_request
from sandbox.fields import FieldRequest, nonexisting_field, parse_fields
from sandbox.hosts import FACEBOOK_GRAPH, GRAPH_HOSTS, INSTAGRAM_GRAPH, VERSION, host_of
from sandbox.media import Media
from sandbox.routes import graph
from sandbox.routes.control import control_error, parse_body
from sandbox.seed_media import MediaMix, seed_account_media
from sandbox.usage import BUC_SUBJECT

routes = web.RouteTableDef()

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
def _owner_account(sandbox: Sandbox, caller: Caller, ig_user_id: str) -> InstagramAccount | None:
    """The IG account ``ig_user_id`` if this caller may read it."""
    if caller.ig_account is not None:
        account = caller.ig_account
        return account if ig_user_id in (account.ig_user_id, account.app_scoped_id) else None
    target = graph.reachable_node(sandbox, caller, ig_user_id)
    return target if isinstance(target, InstagramAccount) else None


def _read_scope(caller: Caller) -> None:
    caller.require_scope("instagram_business_basic" if caller.ig_account is not None else "instagram_basic")


def _insights_scope(caller: Caller) -> None:
    caller.require_scope(
        "instagram_business_manage_insights" if caller.ig_account is not None else "instagram_manage_insights"
    )


def _media_for(sandbox: Sandbox, caller: Caller, media_id: str) -> Media | None:
    media = sandbox.state.media.get(media_id)
    if media is None:
        return None
    return media if _owner_account(sandbox, caller, media.ig_user_id) is not None else None


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


def media_node(request: web.Request, sandbox: Sandbox, media: Media, fields: list[FieldRequest]) -> dict[str, Any]:
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


def _fields(request: web.Request, default: tuple[str, ...] = ("id",)) -> list[FieldRequest]:
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


def _page(request: web.Request, sandbox: Sandbox, items: list[Media]) -> dict[str, Any]:
    reads = sandbox.state.media.reads
    limit = _limit(request, 25, reads.max_page_size)
    start = 0
    if after := request.query.get("after"):
        ids = [m.media_id for m in items]
        after_id = _uncursor(after)
        start = ids.index(after_id) + 1 if after_id in ids else len(ids)
    window = items[start:start + limit]
    fields = _fields(request)
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


# --- routes: media edges and nodes ----------------------------------------------------------------
def _both_hosts(suffix: str) -> list[str]:
    return [f"/{host}/{v}{suffix}" for host in (INSTAGRAM_GRAPH, FACEBOOK_GRAPH) for v in (f"{VERSION}/", "")]


def _account_call(request: web.Request, caller: Caller, node: str) -> InstagramAccount:
    sandbox = sandbox_of(request)
    account = _owner_account(sandbox, caller, node)
    if account is None:
        raise unsupported_request(request.method, node)
    charge_ig_account(request, account.ig_user_id)
    return account


async def list_media(request: web.Request) -> web.Response:
    caller = await authenticate(request, host_of(request.path))
    sandbox = sandbox_of(request)
    node = request.match_info["node"]
    _read_scope(caller)
    account = _account_call(request, caller, node)
    items = sandbox.state.media.of_account(account.ig_user_id, product_types=("FEED", "REELS"))
    return web.json_response(_page(request, sandbox, items))


async def list_stories(request: web.Request) -> web.Response:
    caller = await authenticate(request, host_of(request.path))
    sandbox = sandbox_of(request)
    node = request.match_info["node"]
    _read_scope(caller)
    account = _account_call(request, caller, node)
    now = sandbox.clock.now()
    items = [m for m in sandbox.state.media.of_account(account.ig_user_id, product_types=("STORY",))
             if now - m.timestamp < DAY]
    return web.json_response(_page(request, sandbox, items))


async def node_insights(request: web.Request) -> web.Response:
    caller = await authenticate(request, host_of(request.path))
    sandbox = sandbox_of(request)
    node = request.match_info["node"]
    media = _media_for(sandbox, caller, node)
    if media is not None:
        charge_ig_account(request, media.ig_user_id)
        _insights_scope(caller)
        metrics = [m.strip() for m in request.query.get("metric", "").split(",") if m.strip()]
        if not metrics:
            raise invalid_parameter("(#100) The parameter metric is required")
        check_metrics(media, metrics)
        return web.json_response(insights_body(media, metrics))
    account = _account_call(request, caller, node)
    _insights_scope(caller)
    return web.json_response(account_insights(request, sandbox, account))


async def media_or_node(request: web.Request) -> web.StreamResponse:
    """A media id → the media; anything else → the next route that matches (the user/page node)."""
    sandbox = sandbox_of(request)
    node = request.match_info["node"]
    if sandbox.state.media.by_id.get(node) is None:
        return await fall_through(request)
    caller = await authenticate(request, host_of(request.path))
    media = _media_for(sandbox, caller, node)
    if media is None:
        raise unsupported_request(request.method, node)
    charge_ig_account(request, media.ig_user_id)
    _read_scope(caller)
    return web.json_response(media_node(request, sandbox, media, _fields(request)))


async def fall_through(request: web.Request) -> web.StreamResponse:
    """Answer with the first route registered after this one that matches the request, so that
    several areas can each serve their kind of ``/{id}`` node whatever their module order."""
    mine = request.match_info.route.resource
    passed = False
    for resource in request.app.router.resources():
        if resource is mine:
            passed = True
            continue
        if not passed:
            continue
        match, _allowed = await resource.resolve(request)
        if match is not None:
            match.add_app(request.app)
            # What aiohttp's own dispatch does, plus dropping the cached (reified) match_info.
            request._match_info = match  # noqa: SLF001
            request._cache.pop("match_info", None)  # noqa: SLF001
            return await match.handler(request)
    raise unsupported_request(request.method, request.match_info.get("node", ""))


for _path in _both_hosts("{node:\\d+}/media"):
    routes.get(_path)(list_media)
for _path in _both_hosts("{node:\\d+}/stories"):
    routes.get(_path)(list_stories)
for _path in _both_hosts("{node:\\d+}/insights"):
    routes.get(_path)(node_insights)
for _path in _both_hosts("{node:\\d+}"):
    routes.get(_path)(media_or_node)


# --- account insights and demographics ------------------------------------------------------------
def _value(*parts: object, low: int = 0, high: int = 1000) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


def _day_start(ts: float) -> float:
    return ts - ts % DAY


def account_insights(request: web.Request, sandbox: Sandbox, account: InstagramAccount) -> dict[str, Any]:
    metrics = [m.strip() for m in request.query.get("metric", "").split(",") if m.strip()]
    if not metrics:
        raise invalid_parameter("(#100) The parameter metric is required")
    period = request.query.get("period", "")
    metric_type = request.query.get("metric_type", "")
    if any(m in DEMOGRAPHIC_METRICS for m in metrics):
        return _demographics(request, account, metrics, period, metric_type)
    now = sandbox.clock.now()
    until = _int_query(request, "until", int(_day_start(now)))
    since = _int_query(request, "since", int(until - DAY))
    if until - since > MAX_INSIGHT_DAYS * DAY or since >= until:
        raise invalid_parameter("(#100) There cannot be more than 30 days (2592000 s) between since and until")
    if since < now - 90 * DAY:
        raise invalid_parameter("(#100) Insights are kept for 90 days: since is too early")
    data = []
    for metric in metrics:
        if metric in DEPRECATED_METRICS:
            raise invalid_parameter(f"(#100) metric[{metric}] is no longer supported for the current API version")
        if metric == "online_followers":
            if period != "lifetime":
                raise invalid_parameter("(#100) online_followers supports period lifetime only")
            _need_followers(account)
            data.append({"name": metric, "period": "lifetime", "values": [
                {"value": {str(h): _value(account.ig_user_id, "online", h) for h in range(24)}}]})
            continue
        if period != "day":
            raise invalid_parameter(f"(#100) {metric} supports period day only")
        if metric_type == "total_value":
            if metric not in ACCOUNT_TOTAL_METRICS:
                raise invalid_parameter(f"(#100) {metric} does not support metric_type=total_value")
            total = sum(_value(account.ig_user_id, metric, d) for d in range(int(since // DAY), int(until // DAY)))
            data.append({"name": metric, "period": "day", "total_value": {"value": total},
                         "title": metric, "id": f"{account.ig_user_id}/insights/{metric}/day"})
            continue
        if metric not in ACCOUNT_SERIES_METRICS:
            raise invalid_parameter(f"(#100) {metric} requires metric_type=total_value")
        if metric == "follower_count":
            _need_followers(account)
        values = [
            {"value": _value(account.ig_user_id, metric, d, high=300 if metric == "follower_count" else 5000),
             "end_time": datetime.fromtimestamp((d + 1) * DAY, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")}
            for d in range(int(since // DAY), int(until // DAY))
        ]
        data.append({"name": metric, "period": "day", "values": values, "title": metric,
                     "id": f"{account.ig_user_id}/insights/{metric}/day"})
    return {"data": data}


def _need_followers(account: InstagramAccount) -> None:
    if account.followers_count < 100:
        raise GraphError(10, "(#10) Not enough followers: this metric needs at least 100 followers")


def _demographics(
    request: web.Request, account: InstagramAccount, metrics: list[str], period: str, metric_type: str
) -> dict[str, Any]:
    if any(m not in DEMOGRAPHIC_METRICS for m in metrics):
        raise invalid_parameter("(#100) demographic metrics cannot be combined with other metrics")
    if period != "lifetime" or metric_type != "total_value":
        raise invalid_parameter("(#100) demographics need period=lifetime and metric_type=total_value")
    breakdown = request.query.get("breakdown", "")
    if breakdown not in BREAKDOWNS:
        raise invalid_parameter("(#100) breakdown must be one of age, city, country, gender")
    timeframe = request.query.get("timeframe", "")
    if timeframe not in ("this_week", "this_month"):
        raise invalid_parameter("(#100) timeframe must be this_week or this_month")
    _need_followers(account)
    data = []
    for metric in metrics:
        results = [{"dimension_values": [key], "value": _value(account.ig_user_id, metric, timeframe, key, high=5000)}
                   for key in BREAKDOWNS[breakdown]]
        data.append({"name": metric, "period": "lifetime", "title": metric,
                     "total_value": {"breakdowns": [{"dimension_keys": [breakdown], "results": results}]},
                     "id": f"{account.ig_user_id}/insights/{metric}/lifetime"})
    return {"data": data}


def _int_query(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_parameter(f"(#100) Param {name} must be a UNIX timestamp") from None


# --- graph.facebook.com: multi-id lookups and batches ----------------------------------------------
def _count_extra(request: web.Request, sandbox: Sandbox, endpoint: str, account: str | None) -> None:
    """One more call as Meta counts them (a multi-id id beyond the first)."""
    stats = sandbox.stats
    stats.total += 1
    stats.by_endpoint[f"{request.method} {endpoint}"] += 1
    if account is not None:
        stats.by_account[account] += 1


@routes.get(f"/{FACEBOOK_GRAPH}/{VERSION}/")
@routes.get(f"/{FACEBOOK_GRAPH}/{VERSION}")
@routes.get(f"/{FACEBOOK_GRAPH}/")
async def multi_id(request: web.Request) -> web.Response:
    """``GET /?ids=a,b&fields=…`` → ``{a: {...}, b: {...}}``; each id is one call."""
    caller = await authenticate(request, FACEBOOK_GRAPH)
    sandbox = sandbox_of(request)
    ids = [i.strip() for i in request.query.get("ids", "").split(",") if i.strip()]
    if not ids:
        raise invalid_parameter("(#100) The parameter ids is required")
    if len(ids) > 50:
        raise invalid_parameter("(#100) Too many IDs. Maximum: 50")
    _read_scope(caller)
    fields = _fields(request)
    endpoint = request.match_info.route.resource.canonical if request.match_info.route.resource else ""
    body: dict[str, Any] = {}
    for index, node in enumerate(ids):
        if index > 0:
            sandbox.usage.charge_app()
        media = _media_for(sandbox, caller, node)
        if media is not None:
            owner = media.ig_user_id
            if index > 0:
                _count_extra(request, sandbox, endpoint, owner)
            sandbox.usage.charge_account(owner)
            request[BUC_SUBJECT] = owner
            body[node] = media_node(request, sandbox, media, fields)
            continue
        account = _owner_account(sandbox, caller, node)
        if account is None:
            raise unsupported_request(request.method, node)
        if index > 0:
            _count_extra(request, sandbox, endpoint, account.ig_user_id)
        sandbox.usage.charge_account(account.ig_user_id)
        request[BUC_SUBJECT] = account.ig_user_id
        body[node] = graph.ig_user_node(
            request, account, [f for f in fields if f.name in graph.FB_IG_USER_FIELDS] or [FieldRequest("id")],
            node_id=node,
        )
    return web.json_response(body)


@routes.post(f"/{FACEBOOK_GRAPH}/{VERSION}/")
@routes.post(f"/{FACEBOOK_GRAPH}/{VERSION}")
@routes.post(f"/{FACEBOOK_GRAPH}/")
async def batch(request: web.Request) -> web.Response:
    """``POST /?batch=[{method, relative_url}…]`` (≤ 50): each sub-request is one call, answered
    in order as ``{code, headers, body}`` (body a JSON string), errors included. Sub-requests
    are GETs (reads), dispatched in-process through the same routes."""
    template = request.clone()  # before the body is read: sub-requests are cloned from it
    form = await request.post() if request.content_type == "application/x-www-form-urlencoded" else {}
    raw = request.query.get("batch") or form.get("batch")
    await authenticate(request, FACEBOOK_GRAPH)  # the batch's own token must be valid
    token = request.query.get("access_token") or form.get("access_token")
    try:
        subs = json.loads(str(raw)) if raw else None
    except json.JSONDecodeError:
        subs = None
    if not isinstance(subs, list) or not subs:
        raise invalid_parameter("(#100) The parameter batch must be a JSON array")
    if len(subs) > MAX_BATCH:
        raise invalid_parameter(f"(#100) Too many requests in batch message. Maximum batch size: {MAX_BATCH}")
    sandbox = sandbox_of(request)
    out = []
    for index, sub in enumerate(subs):
        if not isinstance(sub, dict) or "relative_url" not in sub:
            raise invalid_parameter("(#100) Each batch item needs method and relative_url")
        out.append(await _run_sub(template, sandbox, sub, token, charge_app=index > 0))
    return web.json_response(out)


async def _run_sub(
    request: web.Request, sandbox: Sandbox, sub: dict[str, Any], token: object, *, charge_app: bool
) -> dict[str, Any]:
    method = str(sub.get("method", "GET")).upper()
    if method != "GET":
        raise invalid_parameter("(#100) The sandbox batches GET sub-requests only")
    relative = str(sub["relative_url"]).lstrip("/")
    url = f"/{FACEBOOK_GRAPH}/{relative}"
    if token and "access_token=" not in relative:
        url += ("&" if "?" in url else "?") + f"access_token={token}"
    clone = request.clone(method=method, rel_url=url)
    headers: list[dict[str, str]] = []
    try:
        if charge_app:
            sandbox.usage.charge_app()
        match = await request.app.router.resolve(clone)
        match.add_app(request.app)
        clone._match_info = match  # noqa: SLF001 - what aiohttp's own dispatch does
        if match.http_exception is not None:
            raise unsupported_request(method, relative.split("?")[0].rsplit("/", 1)[-1])
        response = await match.handler(clone)
        status, text = response.status, response.text or ""
    except GraphError as exc:
        response = exc.response()
        status, text = exc.status, response.text or ""
    subject = clone.get(BUC_SUBJECT)
    if subject is not None:
        headers.append({"name": "X-Business-Use-Case-Usage",
                        "value": json.dumps({subject: [sandbox.usage.account_usage(subject)]}, separators=(",", ":"))})
    sandbox.stats.record(clone, status)
    return {"code": status, "headers": headers, "body": text}


# --- control: seeding and read settings --------------------------------------------------------------
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
    loop_cursor: bool | None = None


@routes.post("/_sandbox/media/seed")
async def seed_media(request: web.Request) -> web.Response:
    """Add deterministic media to an account (the realistic mix); answers the ids added."""
    sandbox = sandbox_of(request)
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
    sandbox = sandbox_of(request)
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
    if not sandbox_of(request).state.media.delete(request.match_info["media_id"]):
        raise control_error(404, "not_found", "no such media")
    return web.json_response({"ok": True})


@routes.post("/_sandbox/media/settings")
async def read_settings(request: web.Request) -> web.Response:
    reads = sandbox_of(request).state.media.reads
    body = await parse_body(request, ReadSettingsBody)
    if body.expansion_disabled_hosts is not None:
        unknown = set(body.expansion_disabled_hosts) - GRAPH_HOSTS
        if unknown:
            raise control_error(400, "invalid_body", f"not a Graph host: {sorted(unknown)}")
        reads.expansion_disabled_hosts = set(body.expansion_disabled_hosts)
    for name in ("max_page_weight", "max_page_size", "loop_cursor"):
        if (value := getattr(body, name)) is not None:
            setattr(reads, name, value)
    return web.json_response({
        "expansion_disabled_hosts": sorted(reads.expansion_disabled_hosts),
        "max_page_weight": reads.max_page_weight, "max_page_size": reads.max_page_size,
        "loop_cursor": reads.loop_cursor,
    })
