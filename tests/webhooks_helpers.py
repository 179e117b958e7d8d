"""Helpers for the webhook / comment / CRM-event / privacy tests (issue 4)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

import httpx

from socialsync.tenants import NewTenant
from tests.conftest import Env
from tests.flows import connect

META_SECRET = b"sandbox-meta-secret"
IG_SECRET = b"sandbox-ig-secret"
CREATOR_IG_ID = "17841400000000101"
NEWBIE_IG_ID = "17841400000000102"
SINGLE_BRAND_IG_ID = "17841400000000111"


def sign(body: bytes, secret: bytes = META_SECRET) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def comment_change(comment_id: str, text: str = "nice!", media_id: str = "18000000000009001", **extra: Any) -> dict[str, Any]:
    return {
        "field": "comments",
        "value": {
            "id": comment_id, "text": text, "from": {"id": "17841499999990001", "username": "fan"},
            "media": {"id": media_id, "media_product_type": "FEED"}, **extra,
        },
    }


def payload(ig_id: str, changes: list[dict[str, Any]], *, flat: bool = False) -> dict[str, Any]:
    if flat:
        return {"object": "instagram", "entry": [{"id": ig_id, "time": 1700000000, **c} for c in changes]}
    return {"object": "instagram", "entry": [{"id": ig_id, "time": 1700000000, "changes": changes}]}


async def post_raw(env: Env, body: bytes, signature: str | None = "valid", secret: bytes = META_SECRET) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = sign(body, secret)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return await env.http.post("/webhooks/meta", content=body, headers=headers)


async def post_event(env: Env, data: dict[str, Any], **kw: Any) -> httpx.Response:
    return await post_raw(env, json.dumps(data, separators=(",", ":")).encode(), **kw)


@dataclass
class Connected:
    tenant: NewTenant
    account_id: str
    ig_id: str


async def connected(env: Env, username: str = "sandbox_creator", login: str = "instagram", tenant: NewTenant | None = None) -> Connected:
    tenant = tenant or await env.tenant()
    account_id = (await connect(env, tenant.api_key, username, login=login)).account_id
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    return Connected(tenant, account_id, doc["external_id"])


async def seed_media(env: Env, account: str = "sandbox_creator", count: int = 2) -> list[str]:
    r = await env.sandbox.post("/_sandbox/media/seed", json={"account": account, "count": count})
    assert r.status_code == 201, r.text
    return r.json()["media"]


async def sandbox_comment(env: Env, media_id: str, text: str, *, deliver: bool = True, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"media_id": media_id, "text": text, "deliver": deliver, **extra}
    if deliver:
        body.setdefault("url", f"{env.url}/webhooks/meta")
    r = await env.sandbox.post("/_sandbox/comments", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def comment_docs(env: Env, **query: Any) -> list[dict[str, Any]]:
    return [d async for d in env.services.store["comments"].find(query)]


async def graph_calls(env: Env, needle: str) -> int:
    stats = (await env.sandbox.get("/_sandbox/stats")).json()
    return sum(n for k, n in stats["by_endpoint"].items() if needle in k)
