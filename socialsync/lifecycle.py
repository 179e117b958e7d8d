"""What follows an account's connect or disconnect, in one place.

The OAuth callback and the disconnect route call these after their own write succeeded; each
area adds its follow-up here as an enqueued job (deterministic id), never as a platform call
inside the web request.
"""

from __future__ import annotations

from socialsync.context import Services
from socialsync.logs import get_logger

log = get_logger(__name__)


async def account_connected(services: Services, account_id: str) -> None:
    """Called after a connect (or reconnect) stored the account as active."""
    log.info("account lifecycle", account_id=account_id, change="connected")


async def account_disconnected(services: Services, account_id: str) -> None:
    """Called after a disconnect dropped the account's tokens."""
    log.info("account lifecycle", account_id=account_id, change="disconnected")


async def account_needs_reconnect(services: Services, account_id: str, reason: str) -> None:
    """The platform rejected the account's token (code 190) or it expired: mark the account
    ``needs_reconnect`` with the reason. Every area that sees a dead token calls this."""
    from socialsync.store import accounts as account_store  # noqa: PLC0415

    await account_store.mark_needs_reconnect(services.store, account_id, reason)
    log.info("account lifecycle", account_id=account_id, change="needs_reconnect")
