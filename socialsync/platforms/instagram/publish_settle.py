"""Instagram publishing, the part that decides whether a post went live: the quota check, the
publish call, its refusals, the read-back after an ambiguous or interrupted call, the media
lookup, container re-creation (PLATFORM_FACTS.md §3). Steps of ``InstagramPublisher``
(publish.py); each returns a `StepOutcome` for the core to record.

Exactly once rests on three rules:
1. a container id is recorded before it is polled or published, and a post only publishes its
   recorded container (Meta publishes a container once);
2. ``media_publish`` is called only in the ``publishing`` step, which the core entered by a
   recorded compare-and-set (``ready`` → ``publishing``), and never again by a step that finds
   itself interrupted (its worker died, or its job was superseded): that one reads back;
3. an unknown outcome (timeout, 5xx, lost connection, a worker killed mid-call) is settled by
   reading the container back: PUBLISHED → live; FINISHED → safe to publish again; EXPIRED →
   never published, so a new container is allowed. A container that vanished after a publish
   attempt is replaced only when the account's recent media show no such post - and even then
   the post fails as "outcome unknown" rather than publish a second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from socialsync.logs import get_logger
from socialsync.platforms.base import StepOutcome
from socialsync.platforms.instagram import containers, publish_quota
from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.errors import ErrorKind, GraphError, RateLimited, TransportError
from socialsync.platforms.instagram.publish_outcomes import container_error, describe, failed, failure_for, gone
from socialsync.retry import backoff_seconds

log = get_logger(__name__)


def describe_window(seconds: int) -> str:
    """Meta's ``quota_duration`` (seconds) in words: 86400 → "24 hours", 3600 → "1 hour"."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def published(media_id: str | None, via: str) -> StepOutcome:
    """Live (``via``: how we know, for the post's attempt log)."""
    return StepOutcome("published", reason=via,
                       fields={"media_id": media_id, "media_id_unresolved": media_id is None})


def _attempts(post: Mapping[str, Any]) -> int:
    return int(post.get("publish_attempts") or 0)


class Settling:
    """Steps of ``InstagramPublisher`` (it provides ``graph``, ``settings``, ``context``)."""

    def recreate(self, post: Mapping[str, Any], now: datetime, why: str, *, gone: bool) -> StepOutcome:
        """New containers - only for a post that was never published (checked by the caller:
        EXPIRED means unpublished; a vanished container is replaced only before any publish)."""
        if gone and _attempts(post) > 0:
            return failed("publish_outcome_unknown",
                          "The container vanished after a publish attempt: check the account before posting again.",
                          caller_can_fix=False)
        recreations = int(post.get("recreations") or 0)
        if recreations >= self.settings.publish_max_container_recreations:
            return failed("container_expired", f"Instagram kept losing the media containers ({why}); try again.",
                          caller_can_fix=False)
        return StepOutcome("continue", state="creating", fields={
            "items": {}, "parent": None, "publish_container": None, "poll_started_at": now, "polls": 0,
            "recreations": recreations + 1, "recreated_because": why})

    async def ready(self, access: AccountAccess, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        """The quota (read before every publish), then the recorded entry into ``publishing``."""
        limit = await containers.publishing_limit(self.graph, access)
        await publish_quota.remember(self.context.redis, access.ig_user_id, limit)
        if limit.spent:
            return StepOutcome("wait", state="ready", wait_seconds=await self._quota_delay(post, limit, now), reason=(
                f"Waiting for the publishing quota: {limit.quota_usage} of {limit.config.quota_total} "
                f"posts in the last {describe_window(limit.config.quota_duration)} are used."))
        if _attempts(post) >= self.settings.publish_max_attempts:
            return failed("publish_failed", "Instagram kept refusing to publish; try again later.", caller_can_fix=False)
        first = {} if post.get("publish_first_at") else {"publish_first_at": now}
        return StepOutcome("continue", state="publishing", fields={"publishing_since": now, "publish_error": None, **first})

    async def publish(self, access: AccountAccess, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        container_id = post["publish_container"]
        try:
            media_id = await containers.publish(self.graph, access, container_id)
        except RateLimited as exc:  # the governor stopped the call: it never happened
            return StepOutcome("wait", state="ready", wait_seconds=exc.retry_after,
                               reason=f"Paused by the rate limit ({exc.scope}).")
        except TransportError as exc:
            return self._unknown(exc)
        except GraphError as exc:
            return await self._publish_refused(access, post, exc, now)
        return published(media_id, "media_publish")

    @staticmethod
    def _unknown(exc: BaseException) -> StepOutcome:
        """The publish call may have happened: record that, then the next step reads back."""
        return StepOutcome("continue", state="reconcile", fields={"publish_error": describe(exc)[:300]})

    async def _publish_refused(self, access: AccountAccess, post: Mapping[str, Any], exc: GraphError,
                               now: datetime) -> StepOutcome:
        kind = exc.kind
        if kind is ErrorKind.TRANSIENT or exc.status >= 500:
            return self._unknown(exc)  # ambiguous: it may have been published
        if kind is ErrorKind.TOKEN_INVALID:
            raise exc
        if kind is ErrorKind.PUBLISH_QUOTA:
            return StepOutcome("wait", state="ready", wait_seconds=await self._quota_delay(post, None, now),
                               reason="Waiting for the publishing quota (Instagram answered 9/2207042).")
        if kind is ErrorKind.THROTTLED:
            return StepOutcome("wait", state="ready", reason="Throttled by Instagram.",
                               wait_seconds=backoff_seconds(1, self.settings.publish_retry_base_seconds) + 1)
        if kind in (ErrorKind.SPAM, ErrorKind.POLICY_BLOCK):
            blocked = int(post.get("blocked") or 0) + 1
            if blocked > self.settings.publish_blocked_max_deferrals:
                return failed("blocked_by_instagram",
                              "Instagram keeps blocking this post (spam or policy): review it before posting again.",
                              caller_can_fix=True, exc=exc)
            return StepOutcome("wait", state="ready", wait_seconds=self.settings.publish_blocked_defer_seconds,
                               fields={"blocked": blocked},
                               reason="Instagram temporarily blocked publishing (spam or policy); waiting.")
        if kind is ErrorKind.NOT_READY:
            return StepOutcome("wait", state="processing", wait_seconds=self.settings.publish_poll_first_seconds,
                               reason="Instagram is processing the media.")
        # A definite refusal: read back, and fail for it only if the container is unpublished.
        return await self.reconcile(access, post, now, refusal=failure_for(exc), after=describe(exc))

    async def reconcile(self, access: AccountAccess, post: Mapping[str, Any], now: datetime, *,
                        refusal: StepOutcome | None = None, after: str | None = None) -> StepOutcome:
        """The outcome of a publish is unknown (or refused): read the container back."""
        container_id = post["publish_container"]
        try:
            status = await containers.read(self.graph, access, container_id)
        except (GraphError, TransportError) as exc:
            if isinstance(exc, GraphError) and exc.kind is ErrorKind.TOKEN_INVALID:
                raise
            if gone(exc):
                media_id = await self.find_media_id(access, post, now)
                if media_id is not None:
                    return published(media_id, "media lookup")
                return self.recreate(post, now, "the container was lost", gone=True)
            failures = int(post.get("reconcile_failures") or 0) + 1
            if failures > self.settings.publish_max_attempts:
                return failed("publish_outcome_unknown",
                              "Instagram did not confirm whether the post went live: check the account before "
                              "posting again.", caller_can_fix=False, exc=exc)
            return StepOutcome("wait", state="reconcile", fields={"reconcile_failures": failures},
                               wait_seconds=backoff_seconds(failures, self.settings.publish_retry_base_seconds),
                               reason="Checking whether the post went live.")
        settled = {"reconcile_failures": 0}
        if status.status_code == "PUBLISHED":
            after = after or post.get("publish_error")
            via = f"container read-back after {after}" if after else "container read-back on resume"
            return published(await self.find_media_id(access, post, now), via)
        if status.status_code == "FINISHED":
            if refusal is not None:
                return refusal  # a definite refusal of a container still unpublished
            return StepOutcome("wait", state="ready", fields=settled, reason="Retrying the publish call.",
                               wait_seconds=backoff_seconds(_attempts(post), self.settings.publish_retry_base_seconds))
        if status.status_code == "IN_PROGRESS":
            return StepOutcome("continue", state="processing", fields=settled)
        if status.status_code == "EXPIRED":
            return self.recreate(post, now, "the container expired unpublished", gone=False)
        return container_error(status)

    async def find_media_id(self, access: AccountAccess, post: Mapping[str, Any], now: datetime) -> str | None:
        """The live media of this post, found by its caption, type and time among the media
        published since its first publish attempt (paging back as far as that, bounded) -
        exactly one match that no other post of ours claims, or nothing (never ``data[0]``)."""
        request = post["request"]
        not_before = post.get("publish_first_at") or post.get("created_at") or now
        try:
            candidates = await containers.media_since(self.graph, access, story=request["type"] == "story",
                                                      not_before=not_before - containers.CLOCK_SKEW)
        except (GraphError, TransportError, RateLimited) as exc:
            log.info("media lookup failed", error=describe(exc))
            return None
        claimed = await post["own_posts"].claimed([c.id for c in candidates])
        found = containers.matching_media(
            candidates, caption=request.get("caption", "") if request["type"] != "story" else "",
            product_type=containers.PRODUCT_TYPE[request["type"]], not_before=not_before, claimed=claimed)
        return found.id if found else None

    async def _quota_delay(self, post: Mapping[str, Any], limit: containers.PublishingLimit | None,
                           now: datetime) -> float:
        """Until our own oldest post in the window leaves it, at most the recheck interval."""
        cap = self.settings.publish_quota_recheck_seconds
        duration = limit.config.quota_duration if limit else 86400
        own = await post["own_posts"].published_since(now - timedelta(seconds=duration))
        if not own:
            return cap
        frees_in = (own[0] + timedelta(seconds=duration) - now).total_seconds()
        return max(1.0, min(cap, frees_in))
