"""``POST /v1/accounts/{id}/posts`` for every platform: the body read once at the API boundary,
stored once per Idempotency-Key, checked by the account's platform (``Publisher.validate``: a
specific 4xx code per rule) before anything is stored, then its first step queued on the publish
queue (socialsync/publishing/). No platform call happens here.

The order of the checks: the body (``webhooks.boundary``: size, encoding, strict JSON; then the
platform's ``post_request_model`` when it declares one: ``invalid_body`` with ``problems``) → the
Idempotency-Key (the same key and body replay the first post; a different body → 409) → the
account (409 ``account_not_active``) → the capability (422 ``capability_unavailable``) → the
platform's rules → ``publish_at``.

``publish_at`` is the core's, not the platform's (``publish_at_in_past``, ``publish_at_too_far``
past PUBLISH_SCHEDULE_HORIZON_DAYS) unless the platform schedules by itself
(``handles_publish_at``); the platform validates the rest of the body without it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field, TypeAdapter, ValidationError

from socialsync import clock
from socialsync.platforms.base import Platform, PublishRejected
from socialsync.publishing.machine import enqueue_step
from socialsync.publishing.own_posts import OwnPosts
from socialsync.publishing.plugin_run import new_post_doc
from socialsync.store import platform_accounts
from socialsync.store import posts as post_store
from socialsync.store.posts import PostState
from webhooks.boundary import declared_charset, read_body, strict_json
from webhooks.errors import ApiError
from webhooks.keys import SERVICES

_WHEN = TypeAdapter(AwareDatetime)


class PostAccepted(BaseModel):
    id: str
    state: PostState


class DryRunAnswer(BaseModel):
    valid: bool = True
    would_publish_at: datetime
    quota_left: int | None = Field(description="Publishes left in the platform's window; null when the platform does not say (TikTok).")
    existing_post_id: str | None = None


def _accepted(doc: dict[str, Any], state: str | None = None) -> web.Response:
    return web.json_response(PostAccepted(id=doc["_id"], state=state or doc["state"]).model_dump(), status=202)


def _invalid_body(exc: ValidationError) -> ApiError:
    problems = [
        {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    first = problems[0] if problems else {"field": "(body)", "problem": "invalid"}
    return ApiError(400, "invalid_body", f"Invalid request body: {first['field']}: {first['problem']}",
                    problems=problems)


async def read_post_body(request: web.Request, model: type[BaseModel] | None) -> dict[str, Any]:
    """The body as a JSON object: through ``model`` (strict: no "1" for 1) when the platform
    declares one, its JSON form returned; else the object as sent."""
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    declared_charset(request)
    raw = await read_body(request)
    value = strict_json(raw)
    if model is not None:
        try:
            return model.model_validate_json(raw, strict=True).model_dump(mode="json")
        except ValidationError as exc:
            raise _invalid_body(exc) from None
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return value


def fingerprint_of(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def publish_at_of(raw: dict[str, Any], now: datetime, horizon: timedelta) -> datetime | None:
    """``publish_at`` of the request (ISO 8601 with an offset), in the future within the horizon."""
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


async def create_post(request: web.Request, account: dict[str, Any], tenant_id: str, key: str, *,
                      dry_run: bool = False) -> web.Response:
    """202 ``{id, state}`` (also for a replay); ``dry_run``: every check of the real request, the
    same errors, then 200 ``{valid, would_publish_at, quota_left, existing_post_id}``; nothing
    stored, nothing enqueued."""
    services = request.app[SERVICES]
    plugin = services.platforms.for_account(account)
    raw = await read_post_body(request, plugin.post_request_model)
    fingerprint = fingerprint_of(raw)
    existing = await post_store.find_by_idempotency_key(services.store, tenant_id, key)
    if existing is not None:
        _same_post(existing, fingerprint, account)
        if not dry_run:
            return _accepted(existing)
    status = account.get("status")
    if status != "active":
        raise ApiError(409, "account_not_active",
                       f"The account is {status}: {account.get('status_reason') or 'connect it again'}.")
    publisher = _publisher(plugin)
    now = clock.now()
    settings = services.settings
    # publish_at is the core's unless the platform schedules by itself (YouTube's publishAt).
    own_schedule = bool(getattr(publisher, "handles_publish_at", False))
    ref = platform_accounts.ref_of(account, services.cipher)
    block = getattr(plugin, "settings", None)
    sandbox_base = settings.sandbox_base_url if block is not None and block.uses_sandbox(settings) else None
    body = raw if own_schedule else {k: v for k, v in raw.items() if k != "publish_at"}
    try:
        normalized = publisher.validate(ref, body, now, sandbox_base=sandbox_base)  # type: ignore[call-arg]
    except PublishRejected as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    publish_at = None if own_schedule else publish_at_of(
        raw, now, timedelta(days=settings.publish_schedule_horizon_days))
    if dry_run:
        return await _dry_run_answer(services, publisher, ref, publish_at or now, existing)
    request_doc = dict(normalized) if own_schedule else {**normalized, "publish_at": publish_at}
    doc = new_post_doc(tenant_id=tenant_id, account=account, key=key, fingerprint=fingerprint,
                       request=request_doc, now=now)
    stored, created = await post_store.insert_or_existing(services.store, doc)
    if not created:
        _same_post(stored, fingerprint, account)
        return _accepted(stored)
    # A crash before this line leaves a post without a job: the publish sweep enqueues it.
    delay = (publish_at - now).total_seconds() if publish_at else 0.0
    await enqueue_step(services, doc["_id"], 0, defer_seconds=delay)
    return _accepted(doc, "scheduled")


def _publisher(plugin: Platform) -> Any:
    if plugin.publish is None:
        raise ApiError(422, "capability_unavailable", f"{plugin.spec.display_name} cannot publish.")
    return plugin.publish


async def _dry_run_answer(services: Any, publisher: Any, ref: Any, at: datetime,
                          existing: dict[str, Any] | None) -> web.Response:
    """Every check passed: when it would publish and the quota left, as far as the platform can
    tell without a call (``Publisher.quota_left``; null when it cannot)."""
    quota_left, would_publish_at = None, at
    estimate = getattr(publisher, "quota_left", None)
    if estimate is not None:
        quota = await estimate(ref, at, OwnPosts(services.store, ref.external_id))
        quota_left, would_publish_at = quota.left, max(at, quota.frees_at or at)
    answer = DryRunAnswer(would_publish_at=would_publish_at, quota_left=quota_left,
                          existing_post_id=existing["_id"] if existing else None)
    return web.json_response(answer.model_dump(mode="json"))


def _same_post(existing: dict[str, Any], fingerprint: str, account: dict[str, Any]) -> None:
    if existing["fingerprint"] != fingerprint or existing["account_id"] != account["_id"]:
        raise ApiError(409, "idempotency_key_conflict",
                       f"This Idempotency-Key was used for a different post ({existing['_id']}).")
