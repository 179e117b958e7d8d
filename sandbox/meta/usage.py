"""Rate-limit accounting: Meta's usage headers and throttling (PLATFORM_FACTS.md §4).

Two budgets, both rolling windows on the sandbox clock:
- the app's hourly budget (``X-App-Usage`` on every graph.* response; code 4 when spent);
- a Business Use Case budget per Instagram account (``X-Business-Use-Case-Usage`` on calls
  about that account; code 80002 when spent, with ``estimated_time_to_regain_access``).
Usage is reported as integer percentages of the budget, the way Meta does; ``call_count``
is the largest of the three figures, so a client acting on the maximum acts on it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from collections import deque
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from sandbox.clock import Clock
from sandbox.config import HOUR, SandboxConfig
from sandbox.meta.errors import GraphError
from sandbox.meta.hosts import GRAPH_HOSTS, host_of
from sandbox.meta.config import MetaConfig

# The IG account a Graph call is about; set by handlers through ``UsageMeter.charge_account``.
BUC_SUBJECT = web.RequestKey("sandbox_buc_subject", str)


@dataclass(slots=True)
class Budget:
    calls_per_window: int
    window_seconds: int


class _Window:
    """Timestamps of calls inside a rolling window."""

    def __init__(self) -> None:
        self.calls: deque[float] = deque()

    def prune(self, now: float, window: float) -> None:
        while self.calls and self.calls[0] <= now - window:
            self.calls.popleft()

    def percent(self, budget: Budget) -> int:
        if budget.calls_per_window <= 0:
            return 100
        return len(self.calls) * 100 // budget.calls_per_window

    def seconds_to_regain(self, now: float, budget: Budget) -> float:
        """Time until one more call fits in the window (0 when it already does)."""
        excess = len(self.calls) - budget.calls_per_window
        if excess < 0:
            return 0.0
        if budget.calls_per_window <= 0:
            return float(budget.window_seconds)
        return max(0.0, self.calls[excess] + budget.window_seconds - now)


class UsageMeter:
    """Counts calls against the app budget and the per-account budgets."""

    def __init__(self, config: SandboxConfig, clock: Clock) -> None:
        self._config = MetaConfig.of(config)
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self.app_budget = Budget(self._config.app_calls_per_hour, HOUR)
        self._app = _Window()
        self._accounts: dict[str, _Window] = {}
        self._overrides: dict[str, Budget] = {}

    # --- budgets ----------------------------------------------------------------------------
    def account_budget(self, ig_user_id: str) -> Budget:
        return self._overrides.get(ig_user_id) or Budget(
            self._config.buc_calls_per_window, self._config.buc_window_seconds
        )

    def set_account_budget(
        self,
        ig_user_id: str,
        *,
        calls_per_window: int | None = None,
        window_seconds: int | None = None,
    ) -> Budget:
        current = self.account_budget(ig_user_id)
        budget = Budget(
            calls_per_window if calls_per_window is not None else current.calls_per_window,
            window_seconds if window_seconds is not None else current.window_seconds,
        )
        self._overrides[ig_user_id] = budget
        return budget

    # --- charging ---------------------------------------------------------------------------
    def charge_app(self) -> None:
        """Count one Graph call against the app; raise code 4 when the hour is spent."""
        now = self._clock.now()
        self._app.prune(now, self.app_budget.window_seconds)
        refused = len(self._app.calls) >= self.app_budget.calls_per_window
        if not refused or self._config.count_refused_calls:
            self._app.calls.append(now)
        if refused:
            raise GraphError(4, "(#4) Application request limit reached", is_transient=True)

    def charge_account(self, ig_user_id: str) -> None:
        """Count one call about an IG account; raise 80002 when its window is spent."""
        now = self._clock.now()
        budget = self.account_budget(ig_user_id)
        window = self._accounts.setdefault(ig_user_id, _Window())
        window.prune(now, budget.window_seconds)
        refused = len(window.calls) >= budget.calls_per_window
        if not refused or self._config.count_refused_calls:
            window.calls.append(now)
        if refused:
            raise GraphError(
                80002,
                "There have been too many calls to this Instagram account. Wait a bit and try "
                "again. For more info, please refer to "
                "https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
                is_transient=True,
            )

    # --- reporting --------------------------------------------------------------------------
    def app_usage(self) -> dict[str, int]:
        self._app.prune(self._clock.now(), self.app_budget.window_seconds)
        return _figures(self._app.percent(self.app_budget))

    def account_usage(self, ig_user_id: str) -> dict[str, Any]:
        now = self._clock.now()
        budget = self.account_budget(ig_user_id)
        window = self._accounts.setdefault(ig_user_id, _Window())
        window.prune(now, budget.window_seconds)
        regain = window.seconds_to_regain(now, budget)
        return {
            "type": "instagram",
            **_figures(window.percent(budget)),
            "estimated_time_to_regain_access": math.ceil(regain / 60) if regain > 0 else 0,
        }

    def snapshot(self) -> dict[str, Any]:
        """Control-API view of both budgets."""
        app = self.app_usage()
        accounts: dict[str, Any] = {}
        for ig_user_id in sorted(set(self._accounts) | set(self._overrides)):
            budget = self.account_budget(ig_user_id)
            usage = self.account_usage(ig_user_id)
            accounts[ig_user_id] = {
                "calls_per_window": budget.calls_per_window,
                "window_seconds": budget.window_seconds,
                "calls_in_window": len(self._accounts[ig_user_id].calls),
                **{k: v for k, v in usage.items() if k != "type"},
            }
        return {
            "app": {
                "calls_per_hour": self.app_budget.calls_per_window,
                "calls_in_window": len(self._app.calls),
                **app,
            },
            "accounts": accounts,
        }


def _figures(percent: int) -> dict[str, int]:
    # CPU and total time track the call count at a lower level: call_count is the binding one.
    return {"call_count": percent, "total_cputime": percent // 3, "total_time": percent // 2}


def charge_account(request: web.Request, meter: UsageMeter, ig_user_id: str) -> None:
    """Mark the request as being about ``ig_user_id`` and charge that account's budget."""
    request[BUC_SUBJECT] = ig_user_id
    meter.charge_account(ig_user_id)


def usage_middleware(meter_of: Callable[[web.Request], UsageMeter]) -> Middleware:
    """Charge every graph.* call to the app and stamp the usage headers on its answer.

    ``meter_of`` finds the current meter (a reset builds a new one)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if host_of(request.path) not in GRAPH_HOSTS:
            return await handler(request)
        meter = meter_of(request)
        try:
            meter.charge_app()
        except GraphError as exc:
            response: web.StreamResponse = exc.response()
        else:
            response = await handler(request)
        response.headers["X-App-Usage"] = json.dumps(meter.app_usage(), separators=(",", ":"))
        subject = request.get(BUC_SUBJECT)
        if subject is not None:
            header = {subject: [meter.account_usage(subject)]}
            response.headers["X-Business-Use-Case-Usage"] = json.dumps(
                header, separators=(",", ":")
            )
        return response

    return middleware
