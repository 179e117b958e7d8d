"""What follows an account's connect or disconnect, in one place, for every platform alike.

The OAuth callback and the disconnect route call these after their own write succeeded; each
area adds its follow-up here as an enqueued job (deterministic id), never as a platform call
inside the web request. What runs depends on the parts the account's plugin has, never on its
name: ``subscriptions`` (webhooks.subscribe / webhooks.unsubscribe), a push feed on
``inbound.subscribe`` (YouTube's WebSub: platform.push_subscribe, renewed by its cron),
``privacy.revoke`` (platform.revoke, with the dropped token).
"""

from __future__ import annotations

from typing import Any

from socialsync import clock, queue
from socialsync.context import Services
from socialsync.logs import get_logger

log = get_logger(__name__)


def _plugin(services: Services, account: dict[str, Any]) -> Any:
    return services.platforms.for_account(account)


async def account_connected(services: Services, account_id: str) -> None:
    """Called after a connect (or reconnect) stored the account as active."""
    log.info("account lifecycle", account_id=account_id, change="connected")
    from socialsync.store import accounts as account_store  # noqa: PLC0415
    from socialsync.sync.schedule import request_sync  # noqa: PLC0415

    account = await account_store.get(services.store, account_id)
    if account is None:
        return
    plugin = _plugin(services, account)
    now = clock.now()
    if plugin.subscriptions is not None:  # the platform's webhooks for this account (worker job)
        await queue.enqueue(
            services.redis, queue.WEBHOOKS_SUBSCRIBE, account_id,
            job_id=queue.subscription_job_id(account_id, "subscribe", now),
        )
    # the first full sync (deterministic job id: a reconnect during a run joins it)
    await request_sync(services, account, "full", "connect")
    if getattr(plugin.inbound, "subscribe", None) is not None:
        # a push feed (YouTube's WebSub): made by the worker, renewed before its lease ends
        await queue.enqueue(services.redis, queue.PUSH_SUBSCRIBE, account_id,
                            job_id=queue.push_job_id(account_id, now))


async def account_disconnected(
    services: Services, account_id: str, token_ciphertext: str | None = None
) -> None:
    """Called after a disconnect dropped the account's tokens. ``token_ciphertext`` is the
    dropped token, still encrypted, for the clean-up calls that need it (unsubscribe, revoke)."""
    log.info("account lifecycle", account_id=account_id, change="disconnected")
    from socialsync import events  # noqa: PLC0415
    from socialsync.store import accounts as account_store  # noqa: PLC0415

    account = await account_store.get(services.store, account_id)
    if account is not None:
        plugin = _plugin(services, account)
        now = clock.now()
        if plugin.subscriptions is not None:
            await queue.enqueue(
                services.redis, queue.WEBHOOKS_UNSUBSCRIBE, account_id, token_ciphertext,
                job_id=queue.subscription_job_id(account_id, "unsubscribe", now),
            )
        if getattr(plugin.privacy, "revoke", None) is not None:
            # the platform's own clean-up (TikTok: /v2/oauth/revoke/), in the worker
            await queue.enqueue(services.redis, queue.PLATFORM_REVOKE, account_id, token_ciphertext,
                                job_id=f"prevoke:{account_id}:{now:%Y%m%d%H%M%S}")
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
