"""``GET /{ig-user-id}/insights``: account insights (``metric_type=total_value`` where Meta
requires it) and demographics (≥ 100 followers). Values are deterministic per account, metric
and day.

Days are Pacific calendar days, as Meta measures them: a daily value's ``end_time`` is the end
of the measured day, the next midnight in America/Los_Angeles written in UTC
(``2026-11-30T08:00:00+0000`` is the value *of 29 November*). ``since``/``until`` (UNIX seconds)
select the days whose end lies in ``(since, until]``; the default ``until`` is the start of the
current Pacific day.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from sandbox.meta.accounts import InstagramAccount
from sandbox.meta.errors import GraphError, invalid_parameter
from sandbox.meta.media_view import DAY, DEPRECATED_METRICS
from sandbox.meta.world import Meta

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
MAX_INSIGHT_DAYS = 30
PACIFIC = ZoneInfo("America/Los_Angeles")


def _value(*parts: object, low: int = 0, high: int = 1000) -> int:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return low + int.from_bytes(digest[:4], "big") % (high - low + 1)


def _pacific_midnight(day: date) -> float:
    return datetime.combine(day, time(), PACIFIC).timestamp()


def _day_start(ts: float) -> float:
    """Start of the Pacific day holding ``ts``."""
    return _pacific_midnight(datetime.fromtimestamp(ts, PACIFIC).date())


def measured_days(since: float, until: float) -> list[date]:
    """The Pacific days whose end (the next Pacific midnight) lies in ``(since, until]``."""
    day = datetime.fromtimestamp(since, PACIFIC).date() - timedelta(days=1)
    days = []
    while (end := _pacific_midnight(day + timedelta(days=1))) <= until:
        if end > since:
            days.append(day)
        day += timedelta(days=1)
    return days


def _end_time(day: date) -> str:
    end = datetime.fromtimestamp(_pacific_midnight(day + timedelta(days=1)), UTC)
    return end.strftime("%Y-%m-%dT%H:%M:%S+0000")


def account_insights(request: web.Request, sandbox: Meta, account: InstagramAccount) -> dict[str, Any]:
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
            total = sum(_value(account.ig_user_id, metric, d.isoformat()) for d in measured_days(since, until))
            data.append({"name": metric, "period": "day", "total_value": {"value": total},
                         "title": metric, "id": f"{account.ig_user_id}/insights/{metric}/day"})
            continue
        if metric not in ACCOUNT_SERIES_METRICS:
            raise invalid_parameter(f"(#100) {metric} requires metric_type=total_value")
        if metric == "follower_count":
            _need_followers(account)
        values = [
            {"value": _value(account.ig_user_id, metric, d.isoformat(), high=300 if metric == "follower_count" else 5000),
             "end_time": _end_time(d)}
            for d in measured_days(since, until)
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
