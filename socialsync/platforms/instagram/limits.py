"""Meta's budgets as the Instagram plugin's rate policy (PLATFORM_FACTS.md §4).

The governor (socialsync/ratelimit/) keeps the state; this module only names the scopes a call
spends and reads what an answer says about them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from socialsync.platforms.base import Budget, BudgetUpdate, Call, PlatformError
from socialsync.platforms.instagram.errors import THROTTLE_CODES, GraphError

INSTAGRAM_GRAPH_HOST = "graph.instagram.com"
FACEBOOK_GRAPH_HOST = "graph.facebook.com"
GRAPH_HOSTS = (INSTAGRAM_GRAPH_HOST, FACEBOOK_GRAPH_HOST)
APP_THROTTLE_CODES = frozenset({4})
SPAM_SUBCODE = 2207051  # code 4 with this subcode is a publishing refusal, not a rate limit


def app_scope(host: str) -> str:
    return f"app:{host}"


# The scopes above as prefixes (the spec's budget_scope_prefixes): per account, per Graph host.
BUDGET_SCOPE_PREFIXES = ("ig:", "app:graph.")


def account_scope(ig_user_id: str) -> str:
    return f"ig:{ig_user_id}"


def graph_host(url: httpx.URL) -> str:
    """The Graph host a call went to; in sandbox mode it is the first path segment."""
    if url.host in GRAPH_HOSTS:
        return url.host
    first = url.path.lstrip("/").split("/", 1)[0]
    return first if first in GRAPH_HOSTS else url.host


def _max_usage(figures: Any) -> float:
    if not isinstance(figures, dict):
        raise TypeError("usage figures are not an object")
    values = [figures.get(k) for k in ("call_count", "total_cputime", "total_time")]
    return float(max((v for v in values if isinstance(v, int | float)), default=0))


class MetaUsagePolicy:
    """Meta's budgets are usage percentages the answers report (PLATFORM_FACTS.md §4):

    - ``app:<graph host>``: the app's platform limit, fed by ``X-App-Usage`` (and code 4);
    - ``ig:<ig user id>``: one account's Business Use Case budget, fed by
      ``X-Business-Use-Case-Usage`` (and codes 17, 32, 613, 80001, 80002).
    A call about an account spends its account scope and both app scopes."""

    def budgets(self, call: Call) -> Sequence[Budget]:
        if call.account_key is None:
            return ()
        scopes = [account_scope(call.account_key), *(app_scope(h) for h in GRAPH_HOSTS)]
        return [Budget(scope=s, style="usage") for s in scopes]

    def learn(self, call: Call, response: httpx.Response, error: PlatformError | None) -> Sequence[BudgetUpdate]:
        host = graph_host(response.request.url)
        updates: list[BudgetUpdate] = []
        regain: dict[str, float] = {}
        if raw := response.headers.get("x-app-usage"):
            try:
                updates.append(BudgetUpdate(scope=app_scope(host), usage=_max_usage(json.loads(raw))))
            except (ValueError, TypeError):
                pass
        if raw := response.headers.get("x-business-use-case-usage"):
            try:
                for business_id, entries in json.loads(raw).items():
                    usage = max((_max_usage(e) for e in entries), default=0.0)
                    minutes = max((float(e.get("estimated_time_to_regain_access") or 0) for e in entries), default=0.0)
                    scope = account_scope(str(business_id))
                    if minutes > 0:
                        regain[scope] = minutes * 60
                    # Spent: the next call would be refused (and extend the lockout).
                    updates.append(BudgetUpdate(
                        scope=scope, usage=usage, blocked_for=minutes * 60 if minutes > 0 else None,
                        default_block=usage >= 100 and minutes <= 0,
                    ))
            except (ValueError, TypeError, AttributeError):
                pass
        if error is None and call.account_key is not None:
            updates.append(BudgetUpdate(scope=account_scope(call.account_key), clears_strikes=True))
        if isinstance(error, GraphError) and error.code in THROTTLE_CODES and not (
            error.code == 4 and error.subcode == SPAM_SUBCODE
        ):
            if error.code in APP_THROTTLE_CODES or call.account_key is None:
                scope = app_scope(host)
            else:
                scope = account_scope(call.account_key)
            updates.append(BudgetUpdate(scope=scope, throttled=True, blocked_for=regain.get(scope)))
        return updates



POLICY = MetaUsagePolicy()
