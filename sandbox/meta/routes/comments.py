"""Comment endpoints on both Graph hosts (PLATFORM_FACTS.md §2), and mention lookups.

``GET /{media-id}/comments``, ``POST /{media-id}/comments?message=``, ``GET /{comment-id}/replies``,
``POST /{comment-id}/replies?message=`` (top-level, visible comments only), ``GET /{comment-id}``,
``POST /{comment-id}?hide=true|false``, ``DELETE /{comment-id}``; and on graph.facebook.com
``GET /{ig-user-id}?fields=mentioned_comment.comment_id(…){…}`` / ``mentioned_media.media_id(…){…}``.
Only the media owner's token may read or moderate; calls are charged to the owner's BUC budget.
``/{id}`` is dispatched by routes/nodes.py (comment, mention lookup, media, or user/page).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from aiohttp import web

from sandbox.dispatch import path_param
from sandbox.meta.access import Caller, authenticate
from sandbox.meta.comments import Comment, CommentWorld, comments_of
from sandbox.meta.world import Meta, charge_ig_account, meta_of
from sandbox.meta.errors import GraphError, invalid_parameter, unsupported_request
from sandbox.meta.fields import FieldRequest, check_subfields, nonexisting_field, parse_fields
from sandbox.meta.hosts import FACEBOOK_GRAPH, INSTAGRAM_GRAPH, VERSION, host_of
from sandbox.meta.media import Media
from sandbox.meta.routes.graph import reachable_node

routes = web.RouteTableDef()

COMMENT_FIELDS = ("id", "text", "timestamp", "username", "from", "like_count", "hidden", "parent_id", "media", "replies", "user")
DEFAULT_FIELDS = ("id", "text", "timestamp")
MEDIA_SUBFIELDS = ("id", "media_product_type", "permalink", "username", "caption", "timestamp")
PAGE_SIZE, MAX_PAGE = 25, 100
MESSAGE_MAX = 2200


def _paths(suffix: str) -> list[str]:
    return [f"/{host}/{v}{suffix}" for host in (INSTAGRAM_GRAPH, FACEBOOK_GRAPH) for v in (f"{VERSION}/", "")]


def _manage_scope(caller: Caller) -> None:
    caller.require_scope(
        "instagram_business_manage_comments" if caller.ig_account is not None else "instagram_manage_comments"
    )


def caller_owns(sandbox: Meta, caller: Caller, ig_user_id: str) -> bool:
    if caller.ig_account is not None:
        return caller.ig_account.ig_user_id == ig_user_id
    return reachable_node(sandbox, caller, ig_user_id) is not None


def _media(request: web.Request, sandbox: Meta, caller: Caller, media_id: str) -> Media:
    media = sandbox.state.media.get(media_id)
    if media is None or not caller_owns(sandbox, caller, media.ig_user_id):
        raise unsupported_request(request.method, media_id)
    charge_ig_account(request, media.ig_user_id)
    _manage_scope(caller)
    return media


def _comment(request: web.Request, sandbox: Meta, caller: Caller, comment_id: str) -> Comment:
    comment = comments_of(sandbox.state).get(comment_id)
    if comment is None or not caller_owns(sandbox, caller, comment.owner_ig_id):
        raise unsupported_request(request.method, comment_id)
    charge_ig_account(request, comment.owner_ig_id)
    _manage_scope(caller)
    return comment


def _fields(request: web.Request) -> list[FieldRequest]:
    raw = request.query.get("fields", "")
    fields = parse_fields(raw) if raw.strip() else [FieldRequest(n) for n in DEFAULT_FIELDS]
    for f in fields:
        if f.name not in COMMENT_FIELDS:
            raise nonexisting_field(f.name, "IGComment")
    return fields


def render(sandbox: Meta, world: CommentWorld, c: Comment, fields: list[FieldRequest]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.name == "text":
            out["text"] = c.text
        elif f.name == "timestamp":
            out["timestamp"] = sandbox.clock.iso(c.timestamp)
        elif f.name == "username":
            out["username"] = c.username
        elif f.name == "from":
            out["from"] = {"id": c.from_id, "username": c.username}
        elif f.name == "user":
            out["user"] = {"id": c.from_id}
        elif f.name == "like_count":
            out["like_count"] = c.like_count
        elif f.name == "hidden":
            out["hidden"] = c.hidden
        elif f.name == "parent_id" and c.parent_id:
            out["parent_id"] = c.parent_id
        elif f.name == "media":
            media = sandbox.state.media.by_id.get(c.media_id)
            check_subfields(f, MEDIA_SUBFIELDS, "IGMedia")
            values = {
                "id": c.media_id,
                "media_product_type": media.media_product_type if media else None,
                "permalink": media.permalink if media else None,
                "caption": media.caption if media else None,
                "timestamp": sandbox.clock.iso(media.timestamp) if media else None,
                "username": (sandbox.state.ig_accounts[media.ig_user_id].username
                             if media and media.ig_user_id in sandbox.state.ig_accounts else None),
            }
            out["media"] = {k: values[k] for k in (f.subfields or ("id",))} | {"id": c.media_id}
        elif f.name == "replies" and not c.parent_id:
            sub = [FieldRequest(n) for n in (f.subfields or DEFAULT_FIELDS)]
            for s in sub:
                if s.name not in COMMENT_FIELDS or s.name == "replies":
                    raise nonexisting_field(s.name, "IGComment")
            out["replies"] = {"data": [render(sandbox, world, r, sub) for r in world.replies_of(c.comment_id)]}
    out["id"] = c.comment_id
    return out


def _cursor(cid: str) -> str:
    return base64.urlsafe_b64encode(f"comment:{cid}".encode()).decode().rstrip("=")


def _page(request: web.Request, sandbox: Meta, world: CommentWorld, items: list[Comment]) -> dict[str, Any]:
    try:
        limit = max(1, min(MAX_PAGE, int(request.query.get("limit", PAGE_SIZE))))
    except ValueError:
        raise invalid_parameter("(#100) Param limit must be an integer") from None
    start = 0
    if "after" in request.query:
        raw = request.query["after"]
        try:
            kind, _, cid = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise invalid_parameter("(#100) Invalid cursor") from None
        ids = [c.comment_id for c in items]
        if kind != "comment" or cid not in ids:
            raise invalid_parameter("(#100) Invalid cursor")
        start = ids.index(cid) + 1
    fields = _fields(request)
    window = items[start : start + limit]
    body: dict[str, Any] = {"data": [render(sandbox, world, c, fields) for c in window]}
    if window:
        body["paging"] = {"cursors": {"before": _cursor(window[0].comment_id), "after": _cursor(window[-1].comment_id)}}
        if start + limit < len(items):
            body["paging"]["next"] = str(request.url.update_query(after=_cursor(window[-1].comment_id)))
    return body


async def _message(request: web.Request) -> str:
    message = request.query.get("message")
    if message is None and request.method == "POST":
        form = await request.post()
        value = form.get("message")
        message = value if isinstance(value, str) else None
    if not message:
        raise invalid_parameter("(#100) The parameter message is required")
    if len(message) > MESSAGE_MAX:
        raise invalid_parameter("(#100) The message is too long")
    return message


async def _param(request: web.Request, name: str) -> str | None:
    if name in request.query:
        return request.query[name]
    if request.method == "POST":
        form = await request.post()
        value = form.get(name)
        return value if isinstance(value, str) else None
    return None


def _own_comment(sandbox: Meta, world: CommentWorld, caller: Caller, media: Media, text: str, parent: str | None) -> Comment:
    owner = sandbox.state.ig_accounts[media.ig_user_id]
    return world.add(Comment(
        comment_id=world.new_id(), media_id=media.media_id, owner_ig_id=media.ig_user_id, text=text,
        username=owner.username, from_id=owner.ig_user_id, timestamp=sandbox.clock.now(), parent_id=parent,
    ))


# --- /{media-id}/comments -----------------------------------------------------------------------
async def list_media_comments(request: web.Request) -> web.Response:
    sandbox = meta_of(request)
    caller = await authenticate(request, host_of(request.path))
    media = _media(request, sandbox, caller, path_param(request, "node"))
    world = comments_of(sandbox.state)
    return web.json_response(_page(request, sandbox, world, list(reversed(world.of_media(media.media_id)))))


async def create_media_comment(request: web.Request) -> web.Response:
    sandbox = meta_of(request)
    caller = await authenticate(request, host_of(request.path))
    media = _media(request, sandbox, caller, path_param(request, "node"))
    if not media.comment_enabled:
        raise GraphError(100, "(#100) Comments are disabled for this media")
    text = await _message(request)
    comment = _own_comment(sandbox, comments_of(sandbox.state), caller, media, text, None)
    return web.json_response({"id": comment.comment_id})


# --- /{comment-id}/replies ----------------------------------------------------------------------
async def list_replies(request: web.Request) -> web.Response:
    sandbox = meta_of(request)
    caller = await authenticate(request, host_of(request.path))
    comment = _comment(request, sandbox, caller, path_param(request, "node"))
    world = comments_of(sandbox.state)
    return web.json_response(_page(request, sandbox, world, world.replies_of(comment.comment_id)))


async def create_reply(request: web.Request) -> web.Response:
    sandbox = meta_of(request)
    caller = await authenticate(request, host_of(request.path))
    comment = _comment(request, sandbox, caller, path_param(request, "node"))
    if comment.parent_id:
        raise GraphError(100, "(#100) Replies can only be made to top-level comments", subcode=2534023)
    if comment.hidden:
        raise GraphError(100, "(#100) Cannot reply to a hidden comment", subcode=2534024)
    text = await _message(request)
    media = sandbox.state.media.get(comment.media_id)
    if media is None:
        raise unsupported_request(request.method, comment.media_id)
    reply = _own_comment(sandbox, comments_of(sandbox.state), caller, media, text, comment.comment_id)
    return web.json_response({"id": reply.comment_id})


# --- /{comment-id} ------------------------------------------------------------------------------
# routes/nodes.py sends ``/{id}`` here when the id is a comment.
async def read_comment(request: web.Request) -> web.StreamResponse:
    sandbox = meta_of(request)
    node = path_param(request, "node")
    caller = await authenticate(request, host_of(request.path))
    comment = _comment(request, sandbox, caller, node)
    return web.json_response(render(sandbox, comments_of(sandbox.state), comment, _fields(request)))


async def hide_comment(request: web.Request) -> web.StreamResponse:
    sandbox = meta_of(request)
    node = path_param(request, "node")
    caller = await authenticate(request, host_of(request.path))
    comment = _comment(request, sandbox, caller, node)
    hide = await _param(request, "hide")
    if hide not in ("true", "false"):
        raise invalid_parameter("(#100) Param hide must be a boolean")
    comment.hidden = hide == "true"
    return web.json_response({"success": True})


async def delete_comment(request: web.Request) -> web.StreamResponse:
    sandbox = meta_of(request)
    node = path_param(request, "node")
    caller = await authenticate(request, host_of(request.path))
    comment = _comment(request, sandbox, caller, node)
    comments_of(sandbox.state).delete(comment)
    return web.json_response({"success": True})


# --- mentions (graph.facebook.com) --------------------------------------------------------------
_MENTION = re.compile(r"^(mentioned_comment|mentioned_media)\.(comment_id|media_id)\((\d+)\)$")


async def mentions(request: web.Request) -> web.Response:
    sandbox = meta_of(request)
    caller = await authenticate(request, FACEBOOK_GRAPH)
    node = path_param(request, "node")
    if caller.ig_account is not None or reachable_node(sandbox, caller, node) is None:
        raise unsupported_request(request.method, node)
    account = sandbox.state.ig_accounts.get(node)
    if account is None:
        raise unsupported_request(request.method, node)
    charge_ig_account(request, node)
    caller.require_scope("instagram_manage_comments")
    world = comments_of(sandbox.state)
    out: dict[str, Any] = {"id": node}
    for f in parse_fields(request.query.get("fields", "")):
        match = _MENTION.match(f.name)
        if f.name == "id":
            continue
        if match is None:
            raise nonexisting_field(f.name, "IGUser")
        kind, _, target = match.groups()
        if kind == "mentioned_comment":
            comment = world.get(target)
            if comment is None or f"@{account.username}".lower() not in comment.text.lower():
                raise unsupported_request(request.method, target)
            sub = [FieldRequest(n) for n in (f.subfields or ("id",))]
            for s in sub:
                if s.name.partition("{")[0] not in ("id", "text", "timestamp", "like_count", "media"):
                    raise nonexisting_field(s.name, "IGComment")
            sub = [FieldRequest(s.name.partition("{")[0], tuple(x.strip() for x in s.name.partition("{")[2].rstrip("}").split(",")) if "{" in s.name else None) for s in sub]
            out["mentioned_comment"] = render(sandbox, world, comment, sub)
        else:
            media = sandbox.state.media.get(target)
            if media is None or f"@{account.username}".lower() not in media.caption.lower():
                raise unsupported_request(request.method, target)
            owner = sandbox.state.ig_accounts.get(media.ig_user_id)
            values = {
                "id": media.media_id, "caption": media.caption, "timestamp": sandbox.clock.iso(media.timestamp),
                "permalink": media.permalink, "username": owner.username if owner else None,
                "media_type": media.media_type, "like_count": media.like_count, "comments_count": media.comments_count,
            }
            wanted = f.subfields or ("id",)
            for name in wanted:
                if name not in values:
                    raise nonexisting_field(name, "IGMedia")
            out["mentioned_media"] = {k: values[k] for k in wanted} | {"id": media.media_id}
    return web.json_response(out)


for _path in _paths("{node:\\d+}/comments"):
    routes.get(_path)(list_media_comments)
    routes.post(_path)(create_media_comment)
for _path in _paths("{node:\\d+}/replies"):
    routes.get(_path)(list_replies)
    routes.post(_path)(create_reply)
