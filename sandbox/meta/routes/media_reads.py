"""Graph API reads of media on both Graph hosts (PLATFORM_FACTS.md §2; rendering in
``sandbox/meta/media_view.py``).

- ``GET /{ig-user-id}/media`` — cursor paged, newest first; ``fields`` with ``children{…}`` and
  ``insights.metric(…)`` expansion (one expansion request is one call);
- ``GET /{ig-user-id}/stories`` — the live stories (< 24 h), paged the same way;
- ``GET /{media-id}/insights?metric=…`` and ``GET /{ig-user-id}/insights`` (account insights,
  ``routes/account_insights.py``); ``GET /{media-id}`` is ``read_media`` (via routes/nodes.py).
Every call about an account is charged to its Business Use Case budget.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.dispatch import path_param
from sandbox.meta.access import Caller, authenticate
from sandbox.meta.accounts import InstagramAccount
from sandbox.meta.errors import invalid_parameter, unsupported_request
from sandbox.meta.hosts import FACEBOOK_GRAPH, INSTAGRAM_GRAPH, VERSION, host_of
from sandbox.meta.media_view import (
    DAY,
    check_metrics,
    fields_of,
    insights_body,
    insights_scope,
    media_for,
    media_node,
    media_page,
    owner_account,
    read_scope,
)
from sandbox.meta.routes.account_insights import account_insights
from sandbox.meta.world import charge_ig_account, meta_of

routes = web.RouteTableDef()


def _both_hosts(suffix: str) -> list[str]:
    return [f"/{host}/{v}{suffix}" for host in (INSTAGRAM_GRAPH, FACEBOOK_GRAPH) for v in (f"{VERSION}/", "")]


def _account_call(request: web.Request, caller: Caller, node: str) -> InstagramAccount:
    sandbox = meta_of(request)
    account = owner_account(sandbox, caller, node)
    if account is None:
        raise unsupported_request(request.method, node)
    charge_ig_account(request, account.ig_user_id)
    return account


async def list_media(request: web.Request) -> web.Response:
    caller = await authenticate(request, host_of(request.path))
    sandbox = meta_of(request)
    node = path_param(request, "node")
    read_scope(caller)
    account = _account_call(request, caller, node)
    items = sandbox.state.media.of_account(account.ig_user_id, product_types=("FEED", "REELS"))
    return web.json_response(media_page(request, sandbox, items))


async def list_stories(request: web.Request) -> web.Response:
    caller = await authenticate(request, host_of(request.path))
    sandbox = meta_of(request)
    node = path_param(request, "node")
    read_scope(caller)
    account = _account_call(request, caller, node)
    now = sandbox.clock.now()
    items = [m for m in sandbox.state.media.of_account(account.ig_user_id, product_types=("STORY",))
             if now - m.timestamp < DAY]
    # Stories page like any edge: a client must follow ``paging.next`` to see them all.
    return web.json_response(media_page(request, sandbox, items, max_size=sandbox.state.media.reads.stories_page_size))


async def node_insights(request: web.Request) -> web.Response:
    caller = await authenticate(request, host_of(request.path))
    sandbox = meta_of(request)
    node = path_param(request, "node")
    media = media_for(sandbox, caller, node)
    if media is not None:
        charge_ig_account(request, media.ig_user_id)
        insights_scope(caller)
        metrics = [m.strip() for m in request.query.get("metric", "").split(",") if m.strip()]
        if not metrics:
            raise invalid_parameter("(#100) The parameter metric is required")
        check_metrics(media, metrics)
        return web.json_response(insights_body(media, metrics))
    account = _account_call(request, caller, node)
    insights_scope(caller)
    return web.json_response(account_insights(request, sandbox, account))


async def read_media(request: web.Request) -> web.Response:
    """``GET /{media-id}`` (routes/nodes.py sends media ids here)."""
    sandbox = meta_of(request)
    node = path_param(request, "node")
    caller = await authenticate(request, host_of(request.path))
    media = media_for(sandbox, caller, node)
    if media is None:
        raise unsupported_request(request.method, node)
    charge_ig_account(request, media.ig_user_id)
    read_scope(caller)
    return web.json_response(media_node(request, sandbox, media, fields_of(request)))


for _path in _both_hosts("{node:\\d+}/media"):
    routes.get(_path)(list_media)
for _path in _both_hosts("{node:\\d+}/stories"):
    routes.get(_path)(list_stories)
for _path in _both_hosts("{node:\\d+}/insights"):
    routes.get(_path)(node_insights)
