"""Instagram publishing, the part that decides whether a post went live: the publish call, its
refusals, the read-back after an ambiguous answer, the media lookup, container re-creation and
the quota wait (PLATFORM_FACTS.md §3). Mixed into ``InstagramPostRun`` (publish.py).

Exactly once rests on three rules:
1. a container id is written to MongoDB before it is polled or published, and a post only
   publishes its recorded container (Meta publishes a container once);
2. ``media_publish`` is called only after the compare-and-set ``ready → publishing``;
3. a post in ``publishing`` whose outcome is unknown (timeout, 5xx, lost connection, a worker
   killed mid-call) is settled by reading its container back: PUBLISHED → live; FINISHED →
   safe to publish again; EXPIRED → never published, so a new container is allowed. A container
   that vanished after a publish attempt is never replaced (the post fails as "outcome unknown").
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from socialsync.logs import get_logger
from socialsync.platforms.instagram import containers, publish_quota
from socialsync.platforms.instagram.plugin import graph_of
from socialsync.platforms.instagram.errors import ErrorKind, GraphError, RateLimited, TransportError
from socialsync.publishing import completion
from socialsync.publishing.machine import _now, describe_window
from socialsync.retry import backoff_seconds
from socialsync.store import posts

log = get_logger(__name__)


def _gone(exc: BaseException) -> bool:
    """The container is not there any more (expired and purged, or never existed for Meta)."""
    return isinstance(exc, GraphError) and (
        exc.kind is ErrorKind.CONTAINER_GONE or (exc.code == 100 and exc.subcode == 33)
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, GraphError):
        return f"{exc.kind.value} (code {exc.code}/{exc.subcode}): {exc.message}"
    return f"{type(exc).__name__}: {exc}"


class Settling:
    """Methods of ``InstagramPostRun`` (it provides ``cas``, ``move``, ``wait``, ``fail`` …)."""

    post: dict[str, Any]
    access: Any

    async def recreate(self, why: str, *, gone: bool) -> str | None:
        """New containers — only for a post that was never published (checked by the caller:
        EXPIRED means unpublished; a vanished container is replaced only before any publish)."""
        if gone and int(self.post.get("publish_attempts", 0)) > 0:
            return await self.fail(
                "publish_outcome_unknown",
                "The container vanished after a publish attempt: check the account before posting again.",
                caller_can_fix=False,
            )
        if int(self.post.get("recreations", 0)) >= self.settings.publish_max_container_recreations:
            return await self.fail(
                "container_expired", f"Instagram kept losing the media containers ({why}); try again.",
                caller_can_fix=False,
            )
        await self.cas(
            ("processing", "ready", "publishing"),
            {"state": "creating", "next_check_at": _now(), "poll_started_at": _now(), "polls": 0,
             "state_reason": None},
            unset=("items", "parent", "publish_container"), inc={"recreations": 1},
            step="recreate", outcome="creating", detail=why,
        )
        return None

    async def publish(self) -> str | None:
        assert self.access is not None
        limit = await containers.publishing_limit(graph_of(self.services), self.access)
        await publish_quota.remember(self.services.redis, self.access.ig_user_id, limit)
        if limit.spent:
            delay = await self._quota_delay(limit)
            return await self.wait(
                delay,
                f"Waiting for the publishing quota: {limit.quota_usage} of {limit.config.quota_total} "
                f"posts in the last {describe_window(limit.config.quota_duration)} are used.",
            )
        if int(self.post.get("publish_attempts", 0)) >= self.settings.publish_max_attempts:
            return await self.fail("publish_failed", "Instagram kept refusing to publish; try again later.",
                                   caller_can_fix=False)
        container_id = self.post["publish_container"]
        first = {} if self.post.get("publish_first_at") else {"publish_first_at": _now()}
        await self.cas(("ready",), {"state": "publishing", "publishing_since": _now(), "state_reason": None,
                                    "next_check_at": _now(), **first},
                       inc={"publish_attempts": 1}, step="publish", outcome="publishing", detail=container_id)
        try:
            media_id = await containers.publish(graph_of(self.services), self.access, container_id)
        except RateLimited as exc:  # the governor stopped the call: it never happened
            await self.move("ready", step="publish", detail="rate limited before the call")
            return await self.wait(exc.retry_after, f"Paused by the rate limit ({exc.scope}).")
        except TransportError as exc:
            return await self.reconcile(after=exc)
        except GraphError as exc:
            return await self._publish_refused(exc)
        return await self.mark_published(media_id, via="media_publish")

    async def _publish_refused(self, exc: GraphError) -> str | None:
        kind = exc.kind
        if kind is ErrorKind.TRANSIENT or exc.status >= 500:
            return await self.reconcile(after=exc)  # ambiguous: it may have been published
        if kind is ErrorKind.TOKEN_INVALID:
            raise exc
        if kind is ErrorKind.PUBLISH_QUOTA:
            await self.move("ready", step="publish", detail="publishing quota used up")
            return await self.wait(await self._quota_delay(None),
                                   "Waiting for the publishing quota (Instagram answered 9/2207042).")
        if kind is ErrorKind.THROTTLED:
            await self.move("ready", step="publish", detail="throttled")
            return await self.wait(backoff_seconds(1, self.settings.publish_retry_base_seconds) + 1,
                                   "Throttled by Instagram.")
        if kind in (ErrorKind.SPAM, ErrorKind.POLICY_BLOCK):
            blocked = int(self.post.get("blocked", 0)) + 1
            if blocked > self.settings.publish_blocked_max_deferrals:
                return await self.fail(
                    "blocked_by_instagram",
                    "Instagram keeps blocking this post (spam or policy): review it before posting again.",
                    caller_can_fix=True, exc=exc,
                )
            await self.move("ready", step="publish", detail=f"blocked: {kind.value}", blocked=blocked)
            return await self.wait(self.settings.publish_blocked_defer_seconds,
                                   "Instagram temporarily blocked publishing (spam or policy); waiting.")
        if kind is ErrorKind.NOT_READY:
            await self.move("processing", step="publish", detail="container not ready")
            return await self.wait(self.settings.publish_poll_first_seconds, "Instagram is processing the media.")
        return await self.reconcile(after=exc)

    async def reconcile(self, after: BaseException | None = None) -> str | None:
        """The post is ``publishing`` and the outcome is unknown: read the container back."""
        assert self.access is not None
        ambiguous = after is None or isinstance(after, TransportError) or (
            isinstance(after, GraphError) and (after.kind is ErrorKind.TRANSIENT or after.status >= 500)
        )
        container_id = self.post["publish_container"]
        if after is not None:
            await self.touch()  # the publish call may have used the whole HTTP timeout
        try:
            status = await containers.read(graph_of(self.services), self.access, container_id)
        except RateLimited as exc:
            return await self.wait(exc.retry_after, "Checking whether the post went live (rate limited).")
        except (GraphError, TransportError) as exc:
            if isinstance(exc, GraphError) and exc.kind is ErrorKind.TOKEN_INVALID:
                raise
            if _gone(exc):
                await self.touch()
                media_id = await self.find_media_id()
                if media_id is not None:
                    return await self.mark_published(media_id, via="media lookup")
                return await self.recreate("the container was lost", gone=True)
            failures = int(self.post.get("step_failures", 0)) + 1
            if failures > self.settings.publish_max_attempts:
                return await self.fail(
                    "publish_outcome_unknown",
                    "Instagram did not confirm whether the post went live: check the account before "
                    "posting again.", caller_can_fix=False, exc=exc,
                )
            return await self.wait(backoff_seconds(failures, self.settings.publish_retry_base_seconds),
                                   "Checking whether the post went live.", inc={"step_failures": 1})
        detail = f"after {_describe(after)}" if after else "on resume"
        if status.status_code == "PUBLISHED":
            await self.touch()
            return await self.mark_published(await self.find_media_id(), via=f"container read-back {detail}")
        if status.status_code == "FINISHED":
            if not ambiguous and after is not None:
                return await self.fail_for(after)  # a definite refusal of a container still unpublished
            await self.move("ready", step="reconcile", detail=f"not published {detail}")
            attempts = int(self.post.get("publish_attempts", 0))
            return await self.wait(backoff_seconds(attempts, self.settings.publish_retry_base_seconds),
                                   "Retrying the publish call.")
        if status.status_code == "IN_PROGRESS":
            await self.move("processing", step="reconcile", detail="container still processing")
            return None
        if status.status_code == "EXPIRED":
            return await self.recreate("the container expired unpublished", gone=False)
        return await self._container_error(status)

    async def find_media_id(self) -> str | None:
        """The live media of this post, found by its caption, type and time among the media
        published since its first publish attempt (paging back as far as that, bounded) -
        exactly one match or nothing (never ``data[0]``)."""
        assert self.access is not None
        not_before = self.post.get("publish_first_at") or self.post["created_at"]
        try:
            candidates = await containers.media_since(
                graph_of(self.services), self.access, story=self.request["type"] == "story",
                not_before=not_before - containers.CLOCK_SKEW,
            )
        except (GraphError, TransportError, RateLimited) as exc:
            log.info("media lookup failed", post_id=self.post_id, error=_describe(exc))
            return None
        claimed = await posts.media_ids_claimed(
            self.services.store, self.post["external_id"], [c.id for c in candidates]
        )
        found = containers.matching_media(
            candidates, caption=self.request.get("caption", "") if self.request["type"] != "story" else "",
            product_type=containers.PRODUCT_TYPE[self.request["type"]],
            not_before=not_before, claimed=claimed,
        )
        return found.id if found else None

    async def mark_published(self, media_id: str | None, *, via: str) -> str:
        """The container is live. Not fenced by tick: a fact overrides any other view of the post."""
        now = _now()
        doc = await posts.compare_and_set(
            self.services.store, self.post_id, tick=None,
            states=("creating", "processing", "ready", "publishing", "failed", "cancelled"),
            extra_filter={"publish_container": self.post["publish_container"]},
            set_fields={"state": "published", "media_id": media_id, "published_at": now,
                        "media_id_unresolved": media_id is None, "event_pending": "post.published",
                        "state_reason": None, "error": None},
            inc={"tick": 1},
            attempt={"at": now, "step": "publish", "outcome": "published", "detail": via},
        )
        if doc is None:
            return "published"  # someone recorded it first
        log.info("post published", post_id=self.post_id, media_id=media_id, via=via)
        self.post = doc
        await completion.complete(self.services, doc, self.read_permalink)
        return "published"

    async def _quota_delay(self, limit: containers.PublishingLimit | None) -> float:
        """Until our own oldest post in the window leaves it, at most the recheck interval."""
        cap = self.settings.publish_quota_recheck_seconds
        duration = limit.config.quota_duration if limit else 86400
        own = await posts.published_since(
            self.services.store, self.post["external_id"], _now() - timedelta(seconds=duration)
        )
        if not own:
            return cap
        frees_in = (own[0] + timedelta(seconds=duration) - _now()).total_seconds()
        return max(1.0, min(cap, frees_in))
