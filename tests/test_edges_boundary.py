"""Issue 11 §1/§5: one boundary layer. Every invalid value is a specific 4xx in the JSON error
shape, never a 5xx, on authenticated and unauthenticated routes alike (real receiver over HTTP)."""

from __future__ import annotations

import httpx

from socialsync.store.tenants import KEY_PREFIX
from tests.conftest import Env
from tests.webhooks_helpers import connected
from webhooks import cursors


def _code(r: httpx.Response) -> str:
    assert r.headers["content-type"].startswith("application/json"), (r.status_code, r.text[:200])
    return r.json()["error"]["code"]


async def test_query_and_path_values_get_their_own_400_codes(env: Env) -> None:
    tenant = await env.tenant()
    h = env.auth(tenant)
    cases = [
        ("/v1/accounts?limit=%D9%A3", "invalid_limit"),  # ARABIC-INDIC DIGIT THREE: isdigit() is True
        ("/v1/accounts?limit=%C2%B2", "invalid_limit"),  # SUPERSCRIPT TWO: isdigit() True, int() fails
        ("/v1/accounts?limit=" + "9" * 5000, "invalid_limit"),
        ("/v1/accounts?limit=-1", "invalid_limit"),
        ("/v1/accounts?limit=0", "invalid_limit"),
        ("/v1/accounts?limit=201", "invalid_limit"),
        ("/v1/accounts?limit=1&limit=2", "invalid_limit"),
        ("/v1/accounts/a%20b", "invalid_account_id"),
        ("/v1/accounts/" + "a" * 201, "invalid_account_id"),
        ("/v1/posts/%E2%82%AC", "invalid_post_id"),
    ]
    for path, code in cases:
        r = await env.http.get(path, headers=h)
        assert r.status_code == 400 and _code(r) == code, (path, r.status_code, r.text[:200])
    acc = await connected(env, tenant=tenant)
    base = f"/v1/accounts/{acc.account_id}"
    cases = [
        (f"{base}/comments?hidden=yes", "invalid_hidden"),
        (f"{base}/comments?since=0001-01-01T00:00:00%2B01:00", "invalid_since"),  # before year 1 in UTC
        (f"{base}/comments?since=9999-12-31T23:59:59-01:00", "invalid_since"),  # after 9999 in UTC
        (f"{base}/comments?since=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%94-01-01", "invalid_since"),  # full-width digits
        (f"{base}/comments?media_id=%24gt", "invalid_media_id"),
        (f"{base}/media?sort=like_count", "invalid_sort"),
        (f"{base}/media?product_type=IGTV", "invalid_product_type"),
        (f"{base}/media?include_deleted=maybe", "invalid_include_deleted"),
        (f"{base}/metrics", "invalid_metric"),
        (f"{base}/metrics?name=reach&interval=week", "invalid_interval"),
        (f"{base}/metrics?name=reach&until=tomorrow", "invalid_until"),
        (f"{base}/posts?state=nope", "invalid_state"),
    ]
    for path, code in cases:
        r = await env.http.get(path, headers=h)
        assert r.status_code == 400 and _code(r) == code, (path, r.status_code, r.text[:200])
    # the edges that are valid stay valid: naive (UTC) and offset date-times, ASCII limits
    for path in (f"{base}/comments?since=2024-01-01T00:00:00", f"{base}/comments?since=2024-01-01T00:00:00%2B05:00",
                 f"{base}/comments?since=0001-01-01T00:00:00-01:00", "/v1/accounts?limit=200"):
        r = await env.http.get(path, headers=h)
        assert r.status_code == 200, (path, r.text[:200])
    post = await env.http.post(f"{base}/posts", json={}, headers={**h, "Idempotency-Key": "k" * 201})
    assert post.status_code == 400 and _code(post) == "invalid_idempotency_key"
    post = await env.http.post(f"{base}/posts", json={}, headers=h)
    assert post.status_code == 400 and _code(post) == "missing_idempotency_key"


async def test_cursors_are_sealed_per_list_and_tenant(env: Env) -> None:
    a, b = await env.tenant("A"), await env.tenant("B")
    mine = cursors.seal(env.settings, f"accounts:{a.id}", "acc_0")
    assert (await env.http.get("/v1/accounts", params={"cursor": mine}, headers=env.auth(a))).status_code == 200
    forged = [
        "acc_0",  # the old plain-id cursor
        mine[:-2] + ("AA" if not mine.endswith("AA") else "BB"),  # tampered MAC
        cursors.seal(env.settings, f"accounts:{b.id}", "acc_0"),  # another tenant's
        cursors.seal(env.settings, f"deliveries:{a.id}", "acc_0"),  # another list's
        "e30." + "A" * 22,  # {} with a made-up MAC
    ]
    for cursor in forged:
        r = await env.http.get("/v1/accounts", params={"cursor": cursor}, headers=env.auth(a))
        assert r.status_code == 400 and _code(r) == "invalid_cursor", cursor
        r = await env.http.get("/v1/webhook-endpoint/deliveries", params={"cursor": cursor}, headers=env.auth(a))
        assert r.status_code == 400 and _code(r) == "invalid_cursor", cursor


async def test_bytes_that_are_not_utf8_are_refused_on_every_route(env: Env) -> None:
    tenant = await env.tenant()
    unauthenticated = [
        "/webhooks/meta?hub.mode=subscribe&hub.verify_token=%FF", "/oauth/instagram/callback?code=%FF&state=x",
        "/oauth/facebook/callback?state=%C3%28", "/oauth/facebook/select?state=%FF", "/data-deletion/%FF",
        "/healthz?x=%00",
    ]
    for path in unauthenticated:
        r = await env.http.get(path)
        assert r.status_code == 400 and _code(r) == "invalid_encoding", (path, r.status_code, r.text[:200])
    r = await env.http.get("/healthz", headers={"X-Anything": b"caf\xe9"})
    assert r.status_code == 400 and _code(r) == "invalid_encoding"
    r = await env.http.get("/v1/accounts", headers={"Authorization": b"Bearer " + KEY_PREFIX.encode() + b"\xff\xfe"})
    assert r.status_code == 401 and _code(r) == "invalid_authorization"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for path in ("/webhooks/meta/deauthorize", "/webhooks/meta/data-deletion", "/oauth/facebook/select"):
        r = await env.http.post(path, content=b"signed_request=%FF%FE&state=\xff", headers=form)
        assert r.status_code == 400 and _code(r) == "invalid_encoding", (path, r.text[:200])
        r = await env.http.post(path, content=b"state=x", headers={"Content-Type": "application/x-www-form-urlencoded; charset=bogus"})
        assert r.status_code == 400 and _code(r) == "unsupported_charset", (path, r.text[:200])
    r = await env.http.post("/v1/connect", content=b'{"platform": "\xff"}', headers={**env.auth(tenant), "Content-Type": "application/json"})
    assert r.status_code == 400 and _code(r) == "invalid_encoding"


async def test_json_that_mongodb_or_json_cannot_hold_is_refused(env: Env) -> None:
    tenant = await env.tenant()
    acc = await connected(env, tenant=tenant)
    h = {**env.auth(tenant), "Content-Type": "application/json"}
    image = '{"type": "image", "media": [{"url": "https://cdn.example.com/a.jpg", "kind": "image"}], %s}'
    cases = [
        (image % '"caption": NaN', "invalid_number"),
        (image % '"caption": -Infinity', "invalid_number"),
        (image % f'"publish_at": {2**64}', "number_out_of_range"),
        (image % '"publish_at": 1e400', "number_out_of_range"),
        (image % ('"caption": ' + "9" * 5000), "number_out_of_range"),
        (image % '"caption": "a\\u0000b"', "nul_character"),
        (image % '"options": {"$where": "1"}', "invalid_key"),
        (image % '"options": {"a.b": "1"}', "invalid_key"),
        (image % ('"options": ' + "[" * 100 + "]" * 100), "too_deep"),
        ("[" * 100_000 + "]" * 100_000, "too_deep"),
        ("{nope", "invalid_body"),
    ]
    for n, (body, code) in enumerate(cases):
        r = await env.http.post(f"/v1/accounts/{acc.account_id}/posts", content=body.encode(),
                                headers={**h, "Idempotency-Key": f"k{n}"})
        assert r.status_code == 400 and _code(r) == code, (body[:80], r.status_code, r.text[:200])
    assert await env.services.store["publish_jobs"].count_documents({}) == 0


async def test_framework_errors_use_the_json_shape(env: Env) -> None:
    r = await env.http.get("/no/such/page")
    assert r.status_code == 404 and _code(r) == "not_found"
    r = await env.http.patch("/v1/accounts", headers=env.auth(await env.tenant()))
    assert r.status_code == 405 and _code(r) == "method_not_allowed" and "GET" in r.headers["allow"]
    r = await env.http.post("/v1/connect", content=b"{}", headers={"Content-Type": "text/plain"})
    assert r.status_code in (401, 415)


async def test_disconnecting_twice_answers_the_same_and_emits_once(env: Env) -> None:
    tenant = await env.tenant()
    acc = await connected(env, tenant=tenant)
    first = await env.http.delete(f"/v1/accounts/{acc.account_id}", headers=env.auth(tenant))
    stored = await env.services.store.accounts.find_one({"_id": acc.account_id})
    again = await env.http.delete(f"/v1/accounts/{acc.account_id}", headers=env.auth(tenant))
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    after = await env.services.store.accounts.find_one({"_id": acc.account_id})
    assert after["disconnected_at"] == stored["disconnected_at"] and after["updated_at"] == stored["updated_at"]
    events = await env.services.store["crm_events"].count_documents({"type": "account.disconnected"})
    assert events == 1
    other = await env.tenant("B")
    assert (await env.http.delete(f"/v1/accounts/{acc.account_id}", headers=env.auth(other))).status_code == 404


async def test_a_body_that_trickles_is_cut_off_with_408(env: Env) -> None:
    import asyncio  # noqa: PLC0415
    import time  # noqa: PLC0415

    env.settings.body_read_timeout_seconds = 1.0
    tenant = await env.tenant()
    host, port = env.url.removeprefix("http://").split(":")
    for path, auth in (("/v1/connect", f"Authorization: Bearer {tenant.api_key}\r\n"), ("/webhooks/meta", "")):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
                     "Content-Length: 100\r\n\r\n{\"platform\"".encode())
        await writer.drain()
        started = time.monotonic()
        head = await asyncio.wait_for(reader.readline(), timeout=15)
        assert b" 408 " in head, (path, head)
        assert time.monotonic() - started < 10
        writer.close()
