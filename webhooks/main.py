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
    )
