"""Facebook Login's page choice: the pages offered to the person, kept until they pick one.

A Facebook-Login user with several Pages that carry an Instagram professional account is shown
a choice (``/oauth/facebook/select``). Until they pick, the offer waits in Redis under the same
OAuth state value (the core's ``socialsync.oauth_state`` pending slot, single use, the state's
TTL), the page tokens inside encrypted.

The stored JSON is the one the previous release wrote (``{"state", "granted_scopes",
"fb_user_id", "pages": [{"page_id", "page_name", "ig_user_id", "page_token_ciphertext"}]}``
under ``oauth:pending:<state>``), so a choice begun before an upgrade is still completed after it.
"""

from __future__ import annotations

from pydantic import BaseModel
from redis.asyncio import Redis

from socialsync import oauth_state
from socialsync.oauth_state import OAuthState


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


async def put(redis: Redis, state: str, pending: PendingSelection, ttl_seconds: int) -> None:
    await oauth_state.put_pending(redis, state, pending.model_dump_json(), ttl_seconds)


async def peek(redis: Redis, state: str | None) -> PendingSelection | None:
    raw = await oauth_state.peek_pending(redis, state)
    return PendingSelection.model_validate_json(raw) if raw else None


async def take(redis: Redis, state: str | None) -> PendingSelection | None:
    """The choice, deleting it (a second submit finds nothing)."""
    raw = await oauth_state.take_pending(redis, state)
    return PendingSelection.model_validate_json(raw) if raw else None
