"""Time series for growth charts: ``GET /v1/accounts/{id}/metrics?name=&since=&until=&interval=``."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel

from socialsync.store import metrics as metrics_store
from webhooks.errors import ApiError
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, json_body, path_param, query_param
from webhooks.routes.sync import account_of

routes = web.RouteTableDef()
NAMES = (
    "followers_count", "follows_count", "media_count", "reach", "follower_count", "views", "accounts_engaged",
    "total_interactions", "likes", "comments", "saves", "shares", "replies", "follows_and_unfollows",
    "profile_links_taps",
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


def _when(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ApiError(400, f"invalid_{name}", f"{name} must be an ISO 8601 date or time.") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@routes.get("/v1/accounts/{account_id}/metrics")
async def metric_series(request: web.Request) -> web.Response:
    account = await account_of(request)
    name = request.query.get("name", "")
    if name not in NAMES:
        raise ApiError(400, "invalid_metric", f"name must be one of {', '.join(NAMES)}.")
    interval = request.query.get("interval", "day")
    if interval not in ("day", "raw"):
        raise ApiError(400, "invalid_interval", "interval must be day or raw.")
    since, until = _when(request, "since"), _when(request, "until")
    if cursor := request.query.get("cursor"):
        try:
            since = datetime.fromisoformat(cursor)
        except ValueError:
            raise ApiError(400, "invalid_cursor", "cursor is not one this API returned.") from None
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
    next_cursor = None
    if len(points) > MAX_POINTS:
        points = points[:MAX_POINTS]
        next_cursor = points[-1].ts.isoformat()
    out = MetricSeries(name=name, interval=interval, data=points, next_cursor=next_cursor)
    return web.json_response(out.model_dump(mode="json"))


OPENAPI_MODELS = (MetricSeries,)
OPENAPI_PATHS = {
    "/v1/accounts/{account_id}/metrics": {
        "get": {
            "summary": "A metric's time series (follower history, daily insights)",
            "parameters": [
                path_param("account_id"),
                query_param("name", {"type": "string", "enum": list(NAMES)}, "The metric."),
                query_param("since", description="ISO 8601, inclusive"),
                query_param("until", description="ISO 8601, exclusive"),
                query_param("interval", {"type": "string", "enum": ["day", "raw"]}, "day (default): last value per day"),
                query_param("cursor", description="`next_cursor` of the previous page."),
            ],
            "responses": {"200": json_body(MetricSeries, "The series"), **NOT_FOUND, **ERRORS},
        }
    },
}
