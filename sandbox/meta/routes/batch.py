"""graph.facebook.com only: ``GET /?ids=a,b`` (each id is one call) and ``POST /?batch=[…]``
(≤ 50; each sub-request is one call, answered in order as ``{code, headers, body}``).
Sub-requests are dispatched in-process through the same routes (``sandbox/dispatch.py``).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sandbox.dispatch import match_of, resolve_sub_request
from sandbox.meta.access import authenticate
from sandbox.meta.errors import GraphError, invalid_parameter, unsupported_request
from sandbox.meta.fields import FieldRequest
from sandbox.meta.hosts import FACEBOOK_GRAPH, VERSION
from sandbox.meta.media_view import fields_of, media_for, media_node, owner_account, read_scope
from sandbox.meta.routes import graph
from sandbox.meta.usage import BUC_SUBJECT
from sandbox.meta.world import PLATFORM, Meta, meta_of

routes = web.RouteTableDef()

MAX_BATCH = 50


def _count_extra(request: web.Request, sandbox: Meta, endpoint: str, account: str | None) -> None:
    """One more call as Meta counts them (a multi-id id beyond the first)."""
    sandbox.stats.count(f"{request.method} {endpoint}", account, PLATFORM)


@routes.get(f"/{FACEBOOK_GRAPH}/{VERSION}/")
@routes.get(f"/{FACEBOOK_GRAPH}/{VERSION}")
@routes.get(f"/{FACEBOOK_GRAPH}/")
async def multi_id(request: web.Request) -> web.Response:
    """``GET /?ids=a,b&fields=…`` → ``{a: {...}, b: {...}}``; each id is one call."""
    caller = await authenticate(request, FACEBOOK_GRAPH)
    sandbox = meta_of(request)
    ids = [i.strip() for i in request.query.get("ids", "").split(",") if i.strip()]
    if not ids:
        raise invalid_parameter("(#100) The parameter ids is required")
    if len(ids) > 50:
        raise invalid_parameter("(#100) Too many IDs. Maximum: 50")
    read_scope(caller)
    fields = fields_of(request)
    resource = match_of(request).route.resource
    endpoint = resource.canonical if resource is not None else ""
    body: dict[str, Any] = {}
    for index, node in enumerate(ids):
        if index > 0:
            sandbox.usage.charge_app()
        media = media_for(sandbox, caller, node)
        if media is not None:
            owner = media.ig_user_id
            if index > 0:
                _count_extra(request, sandbox, endpoint, owner)
            sandbox.usage.charge_account(owner)
            request[BUC_SUBJECT] = owner
            body[node] = media_node(request, sandbox, media, fields)
            continue
        account = owner_account(sandbox, caller, node)
        if account is None:
            raise unsupported_request(request.method, node)
        if index > 0:
            _count_extra(request, sandbox, endpoint, account.ig_user_id)
        sandbox.usage.charge_account(account.ig_user_id)
        request[BUC_SUBJECT] = account.ig_user_id
        body[node] = graph.ig_user_node(
            request, account, [f for f in fields if f.name in graph.FB_IG_USER_FIELDS] or [FieldRequest("id")],
            node_id=node,
        )
    return web.json_response(body)


@routes.post(f"/{FACEBOOK_GRAPH}/{VERSION}/")
@routes.post(f"/{FACEBOOK_GRAPH}/{VERSION}")
@routes.post(f"/{FACEBOOK_GRAPH}/")
async def batch(request: web.Request) -> web.Response:
    """``POST /?batch=[{method, relative_url}…]`` (≤ 50): each sub-request is one call, answered
    in order as ``{code, headers, body}`` (body a JSON string), errors included. Sub-requests
    are GETs (reads), dispatched in-process through the same routes."""
    template = request.clone()  # before the body is read: sub-requests are cloned from it
    form = await request.post() if request.content_type == "application/x-www-form-urlencoded" else {}
    raw = request.query.get("batch") or form.get("batch")
    await authenticate(request, FACEBOOK_GRAPH)  # the batch's own token must be valid
    token = request.query.get("access_token") or form.get("access_token")
    try:
        subs = json.loads(str(raw)) if raw else None
    except json.JSONDecodeError:
        subs = None
    if not isinstance(subs, list) or not subs:
        raise invalid_parameter("(#100) The parameter batch must be a JSON array")
    if len(subs) > MAX_BATCH:
        raise invalid_parameter(f"(#100) Too many requests in batch message. Maximum batch size: {MAX_BATCH}")
    sandbox = meta_of(request)
    out = []
    for index, sub in enumerate(subs):
        if not isinstance(sub, dict) or "relative_url" not in sub:
            raise invalid_parameter("(#100) Each batch item needs method and relative_url")
        out.append(await _run_sub(template, sandbox, sub, token, charge_app=index > 0))
    return web.json_response(out)


async def _run_sub(
    request: web.Request, sandbox: Meta, sub: dict[str, Any], token: object, *, charge_app: bool
) -> dict[str, Any]:
    method = str(sub.get("method", "GET")).upper()
    if method != "GET":
        raise invalid_parameter("(#100) The sandbox batches GET sub-requests only")
    relative = str(sub["relative_url"]).lstrip("/")
    url = f"/{FACEBOOK_GRAPH}/{relative}"
    if token and "access_token=" not in relative:
        url += ("&" if "?" in url else "?") + f"access_token={token}"
    clone, match = await resolve_sub_request(request, method=method, rel_url=url)
    headers: list[dict[str, str]] = []
    try:
        if charge_app:
            sandbox.usage.charge_app()
        if match.http_exception is not None:
            raise unsupported_request(method, relative.split("?")[0].rsplit("/", 1)[-1])
        response = await match.handler(clone)
        status, text = response.status, response.text or ""
    except GraphError as exc:
        response = exc.response()
        status, text = exc.status, response.text or ""
    subject = clone.get(BUC_SUBJECT)
    if subject is not None:
        headers.append({"name": "X-Business-Use-Case-Usage",
                        "value": json.dumps({subject: [sandbox.usage.account_usage(subject)]}, separators=(",", ":"))})
    sandbox.stats.record(clone, status, platform=PLATFORM)
    return {"code": status, "headers": headers, "body": text}
