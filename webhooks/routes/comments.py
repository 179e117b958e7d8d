"""Comments for the CRM: list an account's comments (threaded), and moderate one.

Moderation answers 202 with an action id at once; the worker performs the call through the API
and records the outcome (``GET /v1/actions/{id}``). Requests the platforms refuse (a reply to a
reply, a reply to a hidden comment) are refused here, before any call, with a specific code; a
platform without comments or moderation (its spec's capabilities) gets 422
``capability_unavailable``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from socialsync import queue
from socialsync.platforms.base import Capability
from socialsync.store import accounts as account_store
from socialsync.store import actions as action_store
from socialsync.store import comments as comment_store
from socialsync.store.actions import ActionOut
from socialsync.store.comments import CommentOut
from socialsync.store.migrations import platform_of
from webhooks.auth import tenant_of
from webhooks.cursors import next_cursor, open_cursor
from webhooks.errors import ApiError, not_found, parse_body
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, ErrorOut, json_body, parameters, path_param, request_body
from webhooks.params import DateTime, Flag, Id, PageQuery, parse_query

routes = web.RouteTableDef()


class CommentPage(BaseModel):
    data: list[CommentOut]
    next_cursor: str | None


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(min_length=1, max_length=2200)


class HideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hidden: bool


class CommentQuery(PageQuery):
    media_id: Id | None = Field(default=None, description="Only this media's comments.")
    since: DateTime | None = Field(default=None, description="Comments at or after (naive = UTC).")
    hidden: Flag | None = Field(default=None, description="Only hidden (true) or visible (false).")


def _out(doc: dict[str, Any]) -> dict[str, Any]:
    out = CommentOut.from_doc(doc)
    out.replies = [CommentOut.from_doc(r) for r in doc.get("replies", [])]
    return out.model_dump(mode="json", by_alias=True)


@routes.get("/v1/accounts/{account_id}/comments")
async def list_comments(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    account = await account_store.get_for_tenant(
        services.store, tenant_of(request), request.match_info["account_id"]
    )
    if account is None:
        raise not_found("account")
    plugin = services.platforms.for_account(account)
    if not plugin.spec.has(Capability.COMMENTS):
        raise ApiError(422, "capability_unavailable",
                       f"{plugin.spec.display_name} offers no comments API for creators.")
    q = parse_query(request, CommentQuery)
    scope = f"comments:{account['_id']}"
    try:
        docs, inner = await comment_store.list_threads(
            services.store, account["_id"], limit=q.limit, media_id=q.media_id, since=q.since,
            hidden=q.hidden, cursor=open_cursor(request, scope, q.cursor),
        )
    except comment_store.BadCursor:
        raise ApiError(400, "invalid_cursor", "cursor is not a next_cursor this API returned.") from None
    following = next_cursor(request, scope, inner) if inner else None
    return web.json_response({"data": [_out(d) for d in docs], "next_cursor": following})


async def _comment(request: web.Request) -> dict[str, Any]:
    doc = await comment_store.get_for_tenant(
        request.app[SERVICES].store, tenant_of(request), request.match_info["comment_id"]
    )
    if doc is None:
        raise not_found("comment")
    return doc


def _moderation_allowed(services: Any, account: dict[str, Any]) -> None:
    """422 before anything is queued: the platform has no moderation, or the person unticked
    the scope it needs on the consent screen (``extra.capabilities.moderate_comments``)."""
    plugin = services.platforms.for_account(account)
    # Instagram's moderation is its ``action_moderation`` part (worker/jobs/comments.py)
    moderates = plugin.moderate is not None or getattr(plugin, "action_moderation", None) is not None
    if not plugin.spec.has(Capability.MODERATION) or not moderates:
        raise ApiError(422, "capability_unavailable",
                       f"{plugin.spec.display_name} offers no comment moderation for creators.")
    if ((account.get("extra") or {}).get("capabilities") or {}).get("moderate_comments") is False:
        raise ApiError(422, "missing_scope",
                       f"The {plugin.spec.display_name} grant lacks the moderation scope; reconnect and allow it.")


def _platform_name(services: Any, comment: dict[str, Any]) -> str:
    return services.platforms.get(platform_of(comment)).spec.display_name


async def _start(request: web.Request, comment: dict[str, Any], kind: str, params: dict[str, Any]) -> web.Response:
    services = request.app[SERVICES]
    account = await account_store.get(services.store, comment["account_id"])
    if account is None or account.get("status") != "active":
        raise ApiError(
            409, "account_unavailable",
            "The comment's account is not active (disconnected or needs reconnect); reconnect it first.",
        )
    _moderation_allowed(services, account)
    action = await action_store.create(
        services.store, tenant_id=comment["tenant_id"], account_id=comment["account_id"],
        comment_id=comment["comment_id"], kind=kind, params=params,  # type: ignore[arg-type]
        platform=platform_of(account),
    )
    # one job for every platform: it dispatches to Instagram's moderation or the plugin's part
    await queue.enqueue(
        services.redis, queue.COMMENTS_PERFORM_ACTION, action["_id"],
        job_id=queue.comment_action_job_id(action["_id"]),
    )
    return web.json_response(ActionOut.from_doc(action).model_dump(mode="json"), status=202)


@routes.post("/v1/comments/{comment_id}/reply")
async def reply(request: web.Request) -> web.Response:
    body = await parse_body(request, ReplyIn)
    comment = await _comment(request)
    name = _platform_name(request.app[SERVICES], comment)
    if comment.get("parent_id"):
        raise ApiError(
            422, "cannot_reply_to_reply",
            f"{name} only accepts replies to top-level comments; reply to the parent comment instead.",
            parent_id=comment["parent_id"],
        )
    if comment.get("hidden"):
        raise ApiError(422, "cannot_reply_to_hidden",
                       f"{name} does not accept replies to a hidden comment; unhide it first.")
    return await _start(request, comment, "reply", {"message": body.message})


@routes.post("/v1/comments/{comment_id}/hide")
async def hide(request: web.Request) -> web.Response:
    body = await parse_body(request, HideIn)
    comment = await _comment(request)
    return await _start(request, comment, "hide", {"hidden": body.hidden})


@routes.delete("/v1/comments/{comment_id}")
async def delete(request: web.Request) -> web.Response:
    comment = await _comment(request)
    return await _start(request, comment, "delete", {})


ACCEPTED = {"202": json_body(ActionOut, "Accepted: the action id; poll GET /v1/actions/{id}")}
CONFLICT = {"409": json_body(ErrorOut, "account_unavailable: the account is not active")}
OPENAPI_MODELS = (CommentOut, CommentPage, ReplyIn, HideIn, ActionOut)
OPENAPI_PATHS = {
    "/v1/accounts/{account_id}/comments": {
        "get": {
            "summary": "An account's comments, newest first, each with its replies",
            "parameters": [path_param("account_id"), *parameters(query=CommentQuery)],
            "responses": {"200": json_body(CommentPage, "A page of comment threads"), **NOT_FOUND, **ERRORS},
        }
    },
    "/v1/comments/{comment_id}/reply": {
        "post": {
            "summary": "Reply to a top-level, visible comment (performed by the worker)",
            "parameters": [path_param("comment_id")],
            "requestBody": request_body(ReplyIn),
            "responses": {
                **ACCEPTED, **NOT_FOUND, **ERRORS, **CONFLICT,
                "422": json_body(ErrorOut, "cannot_reply_to_reply / cannot_reply_to_hidden / capability_unavailable"
                                          " / missing_scope"),
            },
        }
    },
    "/v1/comments/{comment_id}/hide": {
        "post": {
            "summary": "Hide or unhide a comment (performed by the worker)",
            "parameters": [path_param("comment_id")],
            "requestBody": request_body(HideIn),
            "responses": {**ACCEPTED, **NOT_FOUND, **ERRORS, **CONFLICT},
        }
    },
    "/v1/comments/{comment_id}": {
        "delete": {
            "summary": "Delete a comment (performed by the worker)",
            "parameters": [path_param("comment_id")],
            "responses": {**ACCEPTED, **NOT_FOUND, **ERRORS, **CONFLICT},
        }
    },
}
