"""The one place that builds the sandbox app.

Middlewares, outermost first:
1. control access (loopback only) - the control API steers everything else;
2. stats - sees every call with the status it finally got, faults included;
3. usage - charges graph.* calls and stamps the usage headers, on faulted answers too;
4. faults - may answer instead of (or after) the real handler;
5. errors - renders raised platform errors in Meta's shapes;
6. latency - waits ``config.latency_seconds`` before any platform call (benchmarks).
"""

from __future__ import annotations

from aiohttp import web

from sandbox.config import SandboxConfig
from sandbox.context import SANDBOX_KEY, Sandbox
from sandbox.errors import errors_middleware
from sandbox.faults import faults_middleware
from sandbox.latency import latency_middleware
from sandbox.routes import cdn, control, facebook_oauth, graph, instagram_oauth, media_reads
from sandbox.routes import publishing as publishing_routes
from sandbox.routes import comments as comment_routes
from sandbox.routes import subscriptions, webhook_sender
from sandbox.stats import stats_middleware
from sandbox.usage import usage_middleware
from sandbox import youtube
from sandbox import tiktok

__all__ = ["SANDBOX_KEY", "Sandbox", "SandboxConfig", "build_sandbox_app"]

# Route modules in registration order. aiohttp tries dynamic routes in this order, so modules
# with specific paths (e.g. /{ig-user-id}/media) must come before graph's catch-all /{id}.
ROUTE_MODULES = (
    control, publishing_routes, instagram_oauth, facebook_oauth,
    comment_routes, subscriptions, webhook_sender,  # issue 4: before media_reads/graph's /{id}
    media_reads, graph, cdn)


def build_sandbox_app(config: SandboxConfig | None = None) -> web.Application:
    """A fresh, seeded sandbox; its state is ``app[SANDBOX_KEY]``."""
    sandbox = Sandbox(config or SandboxConfig())
    app = web.Application(
        middlewares=[
            control.local_only_middleware,
            stats_middleware(sandbox.stats),
            usage_middleware(sandbox.usage),
            faults_middleware(sandbox.faults),
            errors_middleware,
            latency_middleware(sandbox.config.latency_seconds),
        ]
    )
    app[SANDBOX_KEY] = sandbox
    youtube.mount(app, sandbox)  # before the Meta catch-all routes
    tiktok.mount(app, sandbox)
    for module in ROUTE_MODULES:
        app.add_routes(module.routes)
    return app
