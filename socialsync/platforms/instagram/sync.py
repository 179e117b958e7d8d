"""One sync run of one Instagram account: stages, resumable from the run's checkpoint.

A run is a list of stages by kind (``STAGES``). Each stage writes idempotent upserts and saves
its progress in the run document (``checkpoint``, ``stages_done``) as it goes, so a job that is
deferred (throttle), retried (transient error) or re-run (worker died) continues where it stopped
and writes nothing twice. Throttles, transient errors and dead tokens propagate to the job
(worker/jobs/sync.py), which defers, backs off or marks the account; per-item insight errors
and missing capabilities are recorded and never fail the run.

The media listing (and why it costs so few calls) is in ``media_listing.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.platforms.instagram import audience as audience_api
from socialsync.platforms.instagram import insights
from socialsync.platforms.instagram.access import AccountAccess, access_for
from socialsync.platforms.instagram.client import GraphClient
from socialsync.platforms.instagram.errors import ErrorKind, GraphError
from socialsync.platforms.instagram.limits import graph_host
from socialsync.platforms.instagram.media import read_insights, read_page
from socialsync.platforms.instagram.media_listing import MAX_CURSORS_KEPT, MediaListing
from socialsync.store import audience as audience_store
from socialsync.store import media as media_store
from socialsync.store import metrics as metrics_store
from socialsync.store import sync_runs
from socialsync import clock

log = get_logger(__name__)

EXTRAS_BATCH = 20  # extras written (and progress saved) together
STAGES: dict[str, tuple[str, ...]] = {
    "full": ("profile", "media_all", "extras", "account_insights", "audience", "stories"),
    "recent": ("profile", "media_recent"),
    "media": ("media_new",),
    "insights": ("account_insights", "extras"),
    "audience": ("audience",),
    "stories": ("stories",),
}


class InstagramSync:
    """The plugin's sync part (transitional `socialsync.sync.runner.StoringSyncer`: the stages
    below still write through socialsync.store themselves)."""

    async def run(
        self, services: Services, account: dict[str, Any], run: dict[str, Any],
        heartbeat: Callable[[], Awaitable[None]],
    ) -> str:
        access = access_for(account, services.settings, services.cipher)  # AccountUnavailable
        return await AccountSync(services, account, run, access, heartbeat=heartbeat).execute()


class AccountSync(MediaListing):
    """Runs the stages of one run for one account (see module docstring)."""

    def __init__(
        self, services: Services, account: dict[str, Any], run: dict[str, Any], access: AccountAccess,
        heartbeat: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.services = services
        self.settings = services.settings
        self.store = services.store
        self.account = account
        self.run = run
        self.access = access
        self.heartbeat = heartbeat
        self.now = clock.now()
        self.calls = 0  # answered calls not yet added to the run document
        self.counts: Counter[str] = Counter()  # item counts not yet added to the run document
        self.partial = bool(run.get("errors"))
        self.followers: int | None = (account.get("profile") or {}).get("followers_count")
        self.media_count: int | None = None  # read by this run's profile stage
        self.host = graph_host(httpx.URL(access.base))
        assert services.governor is not None
        governor = services.governor

        async def counted(response: httpx.Response) -> None:
            self.calls += 1

        self.graph = GraphClient(services.http, governor=governor, on_answer=counted)

    # --- bookkeeping ----------------------------------------------------------------------------
    @property
    def checkpoint(self) -> dict[str, Any]:
        return self.run.setdefault("checkpoint", {})

    async def save(self, stage: str | None = None, items: dict[str, int] | None = None) -> None:
        """Persist the checkpoint, the calls spent and item counts (one write)."""
        set_: dict[str, Any] = {"checkpoint": self.checkpoint, "updated_at": clock.now()}
        inc: dict[str, Any] = {"api_calls": self.calls}
        self.counts.update(items or {})
        for name, count in self.counts.items():
            if count:
                inc[f"items.{name}"] = count
        self.counts.clear()
        if stage is not None:
            self.run.setdefault("stages_done", []).append(stage)
            set_["stages_done"] = self.run["stages_done"]
        await sync_runs.update(self.store, self.run["_id"], set_=set_, inc=inc)
        self.calls = 0
        if self.heartbeat is not None:
            await self.heartbeat()

    async def record_error(self, stage: str, exc: GraphError | None = None, **extra: Any) -> None:
        self.partial = True
        error = {"stage": stage, "at": clock.now(), **extra}
        if exc is not None:
            error.update(exc.describe())
        await sync_runs.add_error(self.store, self.run["_id"], error)

    # --- the run ---------------------------------------------------------------------------------
    async def execute(self) -> str:
        """Run the remaining stages; returns the final status (success / partial)."""
        for stage in STAGES[self.run["kind"]]:
            if stage in self.run.get("stages_done", []):
                continue
            try:
                await getattr(self, f"stage_{stage}")()
            except GraphError as exc:
                if exc.kind not in (ErrorKind.PERMISSION, ErrorKind.INVALID_PARAMETER, ErrorKind.UNKNOWN):
                    await self.save()
                    raise
                # The capability is missing (scope not granted, fewer than 100 followers…):
                # record it on the run and the account, and go on with the next stage.
                await self.record_error(stage, exc)
                await self.store.accounts.update_one(
                    {"_id": self.account["_id"]},
                    {"$set": {f"capabilities.{stage}": {"available": False, "code": exc.code,
                                                        "message": exc.message, "at": self.now}}},
                )
            except BaseException:
                await self.save()
                raise
            await self.save(stage)
        return "partial" if self.partial else "success"

    # --- profile --------------------------------------------------------------------------------
    async def stage_profile(self) -> None:
        profile = await audience_api.read_profile(self.graph, self.access)
        figures = {k: profile[k] for k in ("followers_count", "follows_count", "media_count") if k in profile}
        self.followers = figures.get("followers_count", self.followers)
        self.media_count = figures.get("media_count")
        set_: dict[str, Any] = {f"profile.{k}": v for k, v in figures.items()}
        for key in ("username", "name", "profile_picture_url", "biography", "website"):
            if key in profile:
                set_["profile." + key if key in ("biography", "website") else key] = profile[key]
        set_["profile_synced_at"] = self.now
        await self.store.accounts.update_one({"_id": self.account["_id"]}, {"$set": set_})
        # One point per figure per run: the run's creation time keys it, so a re-run rewrites it.
        created = self.run["created_at"]
        at = created.replace(microsecond=created.microsecond // 1000 * 1000)  # MongoDB keeps ms
        await metrics_store.write(self.store, [
            metrics_store.point(self.account, name, at, value, source="profile") for name, value in figures.items()
        ])

    # --- per-type extras ----------------------------------------------------------------------------
    async def stage_extras(self) -> None:
        """The per-type extras of recent media, one call each; written in one bulk write with the
        progress save every EXTRAS_BATCH items (a re-run re-reads only those not yet written)."""
        since, until = self._extras_window()
        updates = []
        for doc in await media_store.needing_extras(self.store, self.account["_id"], self.run["_id"], since, until):
            metrics = insights.extras_for(doc.get("media_product_type"))
            if not metrics:
                continue
            try:
                values = await read_insights(self.graph, self.access, doc["external_id"], metrics)
                error = None
            except GraphError as exc:
                if not insights.is_item_error(exc):
                    raise
                values, error = {}, insights.item_error(exc)
            updates.append(media_store.insights_update(doc, values, now=self.now, run_id=self.run["_id"],
                                                       error=error, followers=self.followers))
            if len(updates) == EXTRAS_BATCH:
                await media_store.write(self.store, updates)
                await self.save(items={"extras": len(updates)})
                updates = []
        await media_store.write(self.store, updates)
        await self.save(items={"extras": len(updates)})

    # --- account insights and audience --------------------------------------------------------------
    async def stage_account_insights(self) -> None:
        """Daily series and yesterday's totals, each value labelled with the Pacific day Meta
        measured (insight_days.py). Written per metric, so a resumed stage loses nothing."""
        days = self.settings.sync_account_insights_days if self.run["kind"] == "full" else 3
        cp = self.checkpoint.setdefault("account_insights", {"done": []})
        await metrics_store.drop_unlabelled_insights(self.store, self.account["_id"])
        written = 0
        todo = tuple(m for m in audience_api.SERIES_METRICS if m not in cp["done"])
        if len(todo) > 1:  # all series in one call; if one is refused, each is read alone below
            try:
                together = await audience_api.read_series_many(self.graph, self.access, todo, days=days, now=self.now)
            except GraphError as exc:
                if exc.kind is not ErrorKind.PERMISSION:
                    raise
            else:
                for metric, series in together.items():
                    await metrics_store.write(self.store, [
                        metrics_store.point(self.account, metric, ts, v, source="insights", day=True)
                        for ts, v in series])
                    written += len(series)
                cp["done"] += list(todo)
        for metric in audience_api.SERIES_METRICS:
            if metric in cp["done"]:
                continue
            try:
                series = await audience_api.read_series(self.graph, self.access, metric, days=days, now=self.now)
            except GraphError as exc:
                if exc.kind is not ErrorKind.PERMISSION:
                    raise
                await self.record_error("account_insights", exc, metric=metric)
                series = []
            await metrics_store.write(self.store, [
                metrics_store.point(self.account, metric, ts, v, source="insights", day=True) for ts, v in series])
            written += len(series)
            cp["done"].append(metric)
        day, totals = await audience_api.read_day_totals(self.graph, self.access, now=self.now)
        await metrics_store.write(self.store, [
            metrics_store.point(self.account, m, day, v, source="insights", day=True) for m, v in totals.items()])
        await self.save(items={"metric_points": written + len(totals)})

    async def stage_audience(self) -> None:
        cp = self.checkpoint.setdefault("audience", {"done": []})
        for breakdown in audience_api.BREAKDOWNS:
            if breakdown in cp["done"]:
                continue
            result = await audience_api.read_demographics(self.graph, self.access, breakdown)
            for metric, values in result.items():
                await audience_store.put(self.store, self.account, metric, breakdown, audience_api.TIMEFRAME,
                                         values, taken_at=self.now)
            cp["done"].append(breakdown)
            await self.save(items={"audience": len(result)})

    # --- stories ------------------------------------------------------------------------------------
    async def stage_stories(self) -> None:
        """Every live story, page by page until ``paging.next`` is absent (with the media
        listing's repeated-cursor guard), each with its insights (one call per story)."""
        cp = self.checkpoint.setdefault("stories", {})
        cp.setdefault("cursors", [])
        while True:
            page = await read_page(self.graph, self.access, edge="stories", after=cp.get("after"), limit=100,
                                   expand_metrics=None)
            updates = []
            for item in page.items:
                error = None
                try:
                    item.insights = await read_insights(self.graph, self.access, item.id, insights.STORY)
                except GraphError as exc:
                    if not insights.is_item_error(exc):
                        raise
                    error = insights.item_error(exc)
                updates.append(media_store.item_update(
                    self.account, self.run["_id"], item, followers=self.followers, now=self.now, insight_error=error))
            await media_store.write(self.store, updates)
            stop = not page.has_next or not page.after
            if not stop and page.after in cp["cursors"]:
                await self.record_error("stories", reason="repeated_cursor", message="Meta returned a stories "
                                        "cursor it had already returned; the listing stopped there")
                stop = True
            elif not stop:
                cp["cursors"] = (cp["cursors"] + [page.after])[-MAX_CURSORS_KEPT:]
                cp["after"] = page.after
            await self.save(items={"stories": len(updates)})
            if stop:
                return
