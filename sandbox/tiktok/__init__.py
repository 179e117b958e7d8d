"""The TikTok hosts of the sandbox (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §1-§5).

``mount(root, sandbox)`` adds one sub-app per mirrored host (``root.add_subapp("/" + host,
sub)``) over the shared clock, faults, stats and request log, and the control routes under
``/_sandbox/tiktok/``. State lives in ``world_of(sandbox)``, so ``Sandbox.reset`` resets it.
App credentials: ``sandbox-tt-client`` / ``sandbox-tt-secret``.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.context import SANDBOX_KEY, HostPolicy, Sandbox
from sandbox.tiktok import control, display, files, oauth, posting, upload_host
from sandbox.tiktok.envelope import tiktok_errors_middleware
from sandbox.tiktok.faults import api_fault
from sandbox.tiktok.webhooks import ticker
from sandbox.tiktok.world import CLIENT_KEY, CLIENT_SECRET, fresh_world

WWW_HOST = "www.tiktok.com"
API_HOST = "open.tiktokapis.com"
UPLOAD_HOST = upload_host.UPLOAD_HOST
FILES_HOST = files.FILES_HOST
HOSTS: tuple[str, ...] = (WWW_HOST, API_HOST, UPLOAD_HOST, FILES_HOST)

__all__ = ["CLIENT_KEY", "CLIENT_SECRET", "HOSTS", "mount"]


def _sub(sandbox: Sandbox, *tables: web.RouteTableDef) -> web.Application:
    sub = web.Application(middlewares=[tiktok_errors_middleware])
    sub[SANDBOX_KEY] = sandbox
    for table in tables:
        sub.add_routes(table)
    return sub


def mount(root: web.Application, sandbox: Sandbox) -> None:
    """Add the TikTok hosts and control routes to the sandbox app."""
    sandbox.register("tiktok", fresh_world)
    for host in (API_HOST, UPLOAD_HOST):  # injected faults answer in TikTok's shapes (faults.py)
        sandbox.set_host_policy(host, HostPolicy(fault_response=api_fault))
    api = _sub(sandbox, oauth.oauth_routes, display.routes, posting.routes)
    api.cleanup_ctx.append(ticker)
    root.add_subapp("/" + WWW_HOST, _sub(sandbox, oauth.www_routes))
    root.add_subapp("/" + API_HOST, api)
    root.add_subapp("/" + UPLOAD_HOST, _sub(sandbox, upload_host.routes))
    root.add_subapp("/" + FILES_HOST, _sub(sandbox, files.routes))
    root.add_routes(control.routes)
