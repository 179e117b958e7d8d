"""The CRM's publishing API: create a post (idempotent), read it, list an account's, cancel.

Nothing here calls a platform: a valid request is stored and its first job enqueued
(webhooks/routes/post_create.py, the same path for every platform); the worker does the rest
(socialsync.publishing.plugin_run driving the platform's Publisher).
"""

from __future__ import annotations

from typing import Any, get_args

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync import operations
from socialsync.platforms.registry import PLATFORMS, plugin_class
from socialsync.store import accounts as account_store
from socialsync.store import posts as post_store
from socialsync.store.posts import PostOut, PostState
from webhooks.auth import tenant_of
from webhooks.cursors import next_cursor, open_cursor
from webhooks.errors import ApiError, not_found
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, ErrorOut, json_body, parameters, path_param, ref
from webhooks.params import PageQuery, parse_headers, parse_query
from webhooks.routes.post_create import DryRunAnswer, PostAccepted, create_post as create_for_platform

routes = web.RouteTableDef()
IDEMPOTENCY_HEADER = "Idempotency-Key"
POST_STATES = get_args(PostState)


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


@routes.post("/v1/accounts/{account_id}/posts")
async def create_post(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    tenant_id = tenant_of(request)
    account = await account_store.get_for_tenant(services.store, tenant_id, request.match_info["account_id"])
    if account is None:
        raise not_found("account")
    dry_run = _dry_run(request)
    key = _idempotency_key(request)
    return await create_for_platform(request, account, tenant_id, key, dry_run=dry_run)


def _dry_run(request: web.Request) -> bool:
    raw = request.query.get("dry_run", "false").strip().lower()
    if raw not in ("true", "false", "1", "0"):
        raise ApiError(400, "invalid_dry_run", "dry_run must be true or false.")
    return raw in ("true", "1")


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


def _request_models() -> tuple[type[BaseModel], ...]:
    """The post bodies the platforms declare (``Platform.post_request_model``): one document."""
    models = (plugin_class(name).post_request_model for name in PLATFORMS)
    return tuple(dict.fromkeys(m for m in models if m is not None))


def _request_body(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    schema: dict[str, Any] = ref(models[0]) if len(models) == 1 else {"oneOf": [ref(m) for m in models]}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


REQUEST_MODELS = _request_models()
OPENAPI_MODELS = (*REQUEST_MODELS, PostAccepted, PostOut, PostPage, DryRunAnswer)
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
            "requestBody": _request_body(REQUEST_MODELS),
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
