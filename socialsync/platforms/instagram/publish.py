"""The Instagram publish state machine: a post goes out exactly once, and always ends in a
clear state (ARCHITECTURE.md §4.3, PLATFORM_FACTS.md §3).

    scheduled → creating → processing → ready → publishing → published
                                  (or failed with a reason, or cancelled)

One job (``publish.advance(post_id, tick)``) runs the next steps of one post. ``tick`` fences
every write: a change is a compare-and-set on (state, tick), and waiting means "bump the tick
and enqueue the job for the next tick, deferred" — never a sleep. A job whose tick is stale
(superseded by the sweeper, or a re-run after its worker died) changes nothing.

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

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.jobs import JobStatus

from socialsync import events, lifecycle, queue
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.instagram import containers, publish_quota
from socialsync.platforms.instagram.access import AccountAccess, AccountUnavailable, access_for
from socialsync.platforms.instagram.errors import ErrorKind, GraphError, RateLimited, TransportError
from socialsync.platforms.instagram.plugin import graph_of
from socialsync.store import accounts as account_store
from socialsync.store import posts
from socialsync.retry import backoff_seconds, retry_for

log = get_logger(__name__)

# Container ERROR subcodes (and refusals of bad input) → (code, message, caller can fix).
ERROR_REASONS: dict[int, tuple[str, str]] = {
    2207052: ("media_url_unreachable",
              "Instagram could not fetch a media URL: make sure it is public and served over https."),
    2207009: ("aspect_ratio_not_supported",
              "An image's aspect ratio is not supported (4:5 to 1.91:1): crop it and post again."),
    2207026: ("video_format_not_supported",
              "A video's format is not supported (MP4/MOV, H.264/HEVC, 3 s to 15 min): re-encode it."),
    2207004: ("image_too_large", "An image is larger than 8 MiB: make it smaller."),
    2207005: ("media_format_not_supported", "A media file's format is not supported: use JPEG or MP4."),
    2207010: ("caption_too_long", "The caption is too long for Instagram: shorten it."),
    2207028: ("carousel_item_count", "A carousel needs 2 to 10 items."),
}
MAX_INLINE_STEPS = 12
INLINE_SHARE = 0.4  # a job runs steps inline for at most this share of the job timeout, then hands over


def job_timeout_seconds(settings) -> float:  # noqa: ANN001 - Settings
    """arq timeout of a publishing job: a step makes one platform call between two writes, so
    two calls' HTTP timeouts plus slack. Short on purpose: arq blocks a dead worker's job ids for
    the publish queue's longest timeout + 10 s."""
    return max(20.0, 2 * settings.http_timeout_seconds + 5)


class Superseded(Exception):
    """Another job (a newer tick) or a cancel moved the post: this job stops, changing nothing."""


def describe_window(seconds: int) -> str:
    """Meta's ``quota_duration`` (seconds) in words: 86400 → "24 hours", 3600 → "1 hour"."""
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def poll_interval(polls: int, *, first: float, growth: float, cap: float) -> float:
    """Adaptive polling: short first waits, growing geometrically to a cap."""
    return min(cap, first * growth ** max(0, polls))


async def enqueue_step(services: Services, post_id: str, tick: int, *, defer_seconds: float = 0.0,
                       queued_since: datetime | None = None) -> None:
    """Enqueue the job of ``tick``. ``queued_since`` (a past moment) keeps a rescued post's place
    in the queue: arq orders due jobs by score, and the score is when the job became due."""
    job_id = queue.publish_job_id(post_id, tick)
    if queued_since is not None and queued_since < _now():
        await queue.enqueue_at(services.redis, queue.PUBLISH_ADVANCE, post_id, tick, job_id=job_id,
                               when=queued_since)
        return
    await queue.enqueue(
        services.redis, queue.PUBLISH_ADVANCE, post_id, tick,
        job_id=job_id, defer_seconds=max(0.0, defer_seconds) or None,
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _gone(exc: BaseException) -> bool:
    """The container is not there any more (expired and purged, or never existed for Meta)."""
    return isinstance(exc, GraphError) and (
        exc.kind is ErrorKind.CONTAINER_GONE or (exc.code == 100 and exc.subcode == 33)
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, GraphError):
        return f"{exc.kind.value} (code {exc.code}/{exc.subcode}): {exc.message}"
    return f"{type(exc).__name__}: {exc}"


async def advance(services: Services, post_id: str, tick: int) -> str:
    """Run the next steps of one post. Returns what happened (for the job result and logs)."""
    post = await posts.get(services.store, post_id)
    if post is None:
        return "missing"
    if post["state"] in posts.FINAL_STATES:
        return post["state"]
    if post["tick"] != tick:
        if tick < post["tick"]:  # a step that lost its job (e.g. killed between write and enqueue)
            delay = (post["next_check_at"] - _now()).total_seconds() if post.get("next_check_at") else 0
            await enqueue_step(services, post_id, post["tick"], defer_seconds=delay)
        return "stale"
    run = PostRun(services, post)
    try:
        await run.started()
        return await run.drive()
    except Superseded:
        return "superseded"


@dataclass
class PostRun:
    services: Services
    post: dict[str, Any]
    access: AccountAccess | None = None

    # --- plumbing ---------------------------------------------------------------------------
    @property
    def post_id(self) -> str:
        return self.post["_id"]

    @property
    def tick(self) -> int:
        return self.post["tick"]

    @property
    def request(self) -> dict[str, Any]:
        return self.post["request"]

    @property
    def settings(self):  # noqa: ANN201 - Settings
        return self.services.settings

    async def cas(
        self, states: tuple[str, ...], set_fields: dict[str, Any], *, unset: tuple[str, ...] = (),
        inc: dict[str, int] | None = None, step: str | None = None, outcome: str | None = None,
        detail: str | None = None,
    ) -> dict[str, Any]:
        attempt = None
        if step is not None:
            attempt = {"at": _now(), "step": step, "outcome": outcome or "ok", "detail": detail}
        # Every write of a live step is also its heartbeat: the sweep only rescues a post whose
        # ``next_check_at`` is older than PUBLISH_STUCK_AFTER_SECONDS (``wait`` sets a later one).
        set_fields = {"next_check_at": _now(), **set_fields}
        doc = await posts.compare_and_set(
            self.services.store, self.post_id, tick=self.tick, states=states, set_fields=set_fields,
            unset=unset, inc=inc, attempt=attempt,
        )
        if doc is None:
            raise Superseded
        self.post = doc
        return doc

    async def touch(self) -> None:
        """Heartbeat before another platform call: a live step never looks stuck to the sweep
        (at most one call, bounded by the HTTP timeout, between two writes of a live job)."""
        await self.cas((self.post["state"],), {})

    async def started(self) -> None:
        """The job starts: refresh the heartbeat when the post waited in the queue (a backlog), so
        the sweep does not mistake a job that just started for one whose worker died."""
        due = self.post.get("next_check_at")
        fresh = timedelta(seconds=self.settings.publish_stuck_after_seconds / 3)
        if due is None or due < _now() - fresh:
            await self.touch()

    async def move(self, to: str, *, step: str, detail: str | None = None, **fields: Any) -> None:
        await self.cas(
            (self.post["state"],),
            {"state": to, "next_check_at": _now(), "step_failures": 0, "state_reason": None, **fields},
            step=step, outcome=to, detail=detail,
        )

    async def wait(self, seconds: float, reason: str, *, inc: dict[str, int] | None = None,
                   **fields: Any) -> str:
        """Come back later: bump the tick and enqueue the next tick's job, deferred."""
        seconds = max(0.0, seconds)
        doc = await self.cas(
            (self.post["state"],),
            {"next_check_at": _now() + timedelta(seconds=seconds), "state_reason": reason, **fields},
            inc={"tick": 1, **(inc or {})},
        )
        await enqueue_step(self.services, self.post_id, doc["tick"], defer_seconds=seconds)
        return "waiting"

    async def fail(self, code: str, message: str, *, caller_can_fix: bool,
                   exc: BaseException | None = None) -> str:
        error = {
            "code": code, "message": message, "caller_can_fix": caller_can_fix,
            "platform_code": exc.code if isinstance(exc, GraphError) else None,
            "platform_subcode": exc.subcode if isinstance(exc, GraphError) else None,
        }
        doc = await self.cas(
            posts.ACTIVE_STATES,
            {"state": "failed", "error": error, "event_pending": "post.failed", "state_reason": None,
             "failed_at": _now()},
            inc={"tick": 1}, step=self.post["state"], outcome="failed", detail=code,
        )
        log.warning("post failed", post_id=self.post_id, code=code)
        await complete(self.services, doc, self.access)
        return "failed"

    async def fail_for(self, exc: BaseException) -> str:
        """Fail with the reason a platform error gives (caller's input, permissions, other)."""
        if isinstance(exc, GraphError):
            if exc.subcode in ERROR_REASONS:
                code, message = ERROR_REASONS[exc.subcode]
                return await self.fail(code, message, caller_can_fix=True, exc=exc)
            if exc.kind is ErrorKind.MEDIA_URL:
                code, message = ERROR_REASONS[2207052]
                return await self.fail(code, message, caller_can_fix=True, exc=exc)
            if exc.kind is ErrorKind.BAD_INPUT:
                return await self.fail("media_rejected", f"Instagram refused the media: {exc.message}",
                                       caller_can_fix=True, exc=exc)
            if exc.kind is ErrorKind.PERMISSION:
                return await self.fail(
                    "permission_missing",
                    "The account lacks the publishing permission: reconnect it and allow publishing.",
                    caller_can_fix=True, exc=exc,
                )
        return await self.fail(
            "platform_error", f"Instagram kept failing: {_describe(exc)}. Try again later.",
            caller_can_fix=False, exc=exc,
        )

    # --- the loop ---------------------------------------------------------------------------
    async def drive(self) -> str:
        account = await account_store.get(self.services.store, self.post["account_id"])
        try:
            if account is None:
                raise AccountUnavailable("account deleted")
            self.access = access_for(account, self.settings, self.services.cipher)
        except AccountUnavailable:
            if account is not None and account.get("status") == "needs_reconnect":
                return await self.fail(
                    "needs_reconnect",
                    "Instagram rejected the account's access: reconnect the account, then post again.",
                    caller_can_fix=True,
                )
            return await self.fail(
                "account_unavailable",
                "The account is disconnected or needs to be reconnected: reconnect it, then post again.",
                caller_can_fix=True,
            )
        steps = {
            "scheduled": self.start, "creating": self.create_containers, "processing": self.poll,
            "ready": self.publish, "publishing": self.reconcile,
        }
        budget_ends = time.monotonic() + INLINE_SHARE * job_timeout_seconds(self.settings)
        for _ in range(MAX_INLINE_STEPS):
            if time.monotonic() > budget_ends:
                break
            state = self.post["state"]
            if state not in steps:
                return state
            try:
                outcome = await steps[state]()
            except RateLimited as exc:
                return await self.wait(exc.retry_after, f"Paused by the rate limit ({exc.scope}).")
            except (GraphError, TransportError) as exc:
                outcome = await self.step_failed(exc)
            if outcome is not None:
                return outcome
        return await self.wait(0, "continuing")

    async def step_failed(self, exc: GraphError | TransportError) -> str:
        if isinstance(exc, GraphError) and exc.kind is ErrorKind.TOKEN_INVALID:
            await lifecycle.account_needs_reconnect(
                self.services, self.post["account_id"],
                f"Meta rejected the token (code {exc.code}/{exc.subcode}) while publishing.",
            )
            return await self.fail(
                "needs_reconnect",
                "Instagram rejected the account's access: reconnect the account, then post again.",
                caller_can_fix=True, exc=exc,
            )
        failures = int(self.post.get("step_failures", 0)) + 1
        retry = retry_for(exc, failures, base=self.settings.publish_retry_base_seconds,
                          max_tries=self.settings.publish_max_attempts)
        log.info("publish step failed", post_id=self.post_id, state=self.post["state"],
                 failures=failures, error=_describe(exc), retry=retry is not None)
        if retry is None:
            return await self.fail_for(exc)
        delay = (retry.defer_score or 0) / 1000
        return await self.wait(delay, f"Retrying after a platform error ({_describe(exc)}).",
                               inc={"step_failures": 1})

    # --- steps: each returns None to go on at once, or an outcome to stop the job ---------------
    async def start(self) -> str | None:
        publish_at = self.request.get("publish_at")
        if publish_at is not None and publish_at > _now() + timedelta(seconds=0.5):
            return await self.wait((publish_at - _now()).total_seconds(), "Scheduled.")
        await self.move("creating", step="start", started_at=_now())
        return None

    def _item_count(self) -> int:
        return len(self.request["media"]) if self.request["type"] == "carousel" else 1

    async def create_containers(self) -> str | None:
        items = self.post.get("items") or {}
        missing = [i for i in range(self._item_count()) if f"i{i}" not in items]
        results = await asyncio.gather(*(self._create_item(i) for i in missing), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise _most_telling(errors)
        await self.move("processing", step="create", detail=f"{len(missing)} container(s)",
                        poll_started_at=self.post.get("poll_started_at") or _now(), polls=0)
        return None

    async def _create_item(self, index: int) -> None:
        carousel = self.request["type"] == "carousel"
        form = containers.container_form(self.request, item=index if carousel else None)
        assert self.access is not None
        container_id = await containers.create(graph_of(self.services), self.access, form)
        # Recorded before anything polls or publishes it; a superseded job's container is orphaned.
        await self.cas(("creating",), {f"items.i{index}": {"id": container_id, "created_at": _now()}})

    async def poll(self) -> str | None:
        assert self.access is not None
        parent = self.post.get("parent")
        if parent:
            targets = {"parent": parent["id"]}
        else:
            targets = {key: c["id"] for key, c in sorted((self.post.get("items") or {}).items())
                       if c.get("status") != "FINISHED"}
        keys = list(targets)
        results = await asyncio.gather(
            *(containers.read(graph_of(self.services), self.access, targets[k]) for k in keys),
            return_exceptions=True,
        )
        statuses: dict[str, containers.ContainerStatus | None] = {}
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, BaseException):
                if not _gone(result):
                    raise _most_telling([r for r in results if isinstance(r, BaseException)])
                statuses[key] = None
            else:
                statuses[key] = result
        await self.cas(("processing",), {
            ("parent.status" if key == "parent" else f"items.{key}.status"): (s.status_code if s else "GONE")
            for key, s in statuses.items()
        })
        for status in statuses.values():
            if status is not None and status.status_code == "ERROR":
                return await self._container_error(status)
        if any(s is None or s.status_code == "EXPIRED" for s in statuses.values()):
            gone = any(s is None for s in statuses.values())
            return await self.recreate("a container was lost" if gone else "a container expired", gone=gone)
        if any(s is not None and s.status_code == "PUBLISHED" for s in statuses.values()):
            # Only a publish attempt of ours can have done this: settle it as a publish.
            await self.move("publishing", step="poll", detail="container already published")
            return None
        if any(s is not None and s.status_code == "IN_PROGRESS" for s in statuses.values()):
            started = self.post.get("poll_started_at") or _now()
            if _now() - started > timedelta(seconds=self.settings.publish_processing_deadline_seconds):
                return await self.fail(
                    "processing_timeout",
                    "Instagram did not finish processing the media in time; try again, or use a "
                    "shorter or smaller video.", caller_can_fix=False,
                )
            polls = int(self.post.get("polls", 0))
            interval = poll_interval(polls, first=self.settings.publish_poll_first_seconds,
                                     growth=self.settings.publish_poll_growth,
                                     cap=self.settings.publish_poll_cap_seconds)
            return await self.wait(interval, "Instagram is processing the media.", inc={"polls": 1})
        if self.request["type"] == "carousel" and not parent:
            children = [c["id"] for _, c in sorted(self.post["items"].items(), key=lambda kv: int(kv[0][1:]))]
            form = containers.container_form(self.request, children=children)
            container_id = await containers.create(graph_of(self.services), self.access, form)
            await self.cas(("processing",), {"parent": {"id": container_id, "created_at": _now()}},
                           step="create", outcome="carousel container", detail=container_id)
            return None
        publish_container = parent["id"] if parent else self.post["items"]["i0"]["id"]
        await self.move("ready", step="poll", detail="containers finished",
                        publish_container=publish_container, ready_at=_now())
        return None

    async def _container_error(self, status: containers.ContainerStatus) -> str:
        subcode = status.error_subcode
        code, message = ERROR_REASONS.get(
            subcode or 0,
            ("container_error", f"Instagram could not process the media ({status.status or 'ERROR'})."),
        )
        exc = GraphError(status.status or "ERROR", status=200, subcode=subcode)
        return await self.fail(code, message, caller_can_fix=True, exc=exc)

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
            self.services.store, self.post["ig_user_id"], [c.id for c in candidates]
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
        await complete(self.services, doc, self.access)
        return "published"

    async def _quota_delay(self, limit: containers.PublishingLimit | None) -> float:
        """Until our own oldest post in the window leaves it, at most the recheck interval."""
        cap = self.settings.publish_quota_recheck_seconds
        duration = limit.config.quota_duration if limit else 86400
        own = await posts.published_since(
            self.services.store, self.post["ig_user_id"], _now() - timedelta(seconds=duration)
        )
        if not own:
            return cap
        frees_in = (own[0] + timedelta(seconds=duration) - _now()).total_seconds()
        return max(1.0, min(cap, frees_in))


def _most_telling(errors: list[BaseException]) -> BaseException:
    """Of several parallel failures, the one that decides what happens next."""
    for wanted in (Superseded, RateLimited):
        for exc in errors:
            if isinstance(exc, wanted):
                return exc
    for exc in errors:
        if isinstance(exc, GraphError) and exc.kind is ErrorKind.TOKEN_INVALID:
            return exc
    for exc in errors:
        if isinstance(exc, (GraphError, TransportError)):
            return exc
    return errors[0]


async def complete(services: Services, post: dict[str, Any], access: AccountAccess | None) -> None:
    """After a final state: best-effort permalink, then the CRM event (idempotent per post).
    Never turns a published post into a failed one."""
    pending = post.get("event_pending")
    if not pending:
        return
    fields: dict[str, Any] = {}
    if post["state"] == "published" and post.get("media_id") and not post.get("permalink"):
        try:
            if access is None:
                account = await account_store.get(services.store, post["account_id"])
                access = access_for(account or {}, services.settings, services.cipher)
            fields["permalink"] = await containers.permalink(graph_of(services), access, post["media_id"])
        except (GraphError, TransportError, RateLimited, AccountUnavailable, KeyError) as exc:
            log.info("permalink not read", post_id=post["_id"], error=_describe(exc))
    if post["state"] == "published":
        data = {"post_id": post["_id"], "account_id": post["account_id"], "type": post["request"]["type"],
                "media_id": post.get("media_id"), "permalink": fields.get("permalink") or post.get("permalink"),
                "published_at": post["published_at"].isoformat()}
    else:
        data = {"post_id": post["_id"], "account_id": post["account_id"], "type": post["request"]["type"],
                "error": post.get("error")}
    await events.emit(services, post["tenant_id"], pending, data, event_key=f"{pending}:{post['_id']}")
    await services.store[posts.COLLECTION].update_one(
        {"_id": post["_id"], "event_pending": pending}, {"$set": fields, "$unset": {"event_pending": ""}}
    )


async def follow_up(services: Services, post_id: str) -> str:
    """Finish what a final transition left pending (the worker died right after it)."""
    post = await posts.get(services.store, post_id)
    if post is None or not post.get("event_pending"):
        return "nothing"
    await complete(services, post, None)
    return "done"


async def sweep(services: Services) -> int:
    """Rescue the posts whose job went missing or died with its worker; returns how many.

    A post is a candidate when it has been silent (``next_check_at``, refreshed by every write of
    a live step) for PUBLISH_STUCK_AFTER_SECONDS. Its current job (arq's public ``Job.status()``)
    is then
    - queued (due, not started): a backlog, not a loss - left alone (it keeps its place);
    - anything else - in progress (a worker took it and may be dead), deferred although the post
      is overdue, complete, or not found (Redis flushed, a crash between a write and its
      enqueue): the post moves to a *new* tick whose job is enqueued at once, in the place the
      post had in the queue. The old job, if it ever runs (arq re-runs a dead worker's job once
      its in-progress key expires), is a stale tick and changes nothing.
    Recovery therefore never waits for arq's in-progress expiry, and never touches arq's keys: a
    dead worker's ids stay in the queue until arq releases them, and the workers read far enough
    past them (worker/settings.py ``queue_read_limit``) that they do not hide the due work."""
    settings = services.settings
    now = _now()
    before = now - timedelta(seconds=settings.publish_stuck_after_seconds)
    candidates = await posts.overdue(services.store, before=before)
    count = 0
    for stale in candidates:
        old_job = queue.publish_job_id(stale["_id"], stale["tick"])
        status = await queue.job(services.redis, queue.PUBLISH_ADVANCE, old_job).status()
        if status is JobStatus.queued:
            continue
        doc = await posts.compare_and_set(
            services.store, stale["_id"], tick=stale["tick"], states=posts.ACTIVE_STATES,
            set_fields={"next_check_at": now}, inc={"tick": 1},
            attempt={"at": now, "step": "sweep", "outcome": "re-enqueued", "detail": f"job {status.value}"},
        )
        if doc is None:
            continue  # it moved meanwhile: alive after all
        await enqueue_step(services, doc["_id"], doc["tick"], queued_since=stale.get("next_check_at"))
        count += 1
    for post_id, number in await posts.claim_overdue_events(services.store, before=before, now=now):
        await queue.enqueue(services.redis, queue.PUBLISH_FOLLOW_UP, post_id,
                            job_id=follow_up_job_id(post_id, number))
    if count:
        log.info("publish sweep", re_enqueued=count)
    return count


def follow_up_job_id(post_id: str, number: int) -> str:
    """Each sweep pass over a post whose event is overdue uses a new id: the previous follow-up
    may be held by a dead worker, and arq refuses an id it still knows."""
    return f"{queue.publish_follow_up_job_id(post_id)}:{number}"
