"""Account insights (daily figures) and audience demographics from the Graph API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.client import GraphClient
from socialsync.platforms.instagram.insight_days import day_label, measured_day, pacific_midnight, pacific_today
from socialsync.platforms.instagram.media import parse_timestamp

# Daily series (period=day, no metric_type) and day totals (metric_type=total_value).
SERIES_METRICS: tuple[str, ...] = ("reach", "follower_count")
TOTAL_METRICS: tuple[str, ...] = (
    "views", "accounts_engaged", "total_interactions", "likes", "comments", "saves", "shares", "replies",
    "follows_and_unfollows", "profile_links_taps",
)
DEMOGRAPHIC_METRICS: tuple[str, ...] = ("follower_demographics", "engaged_audience_demographics")
BREAKDOWNS: tuple[str, ...] = ("age", "gender", "country", "city")
TIMEFRAME = "this_month"


async def read_series(
    graph: GraphClient, access: AccountAccess, metric: str, *, days: int, now: datetime
) -> list[tuple[datetime, float]]:
    """One daily series for the last ``days`` complete Pacific days (≤ 30 per call):
    [(measured day label, value)] - see insight_days.py for the labelling rule."""
    return (await read_series_many(graph, access, (metric,), days=days, now=now)).get(metric, [])


async def read_series_many(
    graph: GraphClient, access: AccountAccess, metrics: tuple[str, ...], *, days: int, now: datetime
) -> dict[str, list[tuple[datetime, float]]]:
    """Several daily series in one call (Meta answers one entry per metric); one refused metric
    (e.g. follower_count below 100 followers) refuses the call: the caller then reads each alone."""
    today = pacific_today(now)
    until = pacific_midnight(today)
    # ≤ 30 days of seconds: a span with a DST change is an hour longer; a ``since`` inside the
    # first day still selects it (days whose end lies in (since, until]).
    since = max(pacific_midnight(today - timedelta(days=min(days, 30))), until - timedelta(days=30))
    body = await graph.get(
        access.url(f"{access.ig_user_id}/insights"), token=access.token, account_id=access.ig_user_id,
        metric=",".join(metrics), period="day", since=int(since.timestamp()), until=int(until.timestamp()),
    )
    out: dict[str, list[tuple[datetime, float]]] = {m: [] for m in metrics}
    for entry in body.get("data") or []:
        points = out.setdefault(entry.get("name", ""), [])
        for value in entry.get("values") or []:
            if isinstance(value.get("value"), int | float) and value.get("end_time"):
                day = measured_day(parse_timestamp(value["end_time"]))
                points.append((day_label(day), value["value"]))
    return out


async def read_day_totals(
    graph: GraphClient, access: AccountAccess, *, now: datetime
) -> tuple[datetime, dict[str, float]]:
    """Yesterday's (Pacific) totals of the metrics that need ``metric_type=total_value``:
    (the measured day's label, values)."""
    yesterday = pacific_today(now) - timedelta(days=1)
    since, until = pacific_midnight(yesterday), pacific_midnight(yesterday + timedelta(days=1))
    body = await graph.get(
        access.url(f"{access.ig_user_id}/insights"), token=access.token, account_id=access.ig_user_id,
        metric=",".join(TOTAL_METRICS), period="day", metric_type="total_value",
        since=int(since.timestamp()), until=int(until.timestamp()),
    )
    values = {
        e["name"]: e["total_value"]["value"]
        for e in body.get("data") or []
        if isinstance((e.get("total_value") or {}).get("value"), int | float)
    }
    return day_label(yesterday), values


async def read_demographics(
    graph: GraphClient, access: AccountAccess, breakdown: str
) -> dict[str, dict[str, float]]:
    """{metric: {dimension value: count}} for one breakdown (both audience metrics, one call)."""
    body = await graph.get(
        access.url(f"{access.ig_user_id}/insights"), token=access.token, account_id=access.ig_user_id,
        metric=",".join(DEMOGRAPHIC_METRICS), period="lifetime", metric_type="total_value",
        breakdown=breakdown, timeframe=TIMEFRAME,
    )
    out: dict[str, dict[str, float]] = {}
    for entry in body.get("data") or []:
        values: dict[str, float] = {}
        for group in (entry.get("total_value") or {}).get("breakdowns") or []:
            for result in group.get("results") or []:
                keys = result.get("dimension_values") or []
                if keys and isinstance(result.get("value"), int | float):
                    values[str(keys[0])] = result["value"]
        out[entry.get("name", "")] = values
    return out


def profile_request(access: AccountAccess) -> tuple[str, str]:
    """URL and fields of the profile read, per login flow (PLATFORM_FACTS.md §2)."""
    from socialsync.platforms.instagram.oauth import PROFILE_FIELDS_FB_LOGIN, PROFILE_FIELDS_IG_LOGIN  # noqa: PLC0415

    if access.login == "instagram":
        return access.url("me"), PROFILE_FIELDS_IG_LOGIN
    return access.url(access.ig_user_id), PROFILE_FIELDS_FB_LOGIN


async def read_profile(graph: GraphClient, access: AccountAccess) -> dict[str, Any]:
    from socialsync.platforms.instagram.oauth import InstagramProfile  # noqa: PLC0415

    url, fields = profile_request(access)
    body = await graph.get(url, token=access.token, account_id=access.ig_user_id, fields=fields)
    return InstagramProfile.model_validate(body).model_dump(exclude_none=True)
