"""Meta's part of the sandbox: one object holding the emulated Instagram/Facebook world.

Registered on the shared ``Sandbox`` as ``"meta"`` (``sandbox/meta/__init__.py``) and rebuilt on
every reset. It carries the shared parts Meta's handlers use (config, clock, stats, publish
log) beside its own: accounts/tokens/media/comments (``state``) and Graph usage budgets.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.context import Sandbox, note_account, sandbox_of
from sandbox.meta.seed import seed
from sandbox.meta.seed_media import MediaMix, seed_account_media
from sandbox.meta.state import SandboxState
from sandbox.meta.usage import UsageMeter, charge_account

PLATFORM = "meta"


class Meta:
    """Everything the Meta emulation holds, plus handles on the shared parts."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.config = sandbox.config
        self.clock = sandbox.clock
        self.stats = sandbox.stats
        self.published = sandbox.published
        self.usage = UsageMeter(self.config, self.clock)
        self.state = self._fresh_state()

    @staticmethod
    def of(sandbox: Sandbox) -> Meta:
        meta = sandbox.platform(PLATFORM)
        assert isinstance(meta, Meta)
        return meta

    def _fresh_state(self) -> SandboxState:
        state = SandboxState(self.clock, self.published)
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


def meta_of(request: web.Request) -> Meta:
    return Meta.of(sandbox_of(request))


def charge_ig_account(request: web.Request, ig_user_id: str) -> None:
    """A Graph call about one IG account: attribute it and charge its BUC budget (80002)."""
    note_account(request, ig_user_id)
    charge_account(request, meta_of(request).usage, ig_user_id)
