"""The CRM API for accounts: auth, tenancy, paging, disconnect and reconnect, admin."""

from __future__ import annotations

from tests.conftest import ADMIN_TOKEN, Env
from tests.flows import connect


async def test_missing_and_unknown_keys_get_401(env: Env) -> None:
    r = await env.http.get("/v1/accounts")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = await env.http.get("/v1/accounts", headers={"Authorization": "Bearer ssk_not-a-key"})
    assert r.status_code == 401 and "Unknown API key" in r.json()["error"]["message"]
    r = await env.http.post("/v1/connect", json={})
    assert r.status_code == 401


async def test_another_tenants_account_is_404_on_every_route(env: Env) -> None:
    alice, bob = await env.tenant("Alice"), await env.tenant("Bob")
    account_id = (await connect(env, alice.api_key, "sandbox_creator")).account_id
    for method in ("GET", "DELETE"):
        r = await env.http.request(method, f"/v1/accounts/{account_id}", headers=env.auth(bob))
        assert r.status_code == 404
        assert r.json() == {"error": {"code": "not_found", "message": "No such account."}}
    unknown = await env.http.get("/v1/accounts/acc_doesnotexist", headers=env.auth(bob))
    assert unknown.json() == r.json()  # indistinguishable from an id that does not exist
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert doc["status"] == "active" and "token" in doc  # Bob's DELETE changed nothing


async def test_disconnect_drops_tokens_keeps_history_and_reconnect_reactivates(env: Env) -> None:
    tenant = await env.tenant()
    account_id = (await connect(env, tenant.api_key, "sandbox_creator")).account_id
    r = await env.http.delete(f"/v1/accounts/{account_id}", headers=env.auth(tenant))
    assert r.status_code == 200 and r.json()["status"] == "disconnected"
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert "token" not in doc and doc["status"] == "disconnected"
    assert doc["username"] == "sandbox_creator"  # history kept

    again = await connect(env, tenant.api_key, "sandbox_creator")
    assert again.account_id == account_id  # the same record, reactivated
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert doc["status"] == "active" and doc["token"]["ciphertext"]
    assert await env.services.store.accounts.count_documents({}) == 1


async def test_same_platform_account_in_two_tenants_is_two_records(env: Env) -> None:
    alice, bob = await env.tenant("Alice"), await env.tenant("Bob")
    a = (await connect(env, alice.api_key, "sandbox_creator")).account_id
    b = (await connect(env, bob.api_key, "sandbox_creator")).account_id
    assert a != b
    await env.http.delete(f"/v1/accounts/{a}", headers=env.auth(alice))
    assert (await env.services.store.accounts.find_one({"_id": b}))["status"] == "active"


async def test_account_list_pages_with_a_stable_cursor(env: Env) -> None:
    tenant = await env.tenant()
    ids = {(await connect(env, tenant.api_key, name)).account_id for name in ("sandbox_creator", "sandbox_newbie")}
    ids.add((await connect(env, tenant.api_key, "fb_single", login="facebook")).account_id)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await env.http.get("/v1/accounts", params=params, headers=env.auth(tenant))).json()
        seen += [a["id"] for a in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 3
    bad = await env.http.get("/v1/accounts", params={"limit": "0"}, headers=env.auth(tenant))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_limit"


async def test_admin_route_creates_a_working_tenant(env: Env) -> None:
    denied = await env.http.post("/v1/admin/tenants", json={"name": "X"}, headers={"Authorization": "Bearer wrong"})
    assert denied.status_code == 401
    r = await env.http.post("/v1/admin/tenants", json={"name": "Acme"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert r.status_code == 201
    body = r.json()
    assert body["id"].startswith("ten_") and body["api_key"].startswith("ssk_")
    listed = await env.http.get("/v1/accounts", headers={"Authorization": f"Bearer {body['api_key']}"})
    assert listed.status_code == 200
    stored = await env.services.store.api_keys.find_one({"tenant_id": body["id"]})
    assert body["api_key"] not in str(stored)  # only the hash is kept
    empty = await env.http.post("/v1/admin/tenants", json={"name": ""}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "invalid_body"
