"""Instagram's publishing steps on the generic state machine (socialsync/publishing/machine.py):
create the media containers (recorded before anything polls or publishes them), poll them, and
hand over to publish_settle.py for the publish call and the settling of ambiguous outcomes.

    scheduled → creating → processing → ready → publishing → published
                                  (or failed with a reason, or cancelled)
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from socialsync import lifecycle
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.instagram import containers
from socialsync.platforms.instagram.access import AccountAccess, AccountUnavailable, access_for
from socialsync.platforms.instagram.plugin import graph_of
from socialsync.platforms.instagram.errors import ErrorKind, GraphError, RateLimited, TransportError
from socialsync.platforms.instagram.publish_settle import Settling, _describe, _gone
from socialsync.publishing import completion, machine
from socialsync.publishing.machine import (
    INLINE_SHARE, MAX_INLINE_STEPS, PostRun, Superseded, _now, describe_window, job_timeout_seconds,
    poll_interval,
)
from socialsync.publishing.sweep import follow_up_job_id, sweep
from socialsync.retry import retry_for
from socialsync.store import accounts as account_store

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
class InstagramPostRun(Settling, PostRun):
    """Instagram's steps: containers, polling, publishing (settling in publish_settle.py)."""

    def platform_codes(self, exc: BaseException | None) -> tuple[int | None, int | None]:
        return (exc.code, exc.subcode) if isinstance(exc, GraphError) else (None, None)

    async def read_permalink(self, post: dict[str, Any]) -> str | None:
        return await read_permalink(self.services, post, self.access)

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




async def read_permalink(services: Services, post: dict[str, Any], access: AccountAccess | None) -> str | None:
    try:
        if access is None:
            account = await account_store.get(services.store, post["account_id"])
            access = access_for(account or {}, services.settings, services.cipher)
        return await containers.permalink(graph_of(services), access, post["media_id"])
    except (GraphError, TransportError, RateLimited, AccountUnavailable, KeyError) as exc:
        log.info("permalink not read", post_id=post["_id"], error=_describe(exc))
        return None


async def advance(services: Services, post_id: str, tick: int) -> str:
    """Run the next steps of one Instagram post (the job ``publish.advance``)."""
    return await machine.advance(services, post_id, tick, InstagramPostRun)


async def follow_up(services: Services, post_id: str) -> str:
    async def reader(post: dict[str, Any]) -> str | None:
        return await read_permalink(services, post, None)
    return await completion.follow_up(services, post_id, reader)


__all__ = ["ERROR_REASONS", "InstagramPostRun", "Superseded", "advance", "describe_window",
           "follow_up", "follow_up_job_id", "job_timeout_seconds", "sweep"]
