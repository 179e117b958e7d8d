"""`socialsync web`: serve the receiver."""

from __future__ import annotations

from aiohttp import web

from socialsync.config import Settings
from socialsync.logs import announce_mode
from webhooks.app import build_app


def run(settings: Settings) -> None:
    announce_mode(settings)
    web.run_app(
        build_app(settings), host=settings.web_host, port=settings.web_port, print=None,
        reuse_port=settings.web_reuse_port or None,
        shutdown_timeout=settings.web_shutdown_timeout_seconds,
        access_log_format='%a "%r" %s %b %Tf',
        # aiohttp's own bounds on the request head; it has no timeout for a slow head or body
        # (README: the reverse proxy adds those), the body read timeout is ours (boundary.py).
        keepalive_timeout=settings.keepalive_timeout_seconds,
        max_line_size=8190, max_field_size=8190, max_headers=100,
    )
