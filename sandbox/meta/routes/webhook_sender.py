"""Control calls that make the sandbox act like Meta towards the receiver.

- ``POST /_sandbox/webhooks/config`` ``{"url", "app"?}``: where (and signed with which app
  secret) deliveries go; ``GET`` shows it and the last deliveries.
- ``POST /_sandbox/webhooks/send``: deliver arbitrary changes, signed like Meta, in one batch or
  one POST each, in either entry shape, N times (duplicates), re-delivered at once on non-200,
  or with a missing / wrong / re-serialised signature.
- ``POST /_sandbox/comments``: someone comments (or replies) on a media; when the owner is
  subscribed to ``comments`` and a receiver is configured (or ``url`` given) the webhook goes out.
- ``POST /_sandbox/signed_request``: a ``signed_request`` as Meta posts to the privacy callbacks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from sandbox.meta.comments import APP_SECRETS, AppName, Comment, Signature, build_payloads, comment_value, comments_of, post_signed
from sandbox.meta.world import meta_of
from sandbox.control_api import control_error, parse_body

routes = web.RouteTableDef()
MAX_LOG = 200


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReceiverConfig(_Body):
    url: str | None
    app: AppName = "meta"


class ChangeSpec(_Body):
    account: str = Field(description="IG user id or username of the account the event is for")
    field: str = "comments"
    value: Any


class SendBody(_Body):
    url: str | None = None
    app: AppName | None = None
    changes: list[ChangeSpec] = Field(default_factory=list)
    raw_body: str | None = Field(default=None, description="Send exactly this body (signed as asked).")
    shape: Literal["changes", "flat"] = "changes"
    batch: bool = True
    duplicates: int = Field(default=1, ge=1, le=100)
    retries: int = Field(default=0, ge=0, le=20, description="Immediate re-deliveries after a non-200.")
    signature: Signature = "valid"


class NewComment(_Body):
    media_id: str
    text: str = Field(min_length=1, max_length=2200)
    username: str = "a_follower"
    from_id: str = "17841499999990001"
    parent_id: str | None = None
    field: Literal["comments", "live_comments"] = "comments"
    deliver: bool = True
    url: str | None = None
    duplicates: int = Field(default=1, ge=1, le=100)


class SignedRequestBody(_Body):
    user_id: str
    app: AppName = "meta"
    algorithm: str = "HMAC-SHA256"
    issued_at: int | None = None


def _target(world: Any, url: str | None) -> str:
    target = url or world.receiver_url
    if not target:
        raise control_error(400, "no_receiver", "no url given and none configured (POST /_sandbox/webhooks/config)")
    return target


async def _deliver(world: Any, url: str, bodies: list[bytes], *, app: AppName, duplicates: int, retries: int,
                   signature: Signature) -> list[dict[str, Any]]:
    results = []
    for body in bodies:
        for _ in range(duplicates):
            result = await post_signed(url, body, app=app, signature=signature, retries=retries)
            results.append(result)
            world.deliveries.append(result)
    del world.deliveries[:-MAX_LOG]
    return results


@routes.get("/_sandbox/webhooks/config")
async def get_config(request: web.Request) -> web.Response:
    world = comments_of(meta_of(request).state)
    return web.json_response({"url": world.receiver_url, "app": world.receiver_app, "deliveries": world.deliveries[-50:]})


@routes.post("/_sandbox/webhooks/config")
async def set_config(request: web.Request) -> web.Response:
    body = await parse_body(request, ReceiverConfig)
    world = comments_of(meta_of(request).state)
    world.receiver_url, world.receiver_app = body.url, body.app
    return web.json_response({"url": world.receiver_url, "app": world.receiver_app})


@routes.post("/_sandbox/webhooks/send")
async def send(request: web.Request) -> web.Response:
    sandbox = meta_of(request)
    body = await parse_body(request, SendBody)
    world = comments_of(sandbox.state)
    url = _target(world, body.url)
    if body.raw_body is not None:
        bodies = [body.raw_body.encode()]
    else:
        if not body.changes:
            raise control_error(400, "invalid_body", "give changes or raw_body")
        changes = []
        for c in body.changes:
            account = sandbox.state.find_ig_account(c.account)
            changes.append({"account": account.ig_user_id if account else c.account, "field": c.field, "value": c.value})
        bodies = build_payloads(changes, shape=body.shape, batch=body.batch, now=sandbox.clock.now())
    results = await _deliver(
        world, url, bodies, app=body.app or world.receiver_app, duplicates=body.duplicates,
        retries=body.retries, signature=body.signature,
    )
    return web.json_response({"posts": results, "bodies": [b.decode() for b in bodies] if len(bodies) <= 10 else len(bodies)})


@routes.post("/_sandbox/comments")
async def new_comment(request: web.Request) -> web.Response:
    sandbox = meta_of(request)
    body = await parse_body(request, NewComment)
    world = comments_of(sandbox.state)
    media = sandbox.state.media.get(body.media_id)
    if media is None:
        raise control_error(404, "not_found", f"no media {body.media_id}")
    if body.parent_id is not None:
        parent = world.get(body.parent_id)
        if parent is None or parent.media_id != media.media_id or parent.parent_id:
            raise control_error(400, "invalid_parent", "parent_id must be a top-level comment of that media")
    comment = world.add(Comment(
        comment_id=world.new_id(), media_id=media.media_id, owner_ig_id=media.ig_user_id, text=body.text,
        username=body.username, from_id=body.from_id, timestamp=sandbox.clock.now(), parent_id=body.parent_id,
        live=body.field == "live_comments",
    ))
    delivery = None
    subscribed = body.field in world.subscriptions.get(media.ig_user_id, set())
    if body.deliver and (body.url or (world.receiver_url and subscribed)):
        bodies = build_payloads(
            [{"account": media.ig_user_id, "field": body.field, "value": comment_value(world, comment)}],
            shape="changes", batch=True, now=sandbox.clock.now(),
        )
        delivery = await _deliver(world, _target(world, body.url), bodies, app=world.receiver_app,
                                  duplicates=body.duplicates, retries=0, signature="valid")
    return web.json_response(
        {"id": comment.comment_id, "media_id": media.media_id, "owner": media.ig_user_id,
         "subscribed": subscribed, "deliveries": delivery},
        status=201,
    )


@routes.post("/_sandbox/signed_request")
async def signed_request(request: web.Request) -> web.Response:
    sandbox = meta_of(request)
    body = await parse_body(request, SignedRequestBody)
    payload = {
        "algorithm": body.algorithm,
        "issued_at": body.issued_at if body.issued_at is not None else int(sandbox.clock.now()),
        "user_id": body.user_id,
    }
    encoded = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=")
    sig = hmac.new(APP_SECRETS[body.app].encode(), encoded, hashlib.sha256).digest()
    value = base64.urlsafe_b64encode(sig).rstrip(b"=").decode() + "." + encoded.decode()
    return web.json_response({"signed_request": value, "payload": payload})
