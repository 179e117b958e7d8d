"""Route matches that work for in-process sub-requests too (Graph's ``POST /?batch=``).

A batch answers each sub-request by resolving its URL with the app's router (public API) and
calling the matched handler on a clone of the request. The clone still carries the batch's own
``match_info`` (aiohttp offers no public way to replace it), so the sub-request's match is
stored under ``SUB_MATCH`` and handlers read path parameters through ``path_param``.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.abc import AbstractMatchInfo

SUB_MATCH = web.RequestKey("sandbox_sub_match", AbstractMatchInfo)


def match_of(request: web.Request) -> AbstractMatchInfo:
    """The match that routed this (sub-)request."""
    sub = request.get(SUB_MATCH)
    return sub if sub is not None else request.match_info


def path_param(request: web.Request, name: str, default: str | None = None) -> str:
    """A path parameter of the route that matched (``{node}``), sub-requests included."""
    match = match_of(request)
    if default is not None:
        return str(match.get(name, default))
    return str(match[name])


async def resolve_sub_request(
    request: web.Request, *, method: str, rel_url: str
) -> tuple[web.Request, AbstractMatchInfo]:
    """A clone of ``request`` for ``method rel_url`` and the match the router finds for it."""
    clone = request.clone(method=method, rel_url=rel_url)
    match = await request.app.router.resolve(clone)
    clone[SUB_MATCH] = match
    return clone, match
