"""Ready-made rate policies for the budget styles a platform only has to configure.

- `WindowPolicy` (TikTok): calls per sliding window, per app and/or per account token, matched
  on the request path (or the operation name);
- `DailyUnitsPolicy` (YouTube): units per day, per call cost, reset at midnight in a time zone,
  with separate buckets for some operations.

Both learn the same way from answers: a ``throttled`` error blocks the budgets the call spent
(the platform's ``retry_after`` if it gave one, else the governor's escalating backoff); a
``quota_exceeded`` error marks them spent until the reset (windows: blocked one window).
Meta's usage-header policy lives in its plugin (socialsync/platforms/instagram/plugin.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import httpx

from socialsync.platforms.base import Budget, BudgetUpdate, Call, ErrorKind, PlatformError


def _after(call: Call, response: httpx.Response, error: PlatformError | None, budgets: Sequence[Budget]) -> list[BudgetUpdate]:
    if error is None:
        return [BudgetUpdate(scope=b.scope, clears_strikes=True) for b in budgets]
    if error.kind is ErrorKind.THROTTLED:
        return [BudgetUpdate(scope=b.scope, throttled=True, blocked_for=error.retry_after) for b in budgets]
    if error.kind is ErrorKind.QUOTA_EXCEEDED:
        return [
            BudgetUpdate(scope=b.scope, spent_until_reset=True, reset_tz=b.reset_tz)
            if b.style == "daily_units"
            else BudgetUpdate(scope=b.scope, blocked_for=error.retry_after or b.window_seconds)
            for b in budgets
        ]
    return []


@dataclass(frozen=True)
class WindowRule:
    """``limit`` calls per ``window_seconds`` for calls whose path (or operation) contains
    ``match``; ``per`` "app" (one budget shared by every account) or "account" (per token)."""

    match: str
    limit: int
    window_seconds: float = 60.0
    per: str = "app"  # "app" | "account"


@dataclass(frozen=True)
class WindowPolicy:
    """Sliding-window budgets. Scopes: ``{platform}:app:{match}`` / ``{platform}:acct:{key}:{match}``."""

    platform: str
    rules: Sequence[WindowRule]

    def budgets(self, call: Call) -> Sequence[Budget]:
        # Contained, not prefixed: a sandbox mirror puts /{host} before the API path.
        subject = call.operation or call.url.path
        out: list[Budget] = []
        for rule in self.rules:
            if rule.match not in subject:
                continue
            if rule.per == "account":
                if call.account_key is None:
                    continue
                scope = f"{self.platform}:acct:{call.account_key}:{rule.match}"
            else:
                scope = f"{self.platform}:app:{rule.match}"
            out.append(Budget(scope=scope, style="window", limit=rule.limit, window_seconds=rule.window_seconds))
        return out

    def learn(self, call: Call, response: httpx.Response, error: PlatformError | None) -> Sequence[BudgetUpdate]:
        return _after(call, response, error, self.budgets(call))


@dataclass(frozen=True)
class DailyUnitsPolicy:
    """Units per day. ``costs`` by operation (default ``default_cost``); an operation listed in
    ``buckets`` spends its own bucket (limit, cost per call) instead of the shared one.

    ``reserve``: units of the shared day that only the ``reserved_for`` operations (publishing,
    moderation) may spend; every other call also spends ``{platform}:units:unreserved``
    (``limit - reserve``), so a day of syncing never starves a reply or an upload.
    ``fair_share``: an account's unreserved calls also spend ``{platform}:units:acct:{key}``,
    ``(limit - reserve) // call.sharers`` a day, so one big account cannot take everyone's day.
    Scopes: ``{platform}:units``, ``{platform}:units:{operation}``, ``…:unreserved``, ``…:acct:{key}``."""

    platform: str
    limit: int
    costs: Mapping[str, int] = field(default_factory=dict)
    default_cost: int = 1
    buckets: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # operation -> (limit, cost)
    reset_tz: str = "America/Los_Angeles"
    reserve: int = 0
    reserved_for: frozenset[str] = frozenset()
    fair_share: bool = False

    @property
    def scope(self) -> str:
        """The shared day's scope (what a quota view reads)."""
        return f"{self.platform}:units"

    def account_scope(self, account_key: str) -> str:
        return f"{self.platform}:units:acct:{account_key}"

    def budgets(self, call: Call) -> Sequence[Budget]:
        if call.account_key is None and not call.operation:
            return ()  # OAuth exchanges do not spend Data API units
        if call.operation in self.buckets:
            limit, cost = self.buckets[call.operation]
            return [Budget(scope=f"{self.platform}:units:{call.operation}", style="daily_units",
                           cost=cost, limit=limit, reset_tz=self.reset_tz)]
        cost = self.costs.get(call.operation, self.default_cost)
        out = [Budget(scope=self.scope, style="daily_units", cost=cost, limit=self.limit, reset_tz=self.reset_tz)]
        if call.operation in self.reserved_for:
            return out
        unreserved = max(0, self.limit - min(self.reserve, self.limit))
        if self.reserve:
            out.append(Budget(scope=f"{self.platform}:units:unreserved", style="daily_units", cost=cost,
                              limit=unreserved, reset_tz=self.reset_tz))
        if self.fair_share and call.account_key is not None and call.sharers > 1:
            out.append(Budget(scope=self.account_scope(call.account_key), style="daily_units", cost=cost,
                              limit=unreserved // call.sharers, reset_tz=self.reset_tz))
        return out

    def learn(self, call: Call, response: httpx.Response, error: PlatformError | None) -> Sequence[BudgetUpdate]:
        return _after(call, response, error, self.budgets(call))
