"""``youtubeanalytics.googleapis.com/v2/reports`` (reports.query) for ``ids=channel==MINE``.

Columns are the dimensions in request order, then the metrics in request order. Days newer than
the processing lag (3 days by default: data arrives 48-72 h late) have no data; when nothing is
left ``rows`` is omitted entirely. Unsupported combinations answer 400 "The query is not
supported.". Needs ``yt-analytics.readonly`` *and* ``youtube.readonly``. Figures are
deterministic per channel and day, so tests can compare runs.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiohttp import web

from sandbox.youtube.access import authorize, channel_of, int_param, require, yt_of
from sandbox.youtube.errors import GoogleError, bad_request, insufficient_scope
from sandbox.youtube.state import ANALYTICS, READONLY, YOUTUBE

routes = web.RouteTableDef()
TIME_METRICS = ("views", "estimatedMinutesWatched", "averageViewDuration", "averageViewPercentage",
                "subscribersGained", "subscribersLost", "likes", "comments", "shares", "engagedViews")
FLOAT_METRICS = {"averageViewPercentage", "viewerPercentage"}
DEMOGRAPHIC_DIMENSIONS = ({"ageGroup", "gender"}, {"ageGroup"}, {"gender"})
AGE_GROUPS = ("age13-17", "age18-24", "age25-34", "age35-44", "age45-54", "age55-64", "age65-")
AGE_SHARE = (4.0, 22.0, 31.0, 20.0, 12.0, 7.0, 4.0)
GENDER_SHARE = {"female": 43.0, "male": 55.0, "user_specified": 2.0}
COUNTRIES = {"US": 0.41, "IN": 0.17, "GB": 0.09, "DE": 0.07, "BR": 0.06, "CA": 0.05}


def _unsupported() -> GoogleError:
    return bad_request("badRequest", "The query is not supported.")


def _day(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request("invalid", f"Invalid value for {name}: {raw}") from None


def _noise(channel_id: str, key: str, low: int, high: int) -> int:
    digest = hashlib.sha256(f"{channel_id}:{key}".encode()).digest()
    return low + int.from_bytes(digest[:4]) % (high - low + 1)


def day_metrics(channel_id: str, day: date) -> dict[str, float]:
    key = day.isoformat()
    views = _noise(channel_id, key, 200, 2000)
    avg = _noise(channel_id, key + "avd", 30, 240)
    return {
        "views": views,
        "estimatedMinutesWatched": views * avg // 60,
        "averageViewDuration": avg,
        "averageViewPercentage": round(_noise(channel_id, key + "avp", 2000, 7000) / 100, 2),
        "subscribersGained": _noise(channel_id, key + "sg", 0, 40),
        "subscribersLost": _noise(channel_id, key + "sl", 0, 8),
        "likes": views // 20,
        "comments": views // 200,
        "shares": views // 150,
        "engagedViews": views * 3 // 4,
    }


@routes.get("/v2/reports")
async def reports(request: web.Request) -> web.Response:
    grant, account = authorize(request)
    if YOUTUBE not in grant.scopes and not {ANALYTICS, READONLY} <= set(grant.scopes):
        raise insufficient_scope()
    yt = yt_of(request)
    channel_id = channel_of(account)
    if require(request, "ids") not in ("channel==MINE", f"channel=={channel_id}"):
        raise GoogleError(403, "forbidden", "Forbidden")
    start = _day(require(request, "startDate"), "startDate")
    end = _day(require(request, "endDate"), "endDate")
    if end < start:
        raise bad_request("invalid", "endDate must not be before startDate.")
    metrics = [m for m in require(request, "metrics").split(",") if m]
    dimensions = [d for d in request.query.get("dimensions", "").split(",") if d]
    filters = request.query.get("filters", "")
    max_results = int_param(request, "maxResults", 0, 0, 10000)
    start_index = int_param(request, "startIndex", 1, 1, 10**6)
    dims = set(dimensions)
    if dims in DEMOGRAPHIC_DIMENSIONS:
        if metrics != ["viewerPercentage"]:
            raise _unsupported()
    elif dims <= {"day", "country", "video"} and len(dims) <= 1:
        if not metrics or any(m not in TIME_METRICS for m in metrics):
            raise _unsupported()
        if dims == {"video"} and not 1 <= max_results <= 200:
            raise _unsupported()
    else:
        raise _unsupported()
    video_filter: set[str] | None = None
    if filters:
        if not filters.startswith("video=="):
            raise _unsupported()
        video_filter = set(filters[len("video=="):].split(","))

    today = datetime.fromtimestamp(yt.clock.now(), UTC).date()
    last_available = today - timedelta(days=yt.app.analytics_lag_days)
    first_available = datetime.fromtimestamp(yt.channels[channel_id].published_at, UTC).date()
    days = []
    day = max(start, first_available)
    while day <= min(end, last_available):
        days.append(day)
        day += timedelta(days=1)
    videos = [v for v in yt.videos_of(channel_id) if video_filter is None or v.video_id in video_filter]
    share = 1.0 if video_filter is None else min(1.0, len(videos) / max(1, len(yt.videos_of(channel_id))))

    rows: list[list[Any]] = []
    if days and videos:
        if dims == {"day"}:
            for d in days:
                values = day_metrics(channel_id, d)
                rows.append([d.isoformat()] + [_scaled(values[m], m, share) for m in metrics])
        elif dims in DEMOGRAPHIC_DIMENSIONS:
            rows = _demographics(dimensions)
        else:
            totals = _totals(channel_id, days)
            if not dims:
                rows.append([_scaled(totals[m], m, share) for m in metrics])
            elif dims == {"country"}:
                for country, part in COUNTRIES.items():
                    rows.append([country] + [_scaled(totals[m], m, share * part) for m in metrics])
            else:  # video
                for i, video in enumerate(videos):
                    part = 1 / (i + 2) ** 1.1
                    rows.append([video.video_id] + [_scaled(totals[m], m, part) for m in metrics])
    sort = request.query.get("sort", "")
    columns = dimensions + metrics
    for key in reversed([k for k in sort.split(",") if k]):  # stable: last key first
        name = key.lstrip("-")
        if name not in columns:
            raise _unsupported()
        index = columns.index(name)
        rows.sort(key=lambda r, i=index: r[i], reverse=key.startswith("-"))
    rows = rows[start_index - 1:]
    if max_results:
        rows = rows[:max_results]
    headers = [{"name": d, "columnType": "DIMENSION", "dataType": "STRING"} for d in dimensions]
    headers += [{"name": m, "columnType": "METRIC",
                 "dataType": "FLOAT" if m in FLOAT_METRICS else "INTEGER"} for m in metrics]
    body: dict[str, Any] = {"kind": "youtubeAnalytics#resultTable", "columnHeaders": headers}
    if rows:
        body["rows"] = rows
    return web.json_response(body)


def _scaled(value: float, metric: str, share: float) -> float | int:
    if metric in ("averageViewDuration", "averageViewPercentage"):
        return value
    return int(value * share)


def _totals(channel_id: str, days: list[date]) -> dict[str, float]:
    per_day = [day_metrics(channel_id, d) for d in days]
    totals: dict[str, float] = {m: sum(p[m] for p in per_day) for m in TIME_METRICS}
    totals["averageViewDuration"] = int(sum(p["averageViewDuration"] for p in per_day) / len(per_day))
    totals["averageViewPercentage"] = round(sum(p["averageViewPercentage"] for p in per_day) / len(per_day), 2)
    return totals


def _demographics(dimensions: list[str]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for age, age_share in zip(AGE_GROUPS, AGE_SHARE, strict=True):
        for gender, gender_share in GENDER_SHARE.items():
            cells = {"ageGroup": age, "gender": gender}
            if dimensions == ["ageGroup"] or dimensions == ["gender"]:
                continue
            rows.append([cells[d] for d in dimensions] + [round(age_share * gender_share / 100, 2)])
    if dimensions == ["ageGroup"]:
        rows = [[age, share] for age, share in zip(AGE_GROUPS, AGE_SHARE, strict=True)]
    elif dimensions == ["gender"]:
        rows = [[g, s] for g, s in GENDER_SHARE.items()]
    return rows
