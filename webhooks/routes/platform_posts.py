"""``POST /v1/accounts/{id}/posts`` for a platform plugin's account (TikTok…): the platform's own
request shape, validated before anything is stored (a specific 4xx code per rule), stored once per
Idempotency-Key, then its first step queued on the publish queue (socialsync/publishing/). No
platform call happens here.

``publish_at`` is the core's, not the platform's: the same rules and codes as Instagram's
scheduling (``publish_at_in_past``, ``publish_at_too_far`` past PUBLISH_SCHEDULE_HORIZON_DAYS); the
plugin validates the rest of the body without it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from socialsync.platforms.base import PublishRejected
from socialsync.plugins import plugin_for
from socialsync.publishing.machine import enqueue_step
from socialsync.publishing.plugin_run import new_post_doc
from socialsync.store import platform_accounts
from socialsync.store import posts as post_store
from webhooks.errors import ApiError
from webhooks.keys import SERVICES
from socialsync import clock

routes = web.RouteTableDef()  # served through posts.py's route
_WHEN = TypeAdapter(AwareDatetime)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return body


def publish_at_of(raw: dict[str, Any], now: datetime, horizon: timedelta) -> datetime | None:
    """``publish_at`` of the request (ISO 8601 with an offset), checked as Instagram's is."""
    value = raw.get("publish_at")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_body", "Invalid request body: publish_at: must be an ISO 8601 string.")
    try:
        when = _WHEN.validate_python(value)
    except ValidationError as exc:
        raise ApiError(400, "invalid_body",
                       f"Invalid request body: publish_at: {exc.errors()[0]['msg']}") from None
    if when <= now:
        raise ApiError(400, "publish_at_in_past", "publish_at must be in the future.")
    if when > now + horizon:
        raise ApiError(400, "publish_at_too_far", f"publish_at may be at most {horizon.days} days ahead.")
    return when.astimezone(UTC)


async def create_platform_post(request: web.Request, account: dict[str, Any], tenant_id: str, key: str, *,
                               dry_run: bool = False) -> web.Response:
    """``dry_run``: every check of the real request, the same errors; then 200 ``{valid,
    would_publish_at, quota_left: null, existing_post_id}``; nothing stored, nothing enqueued."""
    services = request.app[SERVICES]
    raw = await _json_body(request)
    fingerprint = hashlib.sha256(json.dumps(raw, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    col = services.store[post_store.COLLECTION]
    existing = await col.find_one({"tenant_id": tenant_id, "idempotency_key": key})
    if existing is not None and dry_run:
        _same_post(existing, fingerprint, account)
    if existing is None or dry_run:
        if account.get("status") != "active":
            raise ApiError(409, "account_not_active", f"The account is {account.get('status')}: reconnect it first.")
        plugin = plugin_for(services, account["platform"])
        if plugin.publish is None:
            raise ApiError(422, "capability_unavailable", f"{plugin.spec.display_name} cannot publish.")
        now = clock.now()
        settings = services.settings
        # publish_at is the core's unless the platform schedules by itself (YouTube's publishAt).
        own_schedule = bool(getattr(plugin.publish, "handles_publish_at", False))
        publish_at = None if own_schedule else publish_at_of(
            raw, now, timedelta(days=settings.publish_schedule_horizon_days))
        ref = platform_accounts.ref_of(account, services.cipher)
        sandbox_base = settings.sandbox_base_url if plugin.settings.uses_sandbox(settings) else None  # type: ignore[attr-defined]
        body = raw if own_schedule else {k: v for k, v in raw.items() if k != "publish_at"}
        try:
            normalized = plugin.publish.validate(ref, body, now, sandbox_base=sandbox_base)  # type: ignore[call-arg]
        except PublishRejected as exc:
            raise ApiError(exc.status, exc.code, exc.message) from None
        if dry_run:
            answer = {"valid": True, "would_publish_at": (publish_at or now).isoformat(), "quota_left": None,
                      "existing_post_id": existing["_id"] if existing else None}
            return web.json_response(answer)
        request_doc = dict(normalized) if own_schedule else {**normalized, "publish_at": publish_at}
        doc = new_post_doc(tenant_id=tenant_id, account=account, key=key, fingerprint=fingerprint,
                           request=request_doc, now=now)
        stored, created = await post_store.insert_or_existing(services.store, doc)
        if created:
            # A crash before this line leaves a post without a job: the publish sweep enqueues it.
            delay = (publish_at - now).total_seconds() if publish_at else 0.0
            await enqueue_step(services, doc["_id"], 0, defer_seconds=delay)
            return web.json_response({"id": doc["_id"], "state": "scheduled"}, status=202)
        existing = stored
    _same_post(existing, fingerprint, account)
    return web.json_response({"id": existing["_id"], "state": existing["state"]}, status=202)


def _same_post(existing: dict[str, Any], fingerprint: str, account: dict[str, Any]) -> None:
    if existing["fingerprint"] != fingerprint or existing["account_id"] != account["_id"]:
        raise ApiError(409, "idempotency_key_conflict",
                       f"This Idempotency-Key was used for a different post ({existing['_id']}).")
