"""An acknowledged delivery is processed change by change (ARCHITECTURE.md §4.1, issue 11 §2):
the good changes are applied, each bad one is recorded with its reason and counted in /metrics."""

from __future__ import annotations

import json

from tests.conftest import Env
from tests.webhooks_helpers import comment_change, comment_docs, connected, post_raw


async def test_one_malformed_comment_among_good_ones_keeps_the_good_ones(env: Env) -> None:
    acc = await connected(env)
    body = {"object": "instagram", "entry": [
        {"id": acc.ig_id, "time": 1700000000, "changes": [
            comment_change("17900000000000201", "first"),
            {"field": "comments", "value": {"text": "no id, does not parse"}},
            "not even an object",
            {"field": "comm\u0000ents", "value": {"id": "17900000000000299"}},
            comment_change("17900000000000202", "second"),
        ]},
        {"id": acc.ig_id, "time": 10**20, "changes": [comment_change("17900000000000203", "bad time")]},
        {"id": acc.ig_id, "time": 1700000001, "changes": [comment_change("17900000000000204", "third")]},
    ]}
    r = await post_raw(env, json.dumps(body).encode())
    assert r.status_code == 200, r.text
    await env.run_worker()
    stored = {d["comment_id"] for d in await comment_docs(env, account_id=acc.account_id)}
    assert stored == {"17900000000000201", "17900000000000202", "17900000000000204"}
    event = await env.services.store["webhook_events"].find_one({})
    assert event["status"] == "processed" and event["source"] == "meta"
    reasons = sorted((x["index"], x["reason"]) for x in event["rejected"])
    assert reasons == [(1, "invalid_value"), (2, "change_not_an_object"), (3, "invalid_field_name"),
                       (5, "time_out_of_range")]
    assert event["result"]["rejected"] == 4 and event["result"]["comments"] == 3
    metrics = (await env.http.get("/metrics")).text
    assert 'socialsync_webhook_changes_rejected_total{reason="invalid_value",source="meta"} 1.0' in metrics
    assert 'socialsync_webhook_changes_rejected_total{reason="time_out_of_range",source="meta"} 1.0' in metrics


async def test_a_delivery_whose_every_change_is_bad_is_still_kept_and_acknowledged(env: Env) -> None:
    acc = await connected(env)
    body = {"object": "instagram", "entry": [{"id": acc.ig_id, "time": -5, "changes": [comment_change("1")]}]}
    r = await post_raw(env, json.dumps(body).encode())
    assert r.status_code == 200
    await env.run_worker()
    event = await env.services.store["webhook_events"].find_one({})
    assert event["status"] == "processed" and [x["reason"] for x in event["rejected"]] == ["time_out_of_range"]
    assert await comment_docs(env) == []
