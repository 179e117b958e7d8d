"""``/{id}`` on both Graph hosts: one route per method that decides what the id names.

Graph serves every node kind at ``/{id}``; the sandbox looks the id up once and hands the
request to the area that owns that kind (no route falls through to another):
GET: a comment → routes/comments.py; on graph.facebook.com with ``mentioned_…`` fields → the
mention lookup; a media → routes/media_reads.py; otherwise the IG user / page / user node
(routes/graph.py). POST (hide) and DELETE: comments only. Containers have their own,
more specific route (routes/publishing.py), registered before this one.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.dispatch import path_param
from sandbox.meta.comments import comments_of
from sandbox.meta.errors import unsupported_request
from sandbox.meta.hosts import FACEBOOK_GRAPH, INSTAGRAM_GRAPH, VERSION, host_of
from sandbox.meta.routes import comments, graph, media_reads
from sandbox.meta.world import meta_of

routes = web.RouteTableDef()


def _is_comment(request: web.Request) -> bool:
    return comments_of(meta_of(request).state).by_id.get(path_param(request, "node")) is not None


async def get_node(request: web.Request) -> web.StreamResponse:
    host = host_of(request.path)
    if _is_comment(request):
        return await comments.read_comment(request)
    if host == FACEBOOK_GRAPH and "mentioned_" in request.query.get("fields", ""):
        return await comments.mentions(request)
    if meta_of(request).state.media.by_id.get(path_param(request, "node")) is not None:
        return await media_reads.read_media(request)
    if host == INSTAGRAM_GRAPH:
        return await graph.ig_node(request)
    return await graph.fb_node(request)


async def post_node(request: web.Request) -> web.StreamResponse:
    if _is_comment(request):
        return await comments.hide_comment(request)
    raise unsupported_request(request.method, path_param(request, "node"))


async def delete_node(request: web.Request) -> web.StreamResponse:
    if _is_comment(request):
        return await comments.delete_comment(request)
    raise unsupported_request(request.method, path_param(request, "node"))


for _host in (INSTAGRAM_GRAPH, FACEBOOK_GRAPH):
    for _path in (f"/{_host}/{VERSION}/{{node:\\d+}}", f"/{_host}/{{node:\\d+}}"):
        routes.get(_path)(get_node)
        routes.post(_path)(post_node)
        routes.delete(_path)(delete_node)
