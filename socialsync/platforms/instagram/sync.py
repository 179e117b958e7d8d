"""Instagram's sync stages (`platforms.base.Syncer`): Graph reads in, records and checkpoints out.

A run is a list of stages by kind (``STAGES``), driven by the core (socialsync/sync/runner.py):
each stage is an async generator of `SyncBatch`es, and the core stores a batch's records, then
its checkpoint, so a job that is deferred (throttle), retried (transient error) or re-run
(worker died) continues where it stopped and writes nothing twice. The stages never touch the
store: what they need to know about stored media they ask the core's read-only `StoredView`
(``view``), and what they learn goes back as records (`ProfileRecord`, `MediaRecord`,
`MediaInsights`, `MetricPoint`, `AudienceRecord`, `ListingComplete`, `AccountExtra`,
`StageProblem`). Throttles, transient errors and dead tokens propagate to the job
(worker/jobs/sync.py), after a last batch with the calls and checkpoint reached; per-item
insight errors are recorded and never fail the run; a stage Meta refuses (``skipped_kinds``)
is recorded by the core and the run goes on.

The media listing (and why it costs so few calls) is in ``media_listing.py``.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from typing import Any

import httpx

from socialsync.platforms.base import (
    AccountRef, AudienceRecord, MediaInsights, MetricPoint, PlatformContext, ProfileRecord, StageProblem, StoredView,
    SyncBatch, SyncRecord,
)
from socialsync.platforms.instagram import audience as audience_api
from socialsync.platforms.instagram import insights
from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.client import GraphClient
from socialsync.platforms.instagram.errors import ErrorKind, GraphError
from socialsync.platforms.instagram.limits import graph_host
from socialsync.platforms.instagram.media import read_insights, read_page
from socialsync.platforms.instagram.media_listing import MAX_CURSORS_KEPT, MediaListing, _aware, media_record

EXTRAS_BATCH = 20  # extras stored (and progress saved) together
STAGES: dict[str, tuple[str, ...]] = {
    "full": ("profile", "media_all", "extras", "account_insights", "audience", "stories"),
    "recent": ("profile", "media_recent"),
    "media": ("media_new",),
    "insights": ("account_insights", "extras"),
    "audience": ("audience",),
    "stories": ("stories",),
}


class InstagramSync:
    """The plugin's `Syncer`: one `StageRun` per stage the core asks for."""

    # Meta answers a capability the account lacks (scope not granted, fewer than 100 followers…)
    # with permission / parameter / unknown errors: the core records them and goes on.
    skipped_kinds = frozenset({ErrorKind.PERMISSION, ErrorKind.INVALID_PARAMETER, ErrorKind.UNKNOWN,
                               ErrorKind.CAPABILITY_MISSING})
    refresh_refused_token = False  # a refused Meta token cannot be refreshed: reconnect

    def __init__(self, context: PlatformContext) -> None:
        self.context = context

    def stage(
        self, account: AccountRef, name: str, *, checkpoint: Mapping[str, Any], state: Mapping[str, Any],
        now: datetime, view: StoredView | None = None,
    ) -> AsyncIterator[SyncBatch]:
        if view is None:
            raise ValueError("Instagram's stages read the core's stored view: pass view=")
        run = StageRun(self.context, account, checkpoint=checkpoint, now=now, view=view)
        body = getattr(run, f"stage_{name}", None)
        if body is None:
            raise ValueError(f"instagram has no sync stage {name!r}")
        return run.guarded(body())


def _access(account: AccountRef, settings: Any) -> AccountAccess:
    host = settings.ig_graph if account.login == "instagram" else settings.fb_graph
    return AccountAccess(account_id=account.id, tenant_id=account.tenant_id, ig_user_id=account.external_id,
                         login=account.login, base=f"{host}/{settings.graph_version}",
                         token=account.credentials.access_token)


class StageRun(MediaListing):
    """One stage of one run for one account (see module docstring): its Graph client (every
    answered call counted into the next batch), its checkpoint ``cp``, and the records and item
    counts gathered since the last batch."""

    def __init__(self, context: PlatformContext, account: AccountRef, *, checkpoint: Mapping[str, Any],
                 now: datetime, view: StoredView) -> None:
        self.settings = context.settings
        self.redis = context.redis
        self.account = account
        self.view = view
        self.now = now
        self.access = _access(account, context.settings)
        self.cp: dict[str, Any] = copy.deepcopy(dict(checkpoint))
        self.calls = 0  # answered calls not yet in a batch
        self.counts: Counter[str] = Counter()  # item counts not yet in a batch
        self.pending: list[SyncRecord] = []  # records not yet in a batch
        self.media_count: int | None = (account.profile or {}).get("media_count")
        self.unavailable_before: datetime | None = _aware(account.extra.get("insights_unavailable_before"))
        self.host = graph_host(httpx.URL(self.access.base))

        async def counted(response: httpx.Response) -> None:
            self.calls += 1

        self.graph = GraphClient(context.http, governor=context.governor, on_answer=counted)

    # --- bookkeeping ----------------------------------------------------------------------------
    def batch(self, records: list[SyncRecord] | None = None, items: dict[str, int] | None = None) -> SyncBatch:
        """What is gathered since the last batch, with the checkpoint as it stands now."""
        self.counts.update(items or {})
        out = SyncBatch(records=[*self.pending, *(records or [])], checkpoint=copy.deepcopy(self.cp),
                        calls=self.calls, items={k: v for k, v in self.counts.items() if v})
        self.pending, self.calls = [], 0
        self.counts.clear()
        return out

    def gather(self, points: list[SyncRecord]) -> None:
        """Metric points for the next batch (counted as ``metric_points``)."""
        self.pending += points
        self.counts["metric_points"] += len(points)

    def problem(self, stage: str, exc: GraphError | None = None, **details: Any) -> None:
        self.pending.append(StageProblem(stage, details, exc))

    async def guarded(self, body: AsyncIterator[SyncBatch]) -> AsyncIterator[SyncBatch]:
        """The stage's batches, then one with what is left (calls, counts, problems). On an error
        (throttle, transient, dead token) that last batch comes first - the calls spent and the
        checkpoint reached are kept - then the error."""
        try:
            async for batch in body:
                yield batch
        except Exception:
            yield self.batch()
            raise
        if self.calls or self.counts or self.pending:
            yield self.batch()

    # --- profile --------------------------------------------------------------------------------
    async def stage_profile(self) -> AsyncIterator[SyncBatch]:
        profile = await audience_api.read_profile(self.graph, self.access)
        figures = {k: profile[k] for k in ("followers_count", "follows_count", "media_count") if k in profile}
        fields: dict[str, Any] = dict(figures)
        for key in ("username", "name", "profile_picture_url", "biography", "website"):
            if key in profile:
                fields[key] = profile[key]
        # One point per figure per run: the run's creation time keys it, so a re-run rewrites it.
        at = self.view.run_started_at
        yield self.batch([ProfileRecord(fields), *(
            MetricPoint(name, at, value, source="profile") for name, value in figures.items())])

    # --- per-type extras ----------------------------------------------------------------------------
    async def stage_extras(self) -> AsyncIterator[SyncBatch]:
        """The per-type extras of recent media, one call each; stored with the progress every
        EXTRAS_BATCH items (a re-run re-reads only those not yet stored: the view leaves out
        what this run already read)."""
        since, until = self._extras_window()
        records: list[SyncRecord] = []
        for doc in await self.view.needing_extras(since, until):
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
            basis = {k: doc[k] for k in ("like_count", "comments_count", "insights") if k in doc}
            records.append(MediaInsights(doc["external_id"], values, error=error, basis=basis))
            if len(records) == EXTRAS_BATCH:
                yield self.batch(records, items={"extras": len(records)})
                records = []
        yield self.batch(records, items={"extras": len(records)})

    # --- account insights and audience --------------------------------------------------------------
    async def stage_account_insights(self) -> AsyncIterator[SyncBatch]:
        """Daily series and yesterday's totals, each value labelled with the Pacific day Meta
        measured (insight_days.py); stored in one batch (on an error, with what was read so far
        and the metrics done, so a resumed stage loses nothing and reads nothing twice; the core
        drops points stored before days were labelled)."""
        days = self.settings.sync_account_insights_days if self.view.run_kind == "full" else 3
        cp = self.cp
        cp.setdefault("done", [])

        def points(metric: str, series: list[tuple[datetime, float]]) -> list[SyncRecord]:
            return [MetricPoint(metric, ts, v, source="insights", day=True) for ts, v in series]

        todo = tuple(m for m in audience_api.SERIES_METRICS if m not in cp["done"])
        if len(todo) > 1:  # all series in one call; if one is refused, each is read alone below
            try:
                together = await audience_api.read_series_many(self.graph, self.access, todo, days=days, now=self.now)
            except GraphError as exc:
                if exc.kind is not ErrorKind.PERMISSION:
                    raise
            else:
                for metric, series in together.items():
                    self.gather(points(metric, series))
                cp["done"] += list(todo)
        for metric in audience_api.SERIES_METRICS:
            if metric in cp["done"]:
                continue
            try:
                series = await audience_api.read_series(self.graph, self.access, metric, days=days, now=self.now)
            except GraphError as exc:
                if exc.kind is not ErrorKind.PERMISSION:
                    raise
                self.problem("account_insights", exc, metric=metric)
                series = []
            self.gather(points(metric, series))
            cp["done"].append(metric)
        day, totals = await audience_api.read_day_totals(self.graph, self.access, now=self.now)
        self.gather([MetricPoint(m, day, v, source="insights", day=True) for m, v in totals.items()])
        yield self.batch()  # one batch: the series kept so far go with the last batch on an error too

    async def stage_audience(self) -> AsyncIterator[SyncBatch]:
        cp = self.cp
        cp.setdefault("done", [])
        for breakdown in audience_api.BREAKDOWNS:
            if breakdown in cp["done"]:
                continue
            result = await audience_api.read_demographics(self.graph, self.access, breakdown)
            cp["done"].append(breakdown)
            yield self.batch([AudienceRecord(breakdown, values, self.now, metric=metric, timeframe=audience_api.TIMEFRAME)
                              for metric, values in result.items()], items={"audience": len(result)})

    # --- stories ------------------------------------------------------------------------------------
    async def stage_stories(self) -> AsyncIterator[SyncBatch]:
        """Every live story, page by page until ``paging.next`` is absent (with the media
        listing's repeated-cursor guard), each with its insights (one call per story)."""
        cp = self.cp
        cp.setdefault("cursors", [])
        while True:
            page = await read_page(self.graph, self.access, edge="stories", after=cp.get("after"), limit=100,
                                   expand_metrics=None)
            records: list[SyncRecord] = []
            for item in page.items:
                error = None
                try:
                    item.insights = await read_insights(self.graph, self.access, item.id, insights.STORY)
                except GraphError as exc:
                    if not insights.is_item_error(exc):
                        raise
                    error = insights.item_error(exc)
                records.append(media_record(item, insight_error=error))
            stop = not page.has_next or not page.after
            if not stop and page.after in cp["cursors"]:
                self.problem("stories", reason="repeated_cursor", message="Meta returned a stories "
                             "cursor it had already returned; the listing stopped there")
                stop = True
            elif not stop:
                cp["cursors"] = (cp["cursors"] + [page.after])[-MAX_CURSORS_KEPT:]
                cp["after"] = page.after
            yield self.batch(records, items={"stories": len(records)})
            if stop:
                return
