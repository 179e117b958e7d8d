"""What follows an account's connect or disconnect, in one place.

The OAuth callback and the disconnect route call these after their own write succeeded; each
area adds its follow-up here as an enqueued job (deterministic id), never as a platform call
inside the web request.
"""

from __future__ import annotations

from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync import clock

log = get_logger(__name__)


async def account_connected(services: Services, account_id: str) -> None:
    """Called after a connect (or reconnect) stored the account as active."""
    log.info("account lifecycle", account_id=account_id, change="connected")
    # issue 4: subscribe the account to Meta webhooks (worker job, deterministic id)
    from datetime import UTC, datetime  # noqa: PLC0415

    from socialsync import queue  # noqa: PLC0415

    await queue.enqueue(
        services.redis, queue.WEBHOOKS_SUBSCRIBE, account_id,
        job_id=queue.subscription_job_id(account_id, "subscribe", clock.now()),
    )
    # issue 3: the first full sync (deterministic job id: a reconnect during a run joins it)
    from socialsync.sync.schedule import request_sync  # noqa: PLC0415
    from socialsync.store import accounts as account_store  # noqa: PLC0415

    account = await account_store.get(services.store, account_id)
    if account is not None:
        await request_sync(services, account, "full", "connect")


async def account_disconnected(
    services: Services, account_id: str, token_ciphertext: str | None = None
) -> None:
    """Called after a disconnect dropped the account's tokens. ``token_ciphertext`` is the
    dropped token, still encrypted, for the one clean-up call that needs it (unsubscribe)."""
    log.info("account lifecycle", account_id=account_id, change="disconnected")
    from socialsync.plugins import is_interface_platform  # noqa: PLC0415
    from socialsync.store import accounts as account_store  # noqa: PLC0415

    account = await account_store.get(services.store, account_id)
    if account is not None and is_interface_platform(account.get("platform")):
        # The platform's own clean-up (TikTok: /v2/oauth/revoke/), in the worker, with the dropped token.
        from datetime import UTC, datetime  # noqa: PLC0415

        from socialsync import events, queue  # noqa: PLC0415

        await queue.enqueue(services.redis, "platform.revoke", account_id, token_ciphertext,
                            job_id=f"prevoke:{account_id}:{clock.now():%Y%m%d%H%M%S}")
        await events.emit_account_event(services, account_id, "account.disconnected")
        return
    # issue 4: unsubscribe from Meta webhooks (needs the token: see worker/jobs/webhooks.py) and
    # tell the CRM (account.disconnected)
    from datetime import UTC, datetime  # noqa: PLC0415

    from socialsync import events, queue  # noqa: PLC0415

    await queue.enqueue(
        services.redis, queue.WEBHOOKS_UNSUBSCRIBE, account_id, token_ciphertext,
        job_id=queue.subscription_job_id(account_id, "unsubscribe", clock.now()),
    )
    await events.emit_account_event(services, account_id, "account.disconnected")


async def account_needs_reconnect(services: Services, account_id: str, reason: str) -> None:
    """The platform rejected the account's token (code 190) or it expired: mark the account
    ``needs_reconnect`` with the reason. Every area that sees a dead token calls this."""
    from socialsync.store import accounts as account_store  # noqa: PLC0415

    await account_store.mark_needs_reconnect(services.store, account_id, reason)
    log.info("account lifecycle", account_id=account_id, change="needs_reconnect")
    # issue 4: tell the CRM (account.needs_reconnect), once per connection
    from socialsync import events  # noqa: PLC0415

    await events.emit_account_event(services, account_id, "account.needs_reconnect")
