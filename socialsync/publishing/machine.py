"""The platform-neutral publish state machine: a post goes out exactly once, and always ends in
a clear state (ARCHITECTURE.md §4.3).

    scheduled → creating → processing → ready → publishing → published
                                  (or failed with a reason, or cancelled)

One job (``publish.advance(post_id, tick)``) runs the next steps of one post. ``tick`` fences
every write: a change is a compare-and-set on (state, tick), and waiting means "bump the tick and
enqueue the job for the next tick, deferred" - never a sleep. A job whose tick is stale
(superseded by the sweep, or a re-run after its worker died) changes nothing.

``PostRun`` is that plumbing (compare-and-set, heartbeat, move, wait, fail); its one subclass,
``plugin_run.PublishRun``, drives every platform's Publisher and records each step's outcome -
every platform id a step obtains (a container, an upload session, a publish id) - *before* the
next step acts on it, so a re-run after a crash resumes instead of starting again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from socialsync import queue
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.publishing.completion import complete
from socialsync.store import posts
from socialsync import clock

log = get_logger(__name__)

MAX_INLINE_STEPS = 12
INLINE_SHARE = 0.4  # a job runs steps inline for at most this share of the job timeout, then hands over


def job_timeout_seconds(settings) -> float:  # noqa: ANN001 - Settings
    """arq timeout of a publishing job: a step makes one platform call between two writes, so
    two calls' HTTP timeouts plus slack. Short on purpose: arq blocks a dead worker's job ids for
    the publish queue's longest timeout + 10 s."""
    return max(30.0, 2 * settings.http_timeout_seconds + 5)


class Superseded(Exception):
    """Another job (a newer tick) or a cancel moved the post: this job stops, changing nothing."""


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
    return clock.now()



async def advance(services: Services, post_id: str, tick: int,
                  run_for: Callable[[Services, dict[str, Any]], "PostRun"]) -> str:
    """Run the next steps of one post with the platform's run (``run_for(services, post)``).
    Returns what happened (for the job result and logs)."""
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
    run = run_for(services, post)
    try:
        await run.started()
        return await run.drive()
    except Superseded:
        return "superseded"


@dataclass
class PostRun:
    services: Services
    post: dict[str, Any]
    access: Any = None  # the platform's credentials for this account, once loaded

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
                   exc: BaseException | None = None, fields: dict[str, Any] | None = None,
                   codes: tuple[int | None, int | None] | None = None) -> str:
        """Final failure; the platform's (code, subcode) come from ``codes`` or from ``exc``."""
        platform_code, platform_subcode = codes if codes is not None else self.platform_codes(exc)
        error = {
            "code": code, "message": message, "caller_can_fix": caller_can_fix,
            "platform_code": platform_code, "platform_subcode": platform_subcode,
        }
        doc = await self.cas(
            posts.ACTIVE_STATES,
            {**(fields or {}), "state": "failed", "error": error, "event_pending": "post.failed",
             "state_reason": None, "failed_at": _now()},
            inc={"tick": 1}, step=self.post["state"], outcome="failed", detail=code,
        )
        log.warning("post failed", post_id=self.post_id, code=code)
        await complete(self.services, doc, self.read_permalink)
        return "failed"

    # --- what a platform provides -----------------------------------------------------------
    async def drive(self) -> str:
        """Run steps until the post waits, or is final; return the outcome."""
        raise NotImplementedError

    def platform_codes(self, exc: BaseException | None) -> tuple[int | None, int | None]:
        """The platform's (code, subcode) of an error, for the stored post error."""
        return None, None

    async def read_permalink(self, post: dict[str, Any]) -> str | None:
        """The public URL of the published media, best effort (None when unknown)."""
        return None

