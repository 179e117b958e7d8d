"""The one post route (webhooks/routes/post_create.py): a TikTok body passes the same API
boundary as Instagram's (content type, strict JSON: the codes of tests/test_edges_boundary.py),
and the platform's rules answer after the Idempotency-Key, with nothing stored for a refusal."""

from __future__ import annotations

from test_tiktok_publish import MB, post, quick_tiktok, video  # noqa: F401 - fixture
from tiktok_flows import connect

from tests.conftest import Env


async def test_a_tiktok_post_body_passes_the_api_boundary_of_every_platform(env: Env) -> None:
    tenant = await env.tenant()
    account_id = (await connect(env, tenant.api_key, account="tt_creator")).account_id
    url = f"/v1/accounts/{account_id}/posts"
    h = {**env.auth(tenant), "Content-Type": "application/json"}
    cases = [
        ('{"type": "video", "caption": NaN}', 400, "invalid_number"),
        ('{"type": "video", "options": {"$where": "1"}}', 400, "invalid_key"),
        ('{"caption": "a\\u0000b"}', 400, "nul_character"),
        ("{nope", 400, "invalid_body"),
        ("[1, 2]", 400, "invalid_json"),  # JSON, but not an object
    ]
    for n, (body, status, code) in enumerate(cases):
        r = await env.http.post(url, content=body.encode(), headers={**h, "Idempotency-Key": f"b{n}"})
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (body, r.text)
    r = await env.http.post(url, content=b"{}", headers={**env.auth(tenant), "Content-Type": "text/plain",
                                                          "Idempotency-Key": "plain"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    # the platform's own rules, the same request through the same path
    r = await post(env, tenant, account_id, {**video(env, MB), "caption": "x" * 2201}, key="long")
    assert r.status_code == 400 and r.json()["error"]["code"] == "caption_too_long", r.text
    assert await env.services.store["publish_jobs"].count_documents({}) == 0
