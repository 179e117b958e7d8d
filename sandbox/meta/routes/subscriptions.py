"""``/me/subscribed_apps`` on both Graph hosts (PLATFORM_FACTS.md §6).

Instagram Login: the IG user token subscribes its own account. Facebook Login: a *page* token
subscribes the page's Instagram account and needs ``pages_manage_metadata`` (a user token is
refused with code 210). Deliveries from ``POST /_sandbox/comments`` only go to subscribed fields.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.meta.access import Caller, authenticate
from sandbox.meta.comments import SUBSCRIBABLE_FIELDS, comments_of
from sandbox.meta.world import charge_ig_account, meta_of
from sandbox.meta.errors import GraphError, invalid_parameter
from sandbox.meta.hosts import FACEBOOK_GRAPH, INSTAGRAM_GRAPH, VERSION, host_of

routes = web.RouteTableDef()
APP_ID = {INSTAGRAM_GRAPH: "sandbox-ig-app", FACEBOOK_GRAPH: "sandbox-meta-app"}


def _paths() -> list[str]:
    return [f"/{h}/{v}me/subscribed_apps" for h in (INSTAGRAM_GRAPH, FACEBOOK_GRAPH) for v in (f"{VERSION}/", "")]


def _subject(request: web.Request, caller: Caller) -> str:
    """The IG account the subscription is about."""
    if caller.ig_account is not None:
        caller.require_scope("instagram_business_basic")
        ig_id = caller.ig_account.ig_user_id
    else:
        if caller.page is None:
            raise GraphError(210, "(#210) A page access token is required to request this resource.")
        if not caller.has_scope("pages_manage_metadata"):
            raise GraphError(200, "(#200) Requires pages_manage_metadata permission to manage the object")
        if caller.page.ig_user_id is None:
            raise GraphError(100, "(#100) The page has no linked Instagram business account")
        ig_id = caller.page.ig_user_id
    charge_ig_account(request, ig_id)
    return ig_id


async def _fields_param(request: web.Request) -> list[str]:
    raw = request.query.get("subscribed_fields")
    if raw is None:
        form = await request.post()
        value = form.get("subscribed_fields")
        raw = value if isinstance(value, str) else None
    fields = [f.strip() for f in (raw or "").split(",") if f.strip()]
    if not fields:
        raise invalid_parameter("(#100) The parameter subscribed_fields is required")
    unknown = [f for f in fields if f not in SUBSCRIBABLE_FIELDS]
    if unknown:
        raise invalid_parameter(f"(#100) Param subscribed_fields[0] must be one of {sorted(SUBSCRIBABLE_FIELDS)}")
    return fields


async def get_subscriptions(request: web.Request) -> web.Response:
    caller = await authenticate(request, host_of(request.path))
    ig_id = _subject(request, caller)
    fields = sorted(comments_of(meta_of(request).state).subscriptions.get(ig_id, set()))
    data = [{"id": APP_ID[host_of(request.path)], "subscribed_fields": fields}] if fields else []
    return web.json_response({"data": data})


async def subscribe(request: web.Request) -> web.Response:
    caller = await authenticate(request, host_of(request.path))
    ig_id = _subject(request, caller)
    fields = await _fields_param(request)
    comments_of(meta_of(request).state).subscriptions[ig_id] = set(fields)
    return web.json_response({"success": True})


async def unsubscribe(request: web.Request) -> web.Response:
    caller = await authenticate(request, host_of(request.path))
    ig_id = _subject(request, caller)
    comments_of(meta_of(request).state).subscriptions.pop(ig_id, None)
    return web.json_response({"success": True})


for _path in _paths():
    routes.get(_path)(get_subscriptions)
    routes.post(_path)(subscribe)
    routes.delete(_path)(unsubscribe)
