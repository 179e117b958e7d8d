"""Publishing for a platform plugin (TikTok, YouTube…) on the generic machine: its
``publish.advance`` is one step, and this run stores what the step says before anything acts on it.

The post keeps the core ``state`` (what the CRM sees, what cancel and the sweep read) beside the
platform's own ``step`` and ``platform_fields``. One step of the plugin:

1. mark it in flight (``step_in_flight``, a compare-and-set under the tick: also the heartbeat) -
   only the publisher's ``guarded_steps`` when it names them (the steps whose ``interrupted`` it
   reads; Instagram: the publish call), so a poll or a container creation costs no extra write;
2. ``advance(account, view, now)`` with ``view = {"state": step, "request", "interrupted",
   **platform_fields}``; ``interrupted`` is true when an earlier try of a step started and never
   recorded its outcome (its worker died, or its job was superseded): the plugin must then let
   the platform decide (TikTok: ``status/fetch``) instead of repeating a call;
3. record the outcome's fields, the next step and its core state, and clear the flag, in one
   compare-and-set - *before* the next step may act on them (``continue``: call again at once;
   ``wait``: bump the tick and come back deferred; ``published``/``failed``: final, the CRM event
   once).

A step's core state comes from the publisher's optional ``step_states`` mapping; the first step
(``queued``) is ``scheduled`` and an unknown step is ``publishing`` (not cancellable: a platform
step may have made the post irreversible). ``publish_at`` is the core's: a scheduled post waits
in ``scheduled`` (deferred job, no sleep) until it is due - unless the publisher says
``handles_publish_at = True`` (YouTube's own scheduled publishing): then the plugin gets and keeps
it, and the post starts at once.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from socialsync import lifecycle, queue
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.tokens import LockBusy, fresh_ref, refresh_account
from socialsync.platforms.base import AccountRef, ErrorKind, PlatformError, RateLimited, StepOutcome, TransportError
from socialsync.publishing import completion
from socialsync.publishing.own_posts import OwnPosts
from socialsync.publishing.machine import (
    INLINE_SHARE, MAX_INLINE_STEPS, PostRun, _now, enqueue_step, job_timeout_seconds,
)
from socialsync.retry import retry_for
from socialsync.store import accounts as account_store
from socialsync.store import posts
from socialsync.store.migrations import LEGACY_PLATFORM, legacy_step, platform_of

log = get_logger(__name__)

FIRST_STEP = "queued"
RECORDED_ELSEWHERE = ("media_id", "permalink", "state_reason")  # top-level post fields, not platform fields


def step_of(post: dict[str, Any]) -> str:
    """The platform step of a stored post."""
    step = post.get("step")
    if step:
        return step
    # A post of the release before every platform ran here has none: its core state names it.
    return legacy_step(post.get("state") or "scheduled")


def publisher_of(services: Services, platform: str | None) -> Any:
    """The platform's Publisher (None when it cannot publish). Documents older than the
    platform field are Instagram's."""
    return services.platforms.get(platform or LEGACY_PLATFORM).publish


def core_state(publisher: Any, step: str) -> str:
    """The core state of a platform step (see the module doc)."""
    if step == FIRST_STEP:
        return "scheduled"
    return (getattr(publisher, "step_states", None) or {}).get(step, "publishing")


def new_post_doc(*, tenant_id: str, account: dict[str, Any], key: str, fingerprint: str,
                 request: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The stored post of an accepted request (``request["publish_at"]``: when it is due)."""
    publish_at = request.get("publish_at")
    publish_at = publish_at if isinstance(publish_at, datetime) else None  # a platform's own: not ours to hold
    return {
        "_id": posts.new_post_id(), "tenant_id": tenant_id, "account_id": account["_id"],
        "platform": account["platform"], "external_id": account["external_id"], "idempotency_key": key,
        "fingerprint": fingerprint, "request": request, "state": "scheduled",
        "state_reason": "Scheduled." if publish_at else None, "step": FIRST_STEP, "tick": 0,
        "next_check_at": publish_at or now, "platform_fields": {}, "publish_attempts": 0,
        "attempts": [{"at": now, "step": "accepted", "outcome": "scheduled", "detail": None}],
        "created_at": now, "updated_at": now,
    }


class PublishRun(PostRun):
    """The run of every post, whatever its platform: the platform's ``publish.advance`` makes one
    step, this records it (Instagram, TikTok and YouTube alike)."""

    async def read_permalink(self, post: dict[str, Any]) -> str | None:
        """The plugin gives it with ``published``, or reads it afterwards (``permalink``); best
        effort: None when it cannot tell (a published post is never failed for it)."""
        if post.get("permalink"):
            return post["permalink"]
        reader = getattr(publisher_of(self.services, post.get("platform")), "permalink", None)
        if reader is None:
            return None
        try:
            account = self.access or await fresh_ref(self.services, post["account_id"])  # the run's, if it has one
            if account is None:
                return None
            return await reader(account, self.view(post, interrupted=False))
        except (PlatformError, TransportError, RateLimited, LockBusy) as exc:
            log.info("permalink not read", post_id=post["_id"], error=type(exc).__name__)
            return None

    def view(self, post: dict[str, Any], *, interrupted: bool) -> dict[str, Any]:
        """What the plugin sees of the post: its step, request, recorded fields and core facts."""
        return {"state": step_of(post), "request": post["request"], "interrupted": interrupted,
                "publish_attempts": int(post.get("publish_attempts") or 0), "created_at": post.get("created_at"),
                "media_id": post.get("media_id"), "_id": post["_id"],
                "own_posts": OwnPosts(self.services.store, post["external_id"]),
                **(post.get("platform_fields") or {})}

    def platform_codes(self, exc: BaseException | None) -> tuple[int | None, int | None]:
        """The platform's numeric (code, subcode) of an error (string codes are not stored)."""
        if not isinstance(exc, PlatformError):
            return None, None
        return (exc.code if isinstance(exc.code, int) else None,
                exc.subcode if isinstance(exc.subcode, int) else None)

    async def drive(self) -> str:
        account = await self.account()
        if isinstance(account, str):
            return account
        self.access = account
        publish_at = self.request.get("publish_at")  # the core's (a platform that handles its own keeps a string)
        if self.post["state"] == "scheduled" and isinstance(publish_at, datetime) and publish_at > _now() + timedelta(seconds=0.5):
            return await self.wait((publish_at - _now()).total_seconds(), "Scheduled.")
        budget_ends = time.monotonic() + INLINE_SHARE * job_timeout_seconds(self.settings)
        for _ in range(MAX_INLINE_STEPS):
            if time.monotonic() > budget_ends:
                break
            result = await self.step(account)
            if result is not None:
                return result
        return await self.wait(0, "continuing")

    async def account(self) -> AccountRef | str:
        """The account with a fresh token, or the outcome when there is none to use now."""
        try:
            account = await fresh_ref(self.services, self.post["account_id"])
        except LockBusy:  # another worker refreshes the token right now
            return await self.wait(1.0, "The account's token is being refreshed.")
        if account is None:
            if await account_store.status_of(self.services.store, self.post["account_id"]) == "needs_reconnect":
                return await self.fail("needs_reconnect",
                                       "The platform rejected the account's access: reconnect the account, then post again.",
                                       caller_can_fix=True)
            return await self.fail("account_unavailable",
                                   "The account needs reconnecting or was disconnected: reconnect it, then post again.",
                                   caller_can_fix=True)
        return account

    async def step(self, account: AccountRef) -> str | None:
        """One step of the plugin, recorded; None: the next one may run now."""
        publisher = publisher_of(self.services, self.post.get("platform"))
        if publisher is None:
            return await self.fail("capability_unavailable", "This platform cannot publish.", caller_can_fix=False)
        step = step_of(self.post)
        interrupted = bool(self.post.get("step_in_flight"))
        guarded = getattr(publisher, "guarded_steps", None)
        if guarded is None or step in guarded:  # the plugin asks whether this step was cut short
            await self.cas((self.post["state"],), {"step_in_flight": True})
        view = self.view(self.post, interrupted=interrupted)
        for attempt in (1, 2):
            try:
                outcome = await publisher.advance(account, view, _now())
                break
            except RateLimited as exc:  # the governor refused before any call: nothing is in doubt
                return await self.wait(exc.retry_after, f"Paused by the rate limit ({exc.scope}).",
                                       step_in_flight=interrupted)
            except PlatformError as exc:
                if exc.kind is not ErrorKind.TOKEN_INVALID:
                    return await self.step_failed(exc, publisher=publisher, view=view)
                if not getattr(publisher, "refresh_refused_token", True):
                    return await self.refused(exc)
                # The platform refused the access token (nothing was done): refresh once, then again.
                fresh = await self.refreshed(attempt, account.credentials.access_token, interrupted)
                if isinstance(fresh, str):
                    return fresh
                account = self.access = fresh
            except TransportError as exc:
                return await self.step_failed(exc, publisher=publisher, view=view)
        return await self.record(publisher, step, outcome)

    async def refused(self, exc: PlatformError) -> str:
        """The platform refused the token and a refresh cannot help (Meta): reconnect."""
        name = self.services.platforms.get(platform_of(self.post)).spec.display_name
        await lifecycle.account_needs_reconnect(
            self.services, self.post["account_id"],
            f"{name} rejected the token (code {exc.code}/{exc.subcode}) while publishing.")
        return await self.fail("needs_reconnect",
                               f"{name} rejected the account's access: reconnect the account, then post again.",
                               caller_can_fix=True, exc=exc)

    async def refreshed(self, attempt: int, refused: str, interrupted: bool) -> AccountRef | str:
        """After a refused access token: the account with a refreshed one (first time), or the
        post fails ``needs_reconnect`` and the account is marked so (refresh refused, or the new
        token refused too). A refused call did nothing: waiting keeps the step's flag as it was."""
        account_id = self.post["account_id"]
        outcome = "refused twice"
        if attempt == 1:
            try:
                outcome = await refresh_account(self.services, account_id, force=True, wait_seconds=0,
                                                refused=refused)
            except LockBusy:
                return await self.wait(1.0, "The account's token is being refreshed.", step_in_flight=interrupted)
            except (PlatformError, TransportError) as exc:
                return await self.step_failed(exc, step_in_flight=interrupted)
            if outcome == "refreshed":
                account = await fresh_ref(self.services, account_id)
                if account is not None:
                    return account
        if outcome != "needs_reconnect":  # refresh_account marked it already in that case
            await lifecycle.account_needs_reconnect(
                self.services, account_id, "The platform refused the account's access token while publishing: reconnect it.")
        return await self.fail("needs_reconnect",
                               "The platform refused the account's access: reconnect the account, then post again.",
                               caller_can_fix=True)

    async def step_failed(self, exc: PlatformError | TransportError, *, publisher: Any = None,
                          view: dict[str, Any] | None = None, **fields: Any) -> str:
        """A plugin let an error out: retry the step later with backoff (flagged as interrupted:
        the plugin decides whether the call happened), then fail - with the plugin's own reason
        for that error when it has one (``give_up``)."""
        failures = int(self.post.get("step_failures", 0)) + 1
        retry = retry_for(exc, failures, base=self.settings.publish_retry_base_seconds,
                          max_tries=self.settings.publish_max_attempts)
        detail = exc.describe() if isinstance(exc, PlatformError) else {"kind": type(exc).__name__}
        log.info("publish step failed", post_id=self.post_id, step=self.post.get("step"),
                 failures=failures, retry=retry is not None, **detail)
        if retry is None:
            give_up = getattr(publisher, "give_up", None)
            if give_up is not None and view is not None:
                return await self.record(publisher, step_of(self.post), give_up(view, exc))
            return await self.fail("platform_error", f"The platform kept failing ({exc}). Try again later.",
                                   caller_can_fix=False, exc=exc)
        return await self.wait((retry.defer_score or 0) / 1000, f"Retrying after a platform error ({exc}).",
                               inc={"step_failures": 1}, **fields)

    async def record(self, publisher: Any, step: str, outcome: StepOutcome) -> str | None:
        """Store the outcome (fenced by the tick); None: run the next step now."""
        fields: dict[str, Any] = {f"platform_fields.{k}": v for k, v in outcome.fields.items()
                                  if k not in RECORDED_ELSEWHERE}
        next_step = outcome.state or step
        fields.update(step=next_step, step_in_flight=False)
        detail = outcome.reason or outcome.error_code
        to = core_state(publisher, next_step)
        # Entering the publishing phase counts as a publish attempt: such a post is never
        # retried from the start (socialsync.operations.retry_refusal).
        inc = {"publish_attempts": 1} if to == "publishing" and self.post["state"] != "publishing" else None
        if outcome.action == "continue":
            await self.cas((self.post["state"],),
                           {**fields, "state": to, "state_reason": outcome.reason or outcome.fields.get("state_reason"),
                            "step_failures": 0},
                           inc=inc, step=step, outcome=next_step, detail=detail)
            return None
        if outcome.action == "wait":
            return await self.wait(outcome.wait_seconds, outcome.reason or "waiting", inc=inc, state=to,
                                   step_failures=0, **fields)
        if outcome.action == "published":
            return await self.mark_published(step, outcome, fields)
        return await self.fail(outcome.error_code or "publish_failed",
                               outcome.message or "The platform failed the post.",
                               caller_can_fix=outcome.caller_can_fix, fields=fields,
                               codes=(outcome.platform_code, outcome.platform_subcode))

    async def mark_published(self, step: str, outcome: StepOutcome, fields: dict[str, Any]) -> str:
        """Live on the platform. Not fenced by the tick: a fact overrides any other view of the
        post (a superseded job that saw it published still records it, once)."""
        now = _now()
        doc = await posts.compare_and_set(
            self.services.store, self.post_id, tick=None,
            states=(*posts.ACTIVE_STATES, "failed", "cancelled"),
            set_fields={**fields, "state": "published", "published_at": now, "error": None,
                        "state_reason": outcome.fields.get("state_reason"),  # e.g. YouTube's "locked private"
                        "media_id": outcome.fields.get("media_id"), "permalink": outcome.fields.get("permalink"),
                        "event_pending": "post.published"},
            inc={"tick": 1}, attempt={"at": now, "step": step, "outcome": "published", "detail": outcome.reason},
        )
        if doc is None:
            return "published"  # recorded first by another job
        self.post = doc
        log.info("post published", post_id=self.post_id, platform=doc.get("platform"), media_id=doc.get("media_id"))
        await completion.complete(self.services, doc, self.read_permalink)
        return "published"


async def nudge(services: Services, platform: str, value: str) -> int:
    """A platform's webhook says a post moved (TikTok ``post.publish.*``): a post waiting for its
    next poll whose platform id is ``value`` (the field the publisher names in ``nudge_field``)
    is moved to a new tick whose job runs now. A post whose step runs right now is left alone
    (its next poll comes soon)."""
    field = getattr(publisher_of(services, platform), "nudge_field", None)
    if not field or not value:
        return 0
    now = _now()
    count = 0
    for post in await posts.waiting_with_platform_field(services.store, platform, field, value, now=now):
        doc = await posts.compare_and_set(
            services.store, post["_id"], tick=post["tick"], states=posts.ACTIVE_STATES,
            set_fields={"next_check_at": now, "webhook_nudged_at": now}, inc={"tick": 1},
            extra_filter={"next_check_at": {"$gt": now}},
            attempt={"at": now, "step": "webhook", "outcome": "poll now", "detail": None},
        )
        if doc is not None:
            # The deferred poll of the old tick would find a stale tick: withdraw it.
            await queue.withdraw(services.redis, queue.PUBLISH_ADVANCE, queue.publish_job_id(doc["_id"], post["tick"]))
            await enqueue_step(services, doc["_id"], doc["tick"])
            count += 1
    return count
