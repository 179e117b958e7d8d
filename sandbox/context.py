"""The sandbox as one object: config, clock, platform state and the bookkeeping around it.

Stored in the app under ``SANDBOX_KEY`` (typed); handlers reach everything through it, so two
sandboxes in one process (a test with a tiny rate budget beside the default one) never share
state. ``reset`` puts every part back to the seeded start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from sandbox.clock import Clock
from sandbox.config import SandboxConfig
from sandbox.faults import FaultBook
from sandbox.seed import seed
from sandbox.seed_media import MediaMix, seed_account_media
from sandbox.state import SandboxState
from sandbox.stats import ACCOUNT_ID, StatsRecorder
from sandbox.usage import UsageMeter, charge_account


class Sandbox:
    """Everything one running sandbox holds."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.clock = Clock()
        self.usage = UsageMeter(config, self.clock)
        self.faults = FaultBook()
        self.stats = StatsRecorder(self.clock, config.request_log_size)
        self.state = self._fresh_state()
        # Per-platform state (``sandbox/<platform>/``), rebuilt by ``reset`` like the rest.
        self._platform_factories: dict[str, Callable[[Clock], Any]] = {}
        self.platforms: dict[str, Any] = {}

    def register_platform(self, name: str, factory: Callable[[Clock], Any]) -> Any:
        """Keep a platform's state on the sandbox; ``factory(clock)`` builds it seeded."""
        self._platform_factories[name] = factory
        self.platforms[name] = factory(self.clock)
        return self.platforms[name]

    def _fresh_state(self) -> SandboxState:
        state = SandboxState(self.clock)
        if self.config.seed:
            seed(state)
            if self.config.demo_media:
                for account in state.ig_accounts.values():
                    seed_account_media(
                        state.media, account.ig_user_id, account.username, self.clock.now(),
                        MediaMix(count=24, stories=3, quiet_stories=1),
                    )
                    account.media_count = len(
                        state.media.of_account(account.ig_user_id, product_types=("FEED", "REELS"))
                    )
        return state

    def reset(self) -> None:
        """Back to the seeded world: accounts, tokens, codes, clock, budgets, faults, stats."""
        self.clock.reset()
        self.usage.reset()
        self.faults.reset()
        self.stats.reset()
        self.state = self._fresh_state()
        for name, factory in self._platform_factories.items():
            self.platforms[name] = factory(self.clock)


SANDBOX_KEY = web.AppKey("sandbox", Sandbox)


def sandbox_of(request: web.Request) -> Sandbox:
    return request.app[SANDBOX_KEY]


def note_account(request: web.Request, account_id: str) -> None:
    """Attribute the call to an account in the stats (IG user, FB user or page id)."""
    request[ACCOUNT_ID] = account_id


def charge_ig_account(request: web.Request, ig_user_id: str) -> None:
    """A Graph call about one IG account: attribute it and charge its BUC budget (80002)."""
    note_account(request, ig_user_id)
    charge_account(request, sandbox_of(request).usage, ig_user_id)
