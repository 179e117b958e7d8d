"""Instagram publishing on the core's Publisher interface (socialsync/platforms/base.py): each
``advance`` is one step that returns a `StepOutcome`; the core (socialsync/publishing/plugin_run.py)
records the outcome's fields by compare-and-set before the next step acts on them. Nothing here
touches MongoDB or the job queue.

Steps (``post["state"]`` in the view) and their core states (``step_states``)::

    queued (scheduled) → creating → processing → ready → publishing → published
                                       ↑ reconcile (publishing): settle an unknown outcome
                              (or failed with a reason, or cancelled before publishing)

- ``creating``: create the missing media containers (carousel children in parallel); their ids
  come back as fields, recorded before anything polls or publishes them.
- ``processing``: read the containers; IN_PROGRESS → a deferred wait (growing intervals, a
  deadline); a carousel's children all FINISHED → create the carousel container (recorded
  before it is polled); FINISHED → ``ready`` with the container to publish.
- ``ready``/``publishing``/``reconcile``: publish_settle.py (quota, the publish call, and the
  read-back that decides an ambiguous or interrupted publish).

Platform fields (``platform_fields`` of the post): ``items`` ({"i0": {id, created_at, status}}),
``parent`` (the carousel container), ``publish_container``, ``polls``, ``poll_started_at``,
``started_at``, ``ready_at``, ``publish_first_at``, ``publishing_since``, ``recreations``,
``blocked``, ``media_id_unresolved``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from socialsync.logs import get_logger
from socialsync.platforms.base import AccountRef, PlatformContext, PublishQuota, PublishRejected, StepOutcome
from socialsync.platforms.instagram import containers, publish_quota
from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.client import GraphClient
from socialsync.platforms.instagram.errors import ErrorKind, GraphError, RateLimited, TransportError
from socialsync.platforms.instagram.publish_outcomes import (  # noqa: F401 - ERROR_REASONS re-exported
    ERROR_REASONS, container_error, describe, failed, failure_for, gone,
)
from socialsync.platforms.instagram.publish_settle import Settling, describe_window  # noqa: F401
from socialsync.platforms.instagram.publish_validation import PostRejected, PostRequest, check_post

log = get_logger(__name__)

def poll_interval(polls: int, *, first: float, growth: float, cap: float) -> float:
    """Adaptive polling: short first waits, growing geometrically to a cap."""
    return min(cap, first * growth ** max(0, polls))


def most_telling(errors: list[BaseException]) -> BaseException:
    """Of several parallel failures, the one that decides what happens next."""
    for exc in errors:
        if isinstance(exc, RateLimited):
            return exc
    for exc in errors:
        if isinstance(exc, GraphError) and exc.kind is ErrorKind.TOKEN_INVALID:
            return exc
    for exc in errors:
        if isinstance(exc, (GraphError, TransportError)):
            return exc
    return errors[0]


class InstagramPublisher(Settling):
    step_states = {"queued": "scheduled", "creating": "creating", "processing": "processing",
                   "ready": "ready", "publishing": "publishing", "reconcile": "publishing"}
    # Meta cannot refresh a token it refused (refreshing needs a valid one): reconnect.
    refresh_refused_token = False
    # Only the publish call is ever in doubt after a dead worker: any other step is run again
    # (a container created by a killed step is an orphan, never recorded, never published).
    guarded_steps = frozenset({"publishing"})

    def __init__(self, context: PlatformContext) -> None:
        self.context = context

    @property
    def settings(self):  # noqa: ANN201 - Settings
        return self.context.settings

    @property
    def graph(self) -> GraphClient:
        return GraphClient(self.context.http, governor=self.context.governor)

    def access(self, account: AccountRef) -> AccountAccess:
        host = self.settings.ig_graph if account.login == "instagram" else self.settings.fb_graph
        return AccountAccess(account_id=account.id, tenant_id=account.tenant_id, ig_user_id=account.external_id,
                             login=account.login, base=f"{host}/{self.settings.graph_version}",
                             token=account.credentials.access_token)

    # --- the interface ----------------------------------------------------------------------
    def validate(self, account: AccountRef, request: Mapping[str, Any], now: datetime, *,
                 sandbox_base: str | None = None) -> dict[str, Any]:
        """The stored request (publish_at is the core's), or `PublishRejected`."""
        try:
            post = PostRequest.model_validate(dict(request))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise PublishRejected(400, "invalid_request", f"{where}: {first.get('msg')}") from None
        shape = {"status": "active", "login": account.login, "scopes": list(account.credentials.scopes or ())}
        try:
            check_post(post, account=shape, now=now,
                       horizon=timedelta(days=self.settings.publish_schedule_horizon_days))
        except PostRejected as exc:
            raise PublishRejected(exc.status, exc.code, exc.message) from None
        return post.model_dump(mode="python")

    async def quota_left(self, account: AccountRef, at: datetime, own_posts: Any) -> PublishQuota:
        """A dry run's estimate from Meta's last answer and our own posts (publish_quota.py)."""
        quota = await publish_quota.estimate(self.context.redis, own_posts, account.external_id, at)
        return PublishQuota(left=quota.left, frees_at=quota.frees_at)

    async def advance(self, account: AccountRef, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        access = self.access(account)
        step = post.get("state") or "queued"
        try:
            if step == "queued":
                return StepOutcome("continue", state="creating", fields={"started_at": now})
            if step == "creating":
                return await self.create_containers(access, post, now)
            if step == "processing":
                return await self.poll(access, post, now)
            if step == "ready":
                return await self.ready(access, post, now)
            if step == "publishing":
                if post.get("interrupted"):  # the publish call may have happened: read back first
                    return await self.reconcile(access, post, now)
                return await self.publish(access, post, now)
            if step == "reconcile":
                return await self.reconcile(access, post, now)
        except RateLimited as exc:  # the governor refused before the call: nothing is in doubt
            return StepOutcome("wait", state=step, wait_seconds=exc.retry_after,
                               reason=f"Paused by the rate limit ({exc.scope}).")
        return StepOutcome("failed", error_code="invalid_state", message=f"unknown step {step!r}")

    def give_up(self, post: Mapping[str, Any], exc: BaseException) -> StepOutcome:
        if post.get("state") in ("publishing", "reconcile"):
            return failed("publish_outcome_unknown",
                          "Instagram did not confirm whether the post went live: check the account before "
                          "posting again.", caller_can_fix=False, exc=exc)
        return failure_for(exc)

    async def permalink(self, account: AccountRef, post: Mapping[str, Any]) -> str | None:
        media_id = post.get("media_id")
        if not media_id:
            return None
        try:
            return await containers.permalink(self.graph, self.access(account), media_id)
        except (GraphError, TransportError, RateLimited, KeyError) as exc:
            log.info("permalink not read", post_id=post.get("_id"), error=describe(exc))
            return None

    # --- steps --------------------------------------------------------------------------------
    async def create_containers(self, access: AccountAccess, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        request = post["request"]
        count = len(request["media"]) if request["type"] == "carousel" else 1
        items = post.get("items") or {}
        missing = [i for i in range(count) if f"i{i}" not in items]
        results = await asyncio.gather(*(self._create_item(access, request, i) for i in missing),
                                       return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            # The containers created meanwhile are orphans: never recorded, never published.
            raise most_telling(errors)
        fields: dict[str, Any] = {f"items.i{i}": {"id": cid, "created_at": now} for i, cid in zip(missing, results, strict=True)}
        fields.update(poll_started_at=post.get("poll_started_at") or now, polls=0)
        return StepOutcome("continue", state="processing", fields=fields)

    async def _create_item(self, access: AccountAccess, request: Mapping[str, Any], index: int) -> str:
        carousel = request["type"] == "carousel"
        form = containers.container_form(dict(request), item=index if carousel else None)
        return await containers.create(self.graph, access, form)

    async def poll(self, access: AccountAccess, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        request = post["request"]
        parent = post.get("parent")
        items = post.get("items") or {}
        if parent:
            targets = {"parent": parent["id"]}
        else:
            targets = {key: c["id"] for key, c in sorted(items.items()) if c.get("status") != "FINISHED"}
        keys = list(targets)
        results = await asyncio.gather(*(containers.read(self.graph, access, targets[k]) for k in keys),
                                       return_exceptions=True)
        statuses: dict[str, containers.ContainerStatus | None] = {}
        for key, result in zip(keys, results, strict=True):
            if isinstance(result, BaseException):
                if not gone(result):
                    raise most_telling([r for r in results if isinstance(r, BaseException)])
                statuses[key] = None
            else:
                statuses[key] = result
        fields: dict[str, Any] = {
            ("parent.status" if key == "parent" else f"items.{key}.status"): (s.status_code if s else "GONE")
            for key, s in statuses.items()
        }
        for status in statuses.values():
            if status is not None and status.status_code == "ERROR":
                return container_error(status, fields)
        if any(s is None or s.status_code == "EXPIRED" for s in statuses.values()):
            lost = any(s is None for s in statuses.values())
            return self.recreate(post, now, "a container was lost" if lost else "a container expired", gone=lost)
        if any(s is not None and s.status_code == "PUBLISHED" for s in statuses.values()):
            # Only a publish attempt of ours can have done this: settle it as a publish.
            return StepOutcome("continue", state="reconcile", fields=fields)
        if any(s is not None and s.status_code == "IN_PROGRESS" for s in statuses.values()):
            started = post.get("poll_started_at") or now
            if now - started > timedelta(seconds=self.settings.publish_processing_deadline_seconds):
                return StepOutcome("failed", error_code="processing_timeout", fields=fields, message=(
                    "Instagram did not finish processing the media in time; try again, or use a "
                    "shorter or smaller video."))
            polls = int(post.get("polls") or 0)
            interval = poll_interval(polls, first=self.settings.publish_poll_first_seconds,
                                     growth=self.settings.publish_poll_growth, cap=self.settings.publish_poll_cap_seconds)
            return StepOutcome("wait", state="processing", wait_seconds=interval,
                               reason="Instagram is processing the media.", fields={**fields, "polls": polls + 1})
        if request["type"] == "carousel" and not parent:
            children = [c["id"] for _, c in sorted(items.items(), key=lambda kv: int(kv[0][1:]))]
            form = containers.container_form(dict(request), children=children)
            container_id = await containers.create(self.graph, access, form)
            # Recorded (with the children's statuses) before the next step polls it.
            return StepOutcome("continue", state="processing",
                               fields={**fields, "parent": {"id": container_id, "created_at": now}})
        publish_container = parent["id"] if parent else items["i0"]["id"]
        return StepOutcome("continue", state="ready",
                           fields={**fields, "publish_container": publish_container, "ready_at": now})


__all__ = ["ERROR_REASONS", "InstagramPublisher", "failure_for", "poll_interval"]
