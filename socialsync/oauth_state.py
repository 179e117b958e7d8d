"""OAuth `state`: random, bound to tenant / flow / return_url / user_ref, single use, in Redis.

A state is consumed with GETDEL, so a replayed or concurrent second callback finds nothing.
A Facebook-Login user with several pages gets a *pending selection* stored under the same
state value (the page tokens inside encrypted) until they pick one page.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel
from redis.asyncio import Redis
from socialsync import clock

STATE_KEY = "oauth:state:{}"
PENDING_KEY = "oauth:pending:{}"


class OAuthState(BaseModel):
    tenant_id: str
    platform: Literal["instagram"] = "instagram"
    login: str  # "instagram", "facebook" or an interface platform's login ("tiktok")
    return_url: str
    user_ref: str | None = None
    created_at: datetime
    # PKCE (RFC 7636) for logins whose spec asks for it (Google): the verifier stays here, in
    # Redis, single use with the state; only its S256 challenge goes into the authorize URL.
    code_verifier: str | None = None


class PendingPage(BaseModel):
    page_id: str
    page_name: str | None
    ig_user_id: str
    page_token_ciphertext: str


class PendingSelection(BaseModel):
    """A Facebook-Login flow waiting for the person to choose a page."""

    state: OAuthState
    granted_scopes: list[str]
    fb_user_id: str | None
    pages: list[PendingPage]


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


async def put_pending(redis: Redis, state: str, pending: PendingSelection, ttl_seconds: int) -> None:
    await redis.set(PENDING_KEY.format(state), pending.model_dump_json(), ex=ttl_seconds)


async def peek_pending(redis: Redis, state: str | None) -> PendingSelection | None:
    if not state or len(state) > 128:
        return None
    raw = await redis.get(PENDING_KEY.format(state))
    return PendingSelection.model_validate_json(raw) if raw else None


async def take_pending(redis: Redis, state: str | None) -> PendingSelection | None:
    if not state or len(state) > 128:
        return None
    raw = await redis.getdel(PENDING_KEY.format(state))
    return PendingSelection.model_validate_json(raw) if raw else None


def now() -> datetime:
    return clock.now()
