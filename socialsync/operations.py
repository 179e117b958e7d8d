"""Operator actions, one implementation each, shared by the REST API and the ops console.

Each function checks that the action makes sense for the stored document, changes it with one
compare-and-set write (so two operators, or an operator and the worker, cannot both win) and
enqueues the job that does the work. They raise `Refused` (the action does not apply now: a
409 for the API, a message on the console) or `Missing` (no such thing: a 404).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


from socialsync import queue
from socialsync.context import Services
from socialsync.crm_events import delivery as crm_delivery
from socialsync.store import accounts as account_store
from socialsync.store import posts as post_store
from socialsync.store import webhook_events
from socialsync import clock

# The kinds the ops console lists and filters by; what a platform accepts is its spec.sync_kinds.
SYNC_KINDS = ("full", "recent", "media", "insights", "audience", "stories")


class Refused(Exception):
    """The action does not apply to the thing in its current state."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Missing(Exception):
    """No such thing (for this tenant)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"No such {what}.")
        self.what = what


# --- sync ---------------------------------------------------------------------------------------
async def start_sync(services: Services, account: dict[str, Any], kind: str, trigger: str) -> tuple[dict[str, Any], bool]:
    """Start a sync run of ``kind`` (or join the one in progress) on the one sync path (the core
    ``sync.run`` job, whatever the platform). Returns (run, created)."""
    from socialsync.sync.schedule import request_sync  # noqa: PLC0415

    if account.get("status") != "active":
        raise Refused("account_not_active", f"The account is {account.get('status')}: reconnect it before syncing.")
    plugin = services.platforms.for_account(account)
    kinds = plugin.spec.sync_kinds
    if kind not in kinds:
        raise Refused("unsupported_sync_kind", f"{plugin.spec.display_name} syncs kinds: {', '.join(kinds)}.")
    return await request_sync(services, account, kind, trigger)


# --- posts --------------------------------------------------------------------------------------
async def cancel_post(services: Services, tenant_id: str, post_id: str) -> dict[str, Any]:
    """Cancel a post that is not yet publishing; returns the cancelled post."""
    store = services.store
    doc = await post_store.cancel(store, tenant_id, post_id)
    if doc is None:
        current = await post_store.get_for_tenant(store, tenant_id, post_id)
        if current is None:
            raise Missing("post")
        raise Refused("post_not_cancellable",
                      f"The post is {current['state']}: only a post not yet publishing can be cancelled.")
    # Its pending step (the tick before the cancel) would only find the post cancelled: withdraw
    # it, so a post scheduled weeks ahead does not keep a job in the queue.
    await queue.withdraw(services.redis, queue.PUBLISH_ADVANCE, queue.publish_job_id(doc["_id"], doc["tick"] - 1))
    return doc


def retry_refusal(post: dict[str, Any]) -> str | None:
    """Why a post cannot be retried, or None when it can: it failed for a reason its owner can
    fix (``caller_can_fix``) before anything was published or even sent to be published."""
    if post.get("state") != "failed":
        return f"The post is {post.get('state')}: only a failed post can be retried."
    if not (post.get("error") or {}).get("caller_can_fix"):
        return "The post failed for a reason a retry does not fix."
    if post.get("media_id") or int(post.get("publish_attempts", 0)) > 0:
        return "A publish call was already made for this post: it is never tried again."
    return None


async def retry_post(services: Services, tenant_id: str, post_id: str, *, who: str) -> dict[str, Any]:
    """Start a failed post again from the beginning (new containers), at a new tick."""
    store = services.store
    post = await post_store.get_for_tenant(store, tenant_id, post_id)
    if post is None:
        raise Missing("post")
    if (why := retry_refusal(post)) is not None:
        raise Refused("post_not_retryable", why)
    if await account_store.status_of(store, post["account_id"]) != "active":
        raise Refused("account_not_active", "The post's account must be reconnected before a retry.")
    now = clock.now()
    doc = await post_store.compare_and_set(
        store, post_id, tick=post["tick"], states=("failed",),
        extra_filter={"tenant_id": tenant_id, "publish_attempts": post.get("publish_attempts", 0)},
        set_fields={"state": "scheduled", "state_reason": "Retried.", "next_check_at": now, "retried_at": now,
                    "step": "queued", "step_in_flight": False, "platform_fields": {}},
        unset=("error", "failed_at", "event_pending", "step_failures"),
        inc={"tick": 1, "retries": 1},
        attempt={"at": now, "step": "retry", "outcome": "scheduled", "detail": f"retried by {who}"[:200]},
    )
    if doc is None:
        raise Refused("post_not_retryable", "The post changed meanwhile; look again.")
    from socialsync.publishing.machine import enqueue_step  # noqa: PLC0415

    await enqueue_step(services, post_id, doc["tick"])
    return doc


# --- webhook events -----------------------------------------------------------------------------
async def reprocess_webhook_event(services: Services, event_id: str) -> dict[str, Any]:
    """Queue a failed stored event for processing again (after the bug that failed it is fixed)."""
    doc, status = await webhook_events.requeue_failed(services.store, event_id)
    if doc is None:
        if status is None:
            raise Missing("webhook event")
        raise Refused("event_not_failed", f"The event is {status}: only a failed event is reprocessed.")
    # Pending again, so the sweeper would also find it; the job does it now. A job id per
    # reprocess request (webhook_event_job_id's sweep number), so a second request is not refused.
    await queue.enqueue(services.redis, queue.WEBHOOKS_PROCESS_EVENT, event_id,
                        job_id=queue.webhook_event_job_id(event_id, 1000 + int(doc["reprocessed"])))
    return doc


# --- CRM events -----------------------------------------------------------------------------------
async def resend_crm_event(services: Services, event_id: str, *, tenant_id: str | None = None) -> dict[str, Any]:
    """Deliver a failed CRM event again: pending with a fresh attempt now (and the normal
    backoff after it, until the retry window counted from now ends)."""
    doc, status = await crm_delivery.reopen_failed(services.store, event_id, tenant_id=tenant_id, now=clock.now())
    if doc is None:
        if status is None:
            raise Missing("CRM event")
        raise Refused("event_not_failed", f"The event is {status}: only a failed delivery is resent.")
    resends = int(doc["delivery"]["resends"])
    await queue.enqueue(services.redis, queue.EVENTS_DELIVER, event_id,
                        job_id=f"{queue.event_delivery_job_id(event_id)}:resend:{resends}")
    return doc
