"""The CRM's publishing API: create a post (idempotent), read it, list an account's, cancel.

Nothing here calls Instagram: a valid request is stored and its first job enqueued; the
worker does the rest (socialsync.publishing.plugin_run driving socialsync.platforms.instagram.publish).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync import operations, queue
from socialsync.platforms.instagram import publish_quota
from socialsync.platforms.instagram.publish_validation import PostRejected, PostRequest, check_post
from socialsync.plugins import is_interface_platform
from socialsync.store import accounts as account_store
from socialsync.store import posts as post_store
from socialsync.store.posts import PostOut, PostState
from webhooks.auth import tenant_of
from webhooks.cursors import next_cursor, open_cursor
from webhooks.errors import ApiError, not_found, parse_body
from webhooks.keys import SERVICES
from webhooks.routes.platform_posts import create_platform_post
from socialsync.publishing.plugin_run import new_post_doc
from webhooks.openapi import ERRORS, NOT_FOUND, ErrorOut, json_body, parameters, path_param, request_body
from webhooks.params import PageQuery, parse_headers, parse_query
from socialsync import clock

routes = web.RouteTableDef()
IDEMPOTENCY_HEADER = "Idempotency-Key"
POST_STATES = get_args(PostState)


class PostAccepted(BaseModel):
    id: str
    state: PostState


class PostQuery(PageQuery):
    state: PostState | None = Field(default=None, description="Only posts in this state.")


class PostHeaders(BaseModel):
    idempotency_key: str = Field(
        alias=IDEMPOTENCY_HEADER, min_length=1, max_length=200,
        description="The same key with the same body returns the first post; a different body → 409.",
    )


class PostPage(BaseModel):
    data: list[PostOut]
    next_cursor: str | None


def _idempotency_key(request: web.Request) -> str:
    # missing_idempotency_key / invalid_idempotency_key (webhooks.params names the codes)
    return parse_headers(request, PostHeaders).idempotency_key


def _fingerprint(body: PostRequest) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@routes.post("/v1/accounts/{account_id}/posts")
async def create_post(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    tenant_id = tenant_of(request)
    account = await account_store.get_for_tenant(services.store, tenant_id, request.match_info["account_id"])
    if account is None:
        raise not_found("account")
    dry_run = _dry_run(request)
    key = _idempotency_key(request)
    if is_interface_platform(account.get("platform")):
        return await create_platform_post(request, account, tenant_id, key, dry_run=dry_run)
    body = await parse_body(request, PostRequest)
    fingerprint = _fingerprint(body)
    existing = await post_store.find_by_idempotency_key(services.store, tenant_id, key)
    if existing is not None:
        replay = _replay(existing, fingerprint, account["_id"])
        if not dry_run:
            return replay
    now = clock.now()
    try:
        check_post(body, account=account, now=now,
                   horizon=timedelta(days=services.settings.publish_schedule_horizon_days))
    except PostRejected as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    if dry_run:
        return await _dry_run_answer(services, account, body, now, existing)
    doc = new_post_doc(tenant_id=tenant_id, account=account, key=key, fingerprint=fingerprint,
                       request=body.model_dump(mode="python"), now=now)
    stored, created = await post_store.insert_or_existing(services.store, doc)
    if not created:
        return _replay(stored, fingerprint, account["_id"])
    # A crash before this line leaves a stored post without a job: the sweep cron enqueues it.
    delay = (body.publish_at - now).total_seconds() if body.publish_at else None
    await queue.enqueue(services.redis, queue.PUBLISH_ADVANCE, doc["_id"], 0,
                        job_id=queue.publish_job_id(doc["_id"], 0), defer_seconds=delay)
    return web.json_response(PostAccepted(id=doc["_id"], state="scheduled").model_dump(), status=202)


class DryRunAnswer(BaseModel):
    valid: bool = True
    would_publish_at: datetime
    quota_left: int | None = Field(description="Publishes left in the platform's window; null when the platform does not say (TikTok).")
    existing_post_id: str | None = None


def _dry_run(request: web.Request) -> bool:
    raw = request.query.get("dry_run", "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise ApiError(400, "invalid_dry_run", "dry_run must be true or false.")
    return raw in ("true", "1")


async def _dry_run_answer(services: Any, account: dict[str, Any], body: PostRequest, now: datetime,
                          existing: dict[str, Any] | None) -> web.Response:
    """What the request would do: every check passed; nothing stored, nothing enqueued. The
    quota is an estimate from Meta's last answer and our own posts (publish_quota.py)."""
    at = body.publish_at or now
    quota = await publish_quota.estimate(services.redis, services.store, account["external_id"], at)
    answer = DryRunAnswer(would_publish_at=max(at, quota.frees_at or at), quota_left=quota.left,
                          existing_post_id=existing["_id"] if existing else None)
    return web.json_response(answer.model_dump(mode="json"))


def _replay(existing: dict[str, Any], fingerprint: str, account_id: str) -> web.Response:
    if existing["fingerprint"] != fingerprint or existing["account_id"] != account_id:
        raise ApiError(409, "idempotency_key_conflict",
                       f"This {IDEMPOTENCY_HEADER} was used for a different post ({existing['_id']}).")
    accepted = PostAccepted(id=existing["_id"], state=existing["state"])
    return web.json_response(accepted.model_dump(), status=202)


@routes.get("/v1/posts/{post_id}")
async def get_post(request: web.Request) -> web.Response:
    doc = await post_store.get_for_tenant(request.app[SERVICES].store, tenant_of(request), request.match_info["post_id"])
    if doc is None:
        raise not_found("post")
    return web.json_response(PostOut.from_doc(doc).model_dump(mode="json"))


@routes.get("/v1/accounts/{account_id}/posts")
async def list_posts(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    tenant_id = tenant_of(request)
    account = await account_store.get_for_tenant(services.store, tenant_id, request.match_info["account_id"])
    if account is None:
        raise not_found("account")
    q = parse_query(request, PostQuery)
    scope, limit = f"posts:{account['_id']}:{q.state}", q.limit
    docs = await post_store.list_for_account(
        services.store, tenant_id, account["_id"], state=q.state, limit=limit + 1,
        after=open_cursor(request, scope, q.cursor),
    )
    page = PostPage(
        data=[PostOut.from_doc(d) for d in docs[:limit]],
        next_cursor=next_cursor(request, scope, docs[limit - 1]["_id"]) if len(docs) > limit else None,
    )
    return web.json_response(page.model_dump(mode="json"))


@routes.delete("/v1/posts/{post_id}")
async def cancel_post(request: web.Request) -> web.Response:
    try:  # the same path as the ops console's "Cancel"
        doc = await operations.cancel_post(request.app[SERVICES], tenant_of(request), request.match_info["post_id"])
    except operations.Missing:
        raise not_found("post") from None
    except operations.Refused as exc:
        raise ApiError(409, exc.code, exc.message) from None
    return web.json_response(PostOut.from_doc(doc).model_dump(mode="json"))


OPENAPI_MODELS = (PostRequest, PostAccepted, PostOut, PostPage, DryRunAnswer)
CONFLICT = {"409": json_body(ErrorOut, "Conflict; `error.code` says which.")}
OPENAPI_PATHS = {
    "/v1/accounts/{account_id}/posts": {
        "post": {
            "summary": "Publish a post now or at publish_at (image, reel, carousel, story)",
            "parameters": [
                path_param("account_id"),
                *parameters(headers=PostHeaders),
                {"name": "dry_run", "in": "query", "schema": {"type": "boolean"},
                 "description": "Run every check and answer what would happen (200); store and enqueue nothing."},
            ],
            "requestBody": request_body(PostRequest),
            "responses": {
                "200": json_body(DryRunAnswer, "dry_run=true: the request is valid; when it would publish, quota left"),
                "202": json_body(PostAccepted, "Accepted (or the post first created with this key)"),
                "403": json_body(ErrorOut, "missing_publish_scope"),
                **CONFLICT, **NOT_FOUND, **ERRORS,
            },
        },
        "get": {
            "summary": "The account's posts, newest first",
            "parameters": [
                path_param("account_id"),
                *parameters(query=PostQuery),
            ],
            "responses": {"200": json_body(PostPage, "A page of posts"), **NOT_FOUND, **ERRORS},
        },
    },
    "/v1/posts/{post_id}": {
        "get": {
            "summary": "One post: state, reason, media id, permalink, error, attempts",
            "parameters": [path_param("post_id")],
            "responses": {"200": json_body(PostOut, "The post"), **NOT_FOUND, **ERRORS},
        },
        "delete": {
            "summary": "Cancel a post that is not yet publishing",
            "parameters": [path_param("post_id")],
            "responses": {"200": json_body(PostOut, "The cancelled post"), **CONFLICT, **NOT_FOUND, **ERRORS},
        },
    },
}
