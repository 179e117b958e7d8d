"""The rate-limit governor: one shared view of Meta's limits in Redis, for every worker replica.

Scopes:
- ``app:<graph host>`` — the app's platform limit, fed by ``X-App-Usage`` (and code 4);
- ``ig:<ig user id>`` — one Instagram account's Business Use Case budget, fed by
  ``X-Business-Use-Case-Usage`` (and codes 17, 32, 613, 80001, 80002).

Each scope is a Redis hash: ``usage`` (the largest of call_count / total_cputime / total_time,
in percent), ``blocked_until`` (epoch seconds) and ``next_at`` (pacing slot). ``before_call``
runs one Lua script that, atomically for all scopes of a call, refuses when a scope is blocked,
and above the threshold hands out one call per ``pace`` seconds; a refusal raises
`RateLimited` with the time to wait, which jobs turn into ``Retry(defer=…)``.

A throttled scope is never called again before it regains access: Meta extends lockouts for
callers that keep trying (PLATFORM_FACTS.md §4).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
from redis.asyncio import Redis

from socialsync.config import Settings
from socialsync.logs import get_logger
from socialsync.platforms.instagram.errors import THROTTLE_CODES, RateLimited

log = get_logger(__name__)

GRAPH_HOSTS = ("graph.instagram.com", "graph.facebook.com")
APP_THROTTLE_CODES = frozenset({4})
KEY_PREFIX = "ratelimit:"
STATE_TTL_SECONDS = 2 * 24 * 3600
MAX_BLOCK_SECONDS = 3600.0

# KEYS: scope hashes. ARGV: now, threshold, pace. Returns {wait, scope index, reason}.
_CHECK = """
local now = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local pace = tonumber(ARGV[3])
local wait, which, reason = 0, 0, ''
for i, key in ipairs(KEYS) do
  local blocked = tonumber(redis.call('HGET', key, 'blocked_until') or '0')
  if blocked > now and blocked - now > wait then
    wait, which, reason = blocked - now, i, 'blocked'
  end
end
if wait > 0 then return {tostring(wait), which, reason} end
local paced = {}
for i, key in ipairs(KEYS) do
  local usage = tonumber(redis.call('HGET', key, 'usage') or '0')
  if usage >= threshold then
    local next_at = tonumber(redis.call('HGET', key, 'next_at') or '0')
    if next_at > now then
      if next_at - now > wait then wait, which, reason = next_at - now, i, 'paced' end
    else
      table.insert(paced, key)
    end
  end
end
if wait > 0 then return {tostring(wait), which, reason} end
for _, key in ipairs(paced) do redis.call('HSET', key, 'next_at', tostring(now + pace)) end
return {'0', 0, ''}
"""


def app_scope(host: str) -> str:
    return f"app:{host}"


def account_scope(ig_user_id: str) -> str:
    return f"ig:{ig_user_id}"


def graph_host(url: httpx.URL) -> str:
    """The Graph host a call went to; in sandbox mode it is the first path segment."""
    if url.host in GRAPH_HOSTS:
        return url.host
    first = url.path.lstrip("/").split("/", 1)[0]
    return first if first in GRAPH_HOSTS else url.host


def _max_usage(figures: dict[str, Any]) -> float:
    values = [figures.get(k) for k in ("call_count", "total_cputime", "total_time")]
    return float(max((v for v in values if isinstance(v, int | float)), default=0))


class Governor:
    """Checks before, and learns after, every Graph call (see module docstring)."""

    def __init__(self, redis: Redis, settings: Settings, now: Callable[[], float] = time.time) -> None:
        self._redis = redis
        self._settings = settings
        self._now = now
        self._check = redis.register_script(_CHECK)

    @staticmethod
    def key(scope: str) -> str:
        return KEY_PREFIX + scope

    async def before_call(self, account_id: str | None) -> None:
        """Raise `RateLimited` when a scope of this call is blocked or must wait its pace.

        Calls not about an account (OAuth code and token exchanges, started by a person in a
        browser) are let through; their answers still feed the state."""
        if account_id is None:
            return
        scopes = [account_scope(account_id), *(app_scope(h) for h in GRAPH_HOSTS)]
        wait, which, reason = await self._check(
            keys=[self.key(s) for s in scopes],
            args=[self._now(), self._settings.ratelimit_threshold_percent,
                  self._settings.ratelimit_pace_seconds],
        )
        wait = float(wait)
        if wait > 0:
            raise RateLimited(scopes[int(which) - 1], wait, reason.decode() if isinstance(reason, bytes) else reason)

    async def on_response(self, response: httpx.Response, account_id: str | None) -> None:
        """Record usage headers, and block the scope on a throttle error."""
        now = self._now()
        host = graph_host(response.request.url)
        regain: dict[str, float] = {}
        pipe = self._redis.pipeline(transaction=False)
        if raw := response.headers.get("x-app-usage"):
            try:
                self._set_usage(pipe, app_scope(host), _max_usage(json.loads(raw)), now)
            except (ValueError, TypeError, AttributeError):
                log.warning("unreadable X-App-Usage header")
        if raw := response.headers.get("x-business-use-case-usage"):
            try:
                for business_id, entries in json.loads(raw).items():
                    usage = max((_max_usage(e) for e in entries), default=0.0)
                    minutes = max((float(e.get("estimated_time_to_regain_access") or 0) for e in entries), default=0.0)
                    scope = account_scope(str(business_id))
                    self._set_usage(pipe, scope, usage, now)
                    if minutes > 0:
                        regain[scope] = minutes * 60
                    if usage >= 100 or minutes > 0:
                        # Spent: the next call would be refused (and extend the lockout).
                        wait = minutes * 60 if minutes > 0 else self._settings.ratelimit_block_seconds
                        pipe.hset(self.key(scope), mapping={"blocked_until": now + wait})
            except (ValueError, TypeError, AttributeError):
                log.warning("unreadable X-Business-Use-Case-Usage header")
        if not response.is_error and account_id is not None:
            pipe.hdel(self.key(account_scope(account_id)), "strikes")
        await pipe.execute()
        if response.is_error:
            await self._on_error(response, host, account_id, regain, now)

    def _set_usage(self, pipe: Any, scope: str, usage: float, now: float) -> None:
        key = self.key(scope)
        pipe.hset(key, mapping={"usage": usage, "updated_at": now})
        pipe.expire(key, STATE_TTL_SECONDS)

    async def _on_error(
        self, response: httpx.Response, host: str, account_id: str | None, regain: dict[str, float], now: float
    ) -> None:
        try:
            error = response.json().get("error") or {}
            code, subcode = int(error.get("code")), error.get("error_subcode")
        except (ValueError, TypeError, AttributeError):
            return
        if code not in THROTTLE_CODES or (code == 4 and subcode == 2207051):
            return
        if code in APP_THROTTLE_CODES or account_id is None:
            scope = app_scope(host)
        else:
            scope = account_scope(account_id)
        await self.block(scope, regain.get(scope), now=now)

    async def block(self, scope: str, seconds: float | None = None, *, now: float | None = None) -> float:
        """Block a scope for ``seconds`` (Meta's estimate) or an escalating backoff."""
        now = self._now() if now is None else now
        key = self.key(scope)
        strikes = await self._redis.hincrby(key, "strikes", 1)
        if seconds is None or seconds <= 0:
            base = self._settings.ratelimit_block_seconds
            seconds = min(MAX_BLOCK_SECONDS, base * 2 ** max(0, strikes - 1))
        await self._redis.hset(key, mapping={"blocked_until": now + seconds, "usage": 100})
        await self._redis.expire(key, STATE_TTL_SECONDS)
        log.warning("rate limit scope blocked", scope=scope, seconds=round(seconds, 1), strikes=strikes)
        return seconds

    async def blocked_for(self, account_id: str) -> float:
        """Seconds until every scope of calls about this account is open again (0: open)."""
        now = self._now()
        scopes = [account_scope(account_id), *(app_scope(h) for h in GRAPH_HOSTS)]
        values = [await self._redis.hget(self.key(s), "blocked_until") for s in scopes]
        return max([float(v) - now for v in values if v is not None] + [0.0])

    async def state(self, scope: str) -> dict[str, float]:
        raw = await self._redis.hgetall(self.key(scope))
        return {(k.decode() if isinstance(k, bytes) else k): float(v) for k, v in raw.items()}

    async def clear(self, scope: str) -> None:
        """Forget a scope's state (operators; tests)."""
        await self._redis.delete(self.key(scope))
