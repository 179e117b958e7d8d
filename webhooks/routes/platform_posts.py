"""``POST /v1/accounts/{id}/posts`` for an interface platform's account (TikTok…): the platform's
own request shape, validated before anything is stored (a specific 4xx code per rule), stored
once per Idempotency-Key, then its first step queued. No platform call happens here."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from socialsync.platform_publish import enqueue_step, new_post_doc
from socialsync.platforms.base import PublishRejected
from socialsync.plugins import plugin_for
from socialsync.store import platform_accounts
from socialsync.store import posts as post_store
from webhooks.errors import ApiError
from webhooks.keys import SERVICES

routes = web.RouteTableDef()  # served through posts.py's route


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return body


async def create_platform_post(request: web.Request, account: dict[str, Any], tenant_id: str, key: str) -> web.Response:
    services = request.app[SERVICES]
    raw = await _json_body(request)
    fingerprint = hashlib.sha256(json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    col = services.store[post_store.COLLECTION]
    existing = await col.find_one({"tenant_id": tenant_id, "idempotency_key": key})
    if existing is None:
        if account.get("status") != "active":
            raise ApiError(409, "account_not_active", f"The account is {account.get('status')}: reconnect it first.")
        plugin = plugin_for(services, account["platform"])
        if plugin.publish is None:
            raise ApiError(422, "capability_unavailable", f"{plugin.spec.display_name} cannot publish.")
        ref = platform_accounts.ref_of(account, services.cipher)
        settings = services.settings
        sandbox_base = settings.sandbox_base_url if plugin.settings.uses_sandbox(settings) else None  # type: ignore[attr-defined]
        try:
            normalized = plugin.publish.validate(ref, raw, datetime.now(UTC), sandbox_base=sandbox_base)  # type: ignore[call-arg]
        except PublishRejected as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        doc = new_post_doc(tenant_id=tenant_id, account=account, key=key, fingerprint=fingerprint, request=normalized)
        stored, created = await post_store.insert_or_existing(services.store, doc)
        if created:
            await enqueue_step(services, doc["_id"], 0)  # a lost enqueue is found by the sweep
            return web.json_response({"id": doc["_id"], "state": "scheduled"}, status=202)
        existing = stored
    if existing["fingerprint"] != fingerprint or existing["account_id"] != account["_id"]:
        raise ApiError(409, "idempotency_key_conflict",
                       f"This Idempotency-Key was used for a different post ({existing['_id']}).")
    return web.json_response({"id": existing["_id"], "state": existing["state"]}, status=202)
