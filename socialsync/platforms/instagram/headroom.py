"""Meta's budgets as the governor last saw them (socialsync.ratelimit): app usage per Graph
host (X-App-Usage) and each account's Business Use Case usage (X-Business-Use-Case-Usage)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from socialsync.headroom import Headroom
from socialsync.platforms.instagram.limits import GRAPH_HOSTS, app_scope
from socialsync.ratelimit.governor import KEY_PREFIX

if TYPE_CHECKING:
    from socialsync.context import Services

ACCOUNT_SCOPE_PATTERN = KEY_PREFIX + "ig:*"
MAX_SCANNED = 2000


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


class MetaHeadroom:
    platform = "instagram"

    async def headroom(self, services: Services, *, limit: int = 20) -> list[Headroom]:
        governor = services.governor
        assert governor is not None
        threshold = services.settings.ratelimit_threshold_percent
        now = time.time()
        scopes = [app_scope(h) for h in GRAPH_HOSTS]
        scanned = 0
        async for key in services.redis.scan_iter(match=ACCOUNT_SCOPE_PATTERN, count=500):
            scopes.append((key.decode() if isinstance(key, bytes) else key)[len(KEY_PREFIX):])
            scanned += 1
            if scanned >= MAX_SCANNED:
                break
        rows = []
        for scope in scopes:
            state = await governor.state(scope)
            usage = _number(state.get("usage"))
            blocked = max(0.0, _number(state.get("blocked_until")) - now)
            rows.append(Headroom(
                platform=self.platform, scope=scope, used_percent=usage,
                left=f"{max(0.0, 100 - usage):.0f} % left", blocked_seconds=blocked, paced=usage >= threshold,
            ))
        apps, accounts = rows[: len(GRAPH_HOSTS)], rows[len(GRAPH_HOSTS):]
        accounts.sort(key=lambda r: (r.blocked_seconds, r.used_percent or 0), reverse=True)
        return apps + accounts[: max(0, limit - len(apps))]
