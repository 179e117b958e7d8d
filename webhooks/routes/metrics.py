"""Time series for growth charts: ``GET /v1/accounts/{id}/metrics?name=&since=&until=&interval=``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync.store import metrics as metrics_store
from webhooks.cursors import next_cursor, open_cursor
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, json_body, parameters, path_param
from webhooks.params import Cursor, DateTime, QueryModel, parse_query
from webhooks.routes.sync import account_of

routes = web.RouteTableDef()
NAMES = (
    "followers_count", "follows_count", "media_count", "reach", "follower_count", "views", "accounts_engaged",
    "total_interactions", "likes", "comments", "saves", "shares", "replies", "follows_and_unfollows",
    "profile_links_taps",
    # YouTube (channel analytics by day; channel_views = the channel's lifetime view count)
    "estimatedMinutesWatched", "averageViewDuration", "subscribersGained", "subscribersLost", "engagedViews",
    "channel_views",
)
MAX_POINTS = 1000


class Point(BaseModel):
    ts: datetime
    value: float


class MetricSeries(BaseModel):
    name: str
    interval: str
    data: list[Point]
    next_cursor: str | None = None


MetricName = Literal[NAMES]  # type: ignore[valid-type]


class MetricQuery(QueryModel):
    name: MetricName = Field(description="The metric.", json_schema_extra={"x-error-code": "invalid_metric"})
    since: DateTime | None = Field(default=None, description="ISO 8601, inclusive (naive = UTC)")
    until: DateTime | None = Field(default=None, description="ISO 8601, exclusive (naive = UTC)")
    interval: Literal["day", "raw"] = Field(default="day", description="day (default): last value per day")
    cursor: Cursor | None = None


@routes.get("/v1/accounts/{account_id}/metrics")
async def metric_series(request: web.Request) -> web.Response:
    account = await account_of(request)
    q = parse_query(request, MetricQuery)
    name, interval, since, until = q.name, q.interval, q.since, q.until
    scope = f"metrics:{account['_id']}:{name}:{interval}"
    cursor = open_cursor(request, scope, q.cursor, datetime.fromisoformat)
    if cursor is not None:
        since = cursor
    docs = await metrics_store.series(request.app[SERVICES].store, account["_id"], name, since=since, until=until,
                                      limit=MAX_POINTS * 30)
    points: list[Point] = []
    if interval == "raw":
        points = [Point(ts=d["ts"], value=d["value"]) for d in docs]
    else:  # the last value of each UTC day (gauges like followers_count), stamped at midnight
        by_day: dict[datetime, float] = {}
        for d in docs:
            by_day[d["ts"].astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)] = d["value"]
        points = [Point(ts=day, value=v) for day, v in sorted(by_day.items())]
    if cursor:
        points = [p for p in points if p.ts > since]  # type: ignore[operator]
    following = None
    if len(points) > MAX_POINTS:
        points = points[:MAX_POINTS]
        following = next_cursor(request, scope, points[-1].ts.isoformat())
    out = MetricSeries(name=name, interval=interval, data=points, next_cursor=following)
    return web.json_response(out.model_dump(mode="json"))


OPENAPI_MODELS = (MetricSeries,)
OPENAPI_PATHS = {
    "/v1/accounts/{account_id}/metrics": {
        "get": {
            "summary": "A metric's time series (follower history, daily insights)",
            "parameters": [path_param("account_id"), *parameters(query=MetricQuery)],
            "responses": {"200": json_body(MetricSeries, "The series"), **NOT_FOUND, **ERRORS},
        }
    },
}
