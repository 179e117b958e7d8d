"""Console access: login, session cookie, CSRF, the console switched off, escaping."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, Env, make_settings, serve
from tests.ops.console_helpers import HTML, csrf_of, operator, page_csrf
from socialsync.devservers import free_port
from webhooks.app import build_app


async def test_ops_without_a_session_redirects_to_login(env: Env) -> None:
    r = await env.http.get("/ops/accounts?status=active", headers=HTML)
    assert r.status_code == 303
    location = httpx.URL(r.headers["location"])
    assert location.path == "/ops/login" and location.params["next"] == "/ops/accounts?status=active"
    login = await env.http.get(r.headers["location"], headers=HTML)
    assert login.status_code == 200 and 'name="token"' in login.text


async def test_login_sets_a_strict_httponly_expiring_cookie_and_lands_on_next(env: Env) -> None:
    r = await env.http.post("/ops/login", data={"token": ADMIN_TOKEN, "name": "Dana", "next": "/ops/posts"})
    assert r.status_code == 303 and r.headers["location"] == "/ops/posts"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Max-Age=28800" in cookie
    assert "Path=/ops" in cookie and "Secure" not in cookie  # public URL is http here
    assert ADMIN_TOKEN not in cookie


async def test_login_never_redirects_off_the_console(env: Env) -> None:
    for nxt in ("https://evil.example/", "//evil.example/ops", "/v1/accounts", "/ops\\@evil"):
        r = await env.http.post("/ops/login", data={"token": ADMIN_TOKEN, "next": nxt})
        assert r.headers["location"] == "/ops", nxt


async def test_wrong_token_is_refused_and_repeated_failures_are_throttled(env: Env) -> None:
    r = await env.http.post("/ops/login", data={"token": "nope"}, headers=HTML)
    assert r.status_code == 401 and "not the admin token" in r.text and "set-cookie" not in r.headers
    for _ in range(10):
        await env.http.post("/ops/login", data={"token": "nope"})
    r = await env.http.post("/ops/login", data={"token": ADMIN_TOKEN})
    assert r.status_code == 429
    await env.redis.delete("ops:login-failed:127.0.0.1")  # other tests share this Redis


async def test_secure_cookie_when_the_public_url_is_https(redis_url: str, mongodb_url: str, sandbox_url: str, token_key: str) -> None:
    port = free_port()
    settings = make_settings(redis_url=redis_url, mongodb_url=mongodb_url, sandbox_url=sandbox_url,
                             token_key=token_key, web_port=port, public_url="https://ops.example.com")
    runner, url = await serve(build_app(settings), port)
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            r = await client.post("/ops/login", data={"token": ADMIN_TOKEN})
            assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("admin_token", [None, ""])
async def test_console_is_off_without_an_admin_token(redis_url: str, mongodb_url: str, sandbox_url: str, token_key: str,
                                                     admin_token: str | None) -> None:
    port = free_port()
    settings = make_settings(redis_url=redis_url, mongodb_url=mongodb_url, sandbox_url=sandbox_url,
                             token_key=token_key, web_port=port, admin_token=admin_token)
    runner, url = await serve(build_app(settings), port)
    try:
        async with httpx.AsyncClient(base_url=url) as client:
            for path in ("/ops/", "/ops/login"):
                r = await client.get(path, headers=HTML)
                assert r.status_code == 403 and "console is off" in r.text, path
            r = await client.post("/ops/login", data={"token": ""})
            assert r.status_code == 403 and r.json()["error"]["code"] == "console_disabled"
    finally:
        await runner.cleanup()


async def test_post_without_session_or_csrf_is_refused(env: Env) -> None:
    tenant = await env.tenant()
    # No session at all.
    r = await env.http.post("/ops/logout", data={"csrf": "x"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "no_session"
    async with operator(env) as client:
        _, csrf = await page_csrf(client, "/ops/")
        for data in ({}, {"csrf": ""}, {"csrf": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}):
            r = await client.post("/ops/logout", data=data, headers={"Accept": "application/json"})
            assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed", data
        assert (await client.get("/ops/")).status_code == 200  # still logged in
        r = await client.post("/ops/logout", data={"csrf": csrf})
        assert r.status_code == 303
        assert (await client.get("/ops/")).status_code == 303  # the session is gone server-side
    assert tenant.api_key  # (a tenant exists; its key never appears on a page: see below)


async def test_pages_show_no_token_or_secret(env: Env) -> None:
    from tests.webhooks_helpers import connected  # noqa: PLC0415

    c = await connected(env)
    doc = await env.services.store.accounts.find_one({"_id": c.account_id})
    ciphertext = doc["token"]["ciphertext"]
    async with operator(env) as client:
        for path in ("/ops/", "/ops/accounts", f"/ops/accounts/{c.account_id}", "/ops/audit"):
            r = await client.get(path)
            assert r.status_code == 200, path
            for secret in (ADMIN_TOKEN, c.tenant.api_key, ciphertext[:40], "sandbox-ig-secret"):
                assert secret not in r.text, (path, secret[:6])
            assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")


async def test_bad_filters_are_a_specific_400(env: Env) -> None:
    async with operator(env) as client:
        for path, code in (("/ops/accounts?status=sleeping", "invalid_status"),
                           ("/ops/posts?page=0", "invalid_page"), ("/ops/posts?page=１", "invalid_page"),
                           ("/ops/sync-runs?page=99999999999999999999", "invalid_page"),
                           ("/ops/accounts?tenant_id=%24where", "invalid_tenant_id"),
                           ("/ops/webhook-events?status=%00", "invalid_encoding")):
            r = await client.get(path, headers={"Accept": "application/json"})
            assert r.status_code == 400 and r.json()["error"]["code"] == code, (path, r.text)
        r = await client.get("/ops/posts/post_nope")
        assert r.status_code == 404


async def test_csrf_token_is_on_every_form(env: Env) -> None:
    async with operator(env) as client:
        r = await client.get("/ops/")
        assert csrf_of(r.text)
