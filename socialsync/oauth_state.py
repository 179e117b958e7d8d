"""OAuth `state`: random, bound to tenant / flow / return_url / user_ref, single use, in Redis.

A state is consumed with GETDEL, so a replayed or concurrent second callback finds nothing.
A flow that ends in a choice (a platform's `Choice`: Facebook Login's pages) keeps its pending
data under the same state value (``put_pending``, single use with ``take_pending``) until the
person picks: ``{"state": <this state>, **choice.pending}``, what ``pending`` holds being the
platform's (Facebook pages: socialsync/platforms/instagram/pages.py).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from redis.asyncio import Redis
from socialsync import clock

STATE_KEY = "oauth:state:{}"
PENDING_KEY = "oauth:pending:{}"


class OAuthState(BaseModel):
    tenant_id: str
    platform: str | None = None  # the plugin's name (states of the previous release: "instagram" or none)
    login: str  # the flow (socialsync/connect_flows.py): "instagram", "facebook", "tiktok", "youtube"…
    return_url: str
    user_ref: str | None = None
    created_at: datetime
    # PKCE (RFC 7636) for logins whose spec asks for it (Google): the verifier stays here, in
    # Redis, single use with the state; only its S256 challenge goes into the authorize URL.
    code_verifier: str | None = None


async def issue_state(redis: Redis, data: OAuthState, ttl_seconds: int) -> tuple[str, datetime]:
    state = secrets.token_urlsafe(32)
    await redis.set(STATE_KEY.format(state), data.model_dump_json(), ex=ttl_seconds)
    return state, data.created_at + timedelta(seconds=ttl_seconds)


async def consume_state(redis: Redis, state: str | None) -> OAuthState | None:
    """The state's data, deleting it; None when unknown, expired or already used."""
    if not state or len(state) > 128:
        return None
    raw = await redis.getdel(STATE_KEY.format(state))
    return OAuthState.model_validate_json(raw) if raw else None


async def put_pending(redis: Redis, state: str, payload: str, ttl_seconds: int) -> None:
    """Keep a flow's pending choice (the platform's JSON, secrets inside already encrypted)."""
    await redis.set(PENDING_KEY.format(state), payload, ex=ttl_seconds)


async def peek_pending(redis: Redis, state: str | None) -> str | None:
    if not state or len(state) > 128:
        return None
    raw = await redis.get(PENDING_KEY.format(state))
    return raw.decode() if isinstance(raw, bytes) else raw


async def take_pending(redis: Redis, state: str | None) -> str | None:
    """The pending choice, deleting it: a replayed or concurrent second submit finds nothing."""
    if not state or len(state) > 128:
        return None
    raw = await redis.getdel(PENDING_KEY.format(state))
    return raw.decode() if isinstance(raw, bytes) else raw


def now() -> datetime:
    return clock.now()
