"""Daily account insights are labelled with the day Meta measured (a Pacific calendar day), not
the date of ``end_time`` (the end of that day, which would show each value one day late)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import Env
from tests.sync_helpers import CREATOR_IG, connected

PACIFIC = ZoneInfo("America/Los_Angeles")


async def test_daily_values_carry_the_measured_pacific_day(env: Env) -> None:
    tenant, account_id = await connected(env)
    # a point stored by the earlier release (stamped with end_time): replaced, not kept beside
    stale = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    await env.services.store["metrics"].insert_one({
        "_id": f"{account_id}:reach:{stale.isoformat()}", "account_id": account_id, "tenant_id": tenant.id,
        "metric": "reach", "ts": stale, "value": -1, "source": "insights"})
    await env.run_worker()
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    token = env.services.cipher.decrypt(doc["token"]["ciphertext"])
    today = datetime.now(PACIFIC).date()
    until = datetime(today.year, today.month, today.day, tzinfo=PACIFIC)
    raw = (await env.sandbox.get(f"/graph.instagram.com/v24.0/{CREATOR_IG}/insights", params={
        "access_token": token, "metric": "reach", "period": "day",
        "since": int((until - timedelta(days=10)).timestamp()), "until": int(until.timestamp())})).json()
    expected = {}
    for value in raw["data"][0]["values"]:
        end = datetime.fromisoformat(value["end_time"])
        assert end.astimezone(PACIFIC).hour == 0  # Meta's day ends at Pacific midnight
        expected[(end.astimezone(PACIFIC) - timedelta(seconds=1)).date().isoformat()] = value["value"]
    h = env.auth(tenant)
    series = (await env.http.get(f"/v1/accounts/{account_id}/metrics", headers=h, params={"name": "reach"})).json()
    shown = {p["ts"][:10]: p["value"] for p in series["data"]}
    assert len(expected) == 10 and all(shown[day] == value for day, value in expected.items())
    assert max(shown) == (today - timedelta(days=1)).isoformat()  # yesterday's value is yesterday's
    assert -1 not in shown.values() and len(shown) == 30
    views = (await env.http.get(f"/v1/accounts/{account_id}/metrics", headers=h, params={"name": "views"})).json()
    assert [p["ts"][:10] for p in views["data"]] == [(today - timedelta(days=1)).isoformat()]


async def test_instagram_fields_stored_at_the_top_level_reach_the_plugin(env: Env) -> None:
    """The previous release kept Instagram's own account fields (page, insights cut-off) at the
    top level of the account document; the plugin still sees them in `AccountRef.extra` (its
    spec's account_top_fields) and a sync keeps writing them there, not under ``extra``."""
    from socialsync.credentials import account_ref  # noqa: PLC0415
    from socialsync.platforms.records import AccountExtra  # noqa: PLC0415
    from socialsync.store import sync_records  # noqa: PLC0415

    _tenant, account_id = await connected(env)
    cut = datetime(2024, 5, 1, tzinfo=UTC)
    await env.services.store.accounts.update_one({"_id": account_id}, {"$set": {"insights_unavailable_before": cut}})
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert account_ref(doc, env.services.cipher).extra["insights_unavailable_before"] == cut
    later = datetime(2024, 6, 1, tzinfo=UTC)
    await sync_records.write_batch(env.services.store, doc, {"_id": "run_test"},
                                   [AccountExtra({"insights_unavailable_before": later})], now=datetime.now(UTC))
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert doc["insights_unavailable_before"] == later and "insights_unavailable_before" not in (doc.get("extra") or {})
