"""Images the sandbox hands out URLs for (profile pictures), served locally.

A sync that downloads avatars must not reach the real internet from a test.
"""

from __future__ import annotations

import base64

from aiohttp import web

from sandbox.meta.hosts import CDN

routes = web.RouteTableDef()

# A 1x1 transparent PNG.
PIXEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@routes.get(f"/{CDN}/sandbox/{{path:.+}}")
async def image(request: web.Request) -> web.Response:
    return web.Response(body=PIXEL_PNG, content_type="image/png")
