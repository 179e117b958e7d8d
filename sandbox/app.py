"""The one place that builds the sandbox app: the shared root, and one package per platform.

Each platform package in ``PLATFORMS`` exposes ``HOSTS: tuple[str, ...]`` and
``mount(root, sandbox)``, which adds one aiohttp sub-app per mirrored host
(``root.add_subapp("/" + host, sub)``), registers its state on the shared ``Sandbox``
(``sandbox.register(name, factory)``, rebuilt on reset) and may add control routes under
``/_sandbox/<platform>/...``. The platform's name is its module's last dotted part.

Root middlewares, outermost first (they wrap every sub-app):
1. control access (loopback only) - the control API steers everything else;
2. stats - sees every call with the status it finally got, faults included, and its platform;
3. usage - the owning platform's usage accounting (``HostPolicy.usage``), on faulted answers too;
4. faults - may answer instead of (or after) the real handler, in the platform's error shape;
5. latency - waits ``config.latency_seconds`` before any platform call (benchmarks).
A platform's own middlewares (e.g. Meta's error rendering) run inside these, per sub-app.
"""

from __future__ import annotations

from types import ModuleType

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from sandbox import control, meta, tiktok, youtube
from sandbox.config import SandboxConfig
from sandbox.context import SANDBOX_KEY, Sandbox
from sandbox.control_api import local_only_middleware
from sandbox.faults import FaultRenderer, faults_middleware
from sandbox.hosts import host_of
from sandbox.latency import latency_middleware
from sandbox.stats import stats_middleware

__all__ = ["PLATFORMS", "SANDBOX_KEY", "Sandbox", "SandboxConfig", "build_sandbox_app"]

# One line per platform package.
PLATFORMS: tuple[ModuleType, ...] = (
    meta,
    youtube,
    tiktok,
)


def platform_name(module: ModuleType) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def _usage_middleware(sandbox: Sandbox) -> Middleware:
    """Hand each call to its host's usage accounting, if the platform declared one."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        policy = sandbox.host_policies.get(host_of(request.path))
        if policy is None or policy.usage is None:
            return await handler(request)
        return await policy.usage(request, handler)

    return middleware


def _fault_renderer(sandbox: Sandbox, path: str) -> FaultRenderer | None:
    policy = sandbox.host_policies.get(host_of(path))
    return policy.fault_response if policy is not None else None


def build_sandbox_app(
    config: SandboxConfig | None = None, platforms: tuple[ModuleType, ...] | None = None
) -> web.Application:
    """A fresh, seeded sandbox; its state is ``app[SANDBOX_KEY]``. ``platforms`` defaults to
    ``PLATFORMS`` (tests may mount an extra package beside them)."""
    sandbox = Sandbox(config or SandboxConfig())
    root = web.Application(
        middlewares=[
            local_only_middleware,
            stats_middleware(sandbox.stats, sandbox.platform_of_host),
            _usage_middleware(sandbox),
            faults_middleware(sandbox.faults, lambda path: _fault_renderer(sandbox, path)),
            latency_middleware(sandbox.config.latency_seconds),
        ]
    )
    root[SANDBOX_KEY] = sandbox
    root.add_routes(control.routes)
    for platform in PLATFORMS if platforms is None else platforms:
        for host in platform.HOSTS:
            sandbox.host_platform[host] = platform_name(platform)
        platform.mount(root, sandbox)
    return root
