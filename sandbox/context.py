"""The sandbox as one object: the shared parts, and each platform's state by name.

Shared (platform-neutral): config, clock, fault rules, stats and request log, the publish log.
Each platform package (``sandbox/meta/``, ``sandbox/tiktok/``, ...) registers its own state with
``register(name, factory)`` in its ``mount``; ``reset`` rebuilds every registered state from its
factory after resetting the shared parts. Stored in the root app under ``SANDBOX_KEY`` (typed);
sub-apps reach the same object through ``sandbox_of(request)`` (aiohttp looks keys up through
the parent app), so two sandboxes in one process never share state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Middleware

from sandbox.clock import Clock
from sandbox.config import SandboxConfig
from sandbox.faults import FaultBook, FaultRenderer
from sandbox.publish_log import PublishLog
from sandbox.stats import ACCOUNT_ID, StatsRecorder

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Optional per-host hooks the shared root middlewares call (``Sandbox.set_host_policy``).

    - ``usage``: a middleware run around every call to the host *outside* the fault injector,
      so faulted answers are charged and carry the platform's usage headers too;
    - ``fault_response``: renders an injected ``error`` in the platform's error shape (without
      it, the shared default ``{"error": {...spec.error}}`` is used).
    """

    usage: Middleware | None = None
    fault_response: FaultRenderer | None = None


class Sandbox:
    """Everything one running sandbox holds."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.faults = FaultBook()
        self.stats = StatsRecorder(self.clock, config.request_log_size)
        self.published = PublishLog(self.clock)
        # host → platform name, filled by app.py from each platform's HOSTS.
        self.host_platform: dict[str, str] = {}
        self.host_policies: dict[str, HostPolicy] = {}
        # HTML fragments for the index page (``GET /``), one callable per platform.
        self.index_sections: list[Callable[[Sandbox], str]] = []
        self._factories: dict[str, Callable[[Sandbox], Any]] = {}
        self._states: dict[str, Any] = {}

    # --- platforms --------------------------------------------------------------------------
    def register(self, name: str, factory: Callable[[Sandbox], T]) -> T:
        """Register a platform's state; ``factory(sandbox)`` is called now and on every reset."""
        if name in self._factories:
            raise ValueError(f"platform {name!r} is already registered")
        self._factories[name] = factory
        state = factory(self)
        self._states[name] = state
        return state

    def platform(self, name: str) -> Any:
        """The current state object of a registered platform (a new one after each reset)."""
        return self._states[name]

    @property
    def platforms(self) -> Mapping[str, Any]:
        """The registered platforms' current states by name (read-only)."""
        return MappingProxyType(self._states)

    def set_host_policy(self, host: str, policy: HostPolicy) -> None:
        self.host_policies[host] = policy

    def platform_of_host(self, host: str) -> str | None:
        return self.host_platform.get(host)

    # --- reset ------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the seeded world: clock, faults, stats, publish log, every platform's state."""
        self.clock.reset()
        self.faults.reset()
        self.stats.reset()
        self.published.reset()
        for name, factory in self._factories.items():
            self._states[name] = factory(self)


SANDBOX_KEY = web.AppKey("sandbox", Sandbox)


def sandbox_of(request: web.Request) -> Sandbox:
    """The sandbox, from the root app or any platform sub-app (keys resolve through parents)."""
    return request.config_dict[SANDBOX_KEY]


def note_account(request: web.Request, account_id: str) -> None:
    """Attribute the call to an account in the stats (the platform's own account id)."""
    request[ACCOUNT_ID] = account_id
