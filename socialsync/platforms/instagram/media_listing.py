"""The media listing of a sync run: every post of an account at as few calls as the API allows.

A mixin of ``sync.StageRun`` (which holds the stage's bookkeeping: ``graph``, ``access``, ``cp``
(the stage's checkpoint), ``view`` (the core's read-only `StoredView`), ``batch``, ``problem``,
``pending``, ``counts``). The stages are async generators of `SyncBatch`es: every batch holds
the records a page gave and the checkpoint that is true once they are stored; nothing here
writes (the core stores the batch, then its checkpoint). See docs/sync.md.

The media listing spends as few calls as the API allows (see docs/sync.md):
- one request per page with the metrics every type supports expanded (``insights.COMMON``)
  and carousel children expanded;
- code 1 ("reduce the amount of data") halves the page size;
- a page that one item rejects is halved until the item is alone, then that item is read
  without insights and asked for its insights on its own: if that works, the host refuses the
  expansion itself (remembered per host in Redis for ``sync_expansion_off_seconds``, then every
  item is fetched on its own until the flag expires and a run probes again); if it
  fails, the error is recorded on the item. 2108006 (posted before the business conversion)
  also holds for every older item, so the rest of the listing is read without insights and
  those items are recorded as unavailable without a call;
- per-type extras (follows, profile visits, reels watch time) per item, only for posts between
  ``sync_extras_min_age_hours`` (48 h: Meta's figures are provisional before) and
  ``sync_extras_days`` (7) old;
- with ``insights_unavailable_before`` known, the first page is sized to hold exactly the posts
  that can answer insights (stored ones newer than it, plus new ones), so it is never refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from socialsync.config import Settings
from socialsync.logs import get_logger
from socialsync.platforms.base import AccountExtra, ListingComplete, MediaRecord, StoredView, SyncBatch, SyncRecord
from socialsync.platforms.instagram import insights
from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.client import GraphClient
from socialsync.platforms.instagram.errors import GraphError
from socialsync.platforms.instagram.media import MediaItem, MediaPage, read_insights, read_page

log = get_logger(__name__)

EXPANSION_OFF_KEY = "sync:expansion_off:{host}"
MAX_CURSORS_KEPT = 100
BEFORE_CONVERSION_ERROR = {"reason": "posted_before_business_conversion", "code": 100,
                           "subcode": insights.BEFORE_CONVERSION_SUBCODE, "fbtrace_id": None}


class _KnownUnavailable(Exception):
    """An item known (from an earlier answer) to have no insights: no call is made for it."""


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def media_record(item: MediaItem, *, insight_error: dict[str, Any] | None = None, extras_read: bool = False) -> MediaRecord:
    """One media item as read from the Graph API, as the record the core stores."""
    fields = item.model_dump(exclude={"id", "insights"})
    fields["children"] = list(fields.get("children") or [])
    return MediaRecord(platform_id=item.id, fields=fields, insights=item.insights, insights_error=insight_error,
                       extras_read=extras_read)


class MediaListing:
    """The ``media_all`` / ``media_recent`` / ``media_new`` stages and their fallbacks."""

    settings: Settings
    redis: Redis
    view: StoredView
    access: AccountAccess
    graph: GraphClient
    host: str
    now: datetime
    media_count: int | None
    unavailable_before: datetime | None
    counts: Counter[str]
    pending: list[SyncRecord]
    cp: dict[str, Any]

    def batch(self, records: list[SyncRecord] | None = None, items: dict[str, int] | None = None) -> SyncBatch:
        raise NotImplementedError

    def problem(self, stage: str, exc: GraphError | None = None, **details: Any) -> None:
        raise NotImplementedError

    def stage_media_all(self) -> AsyncIterator[SyncBatch]:
        return self.list_media("media_all", mode="all")

    def stage_media_recent(self) -> AsyncIterator[SyncBatch]:
        return self.list_media("media_recent", mode="recent")

    def stage_media_new(self) -> AsyncIterator[SyncBatch]:
        return self.list_media("media_new", mode="new")

    async def expansion_allowed(self) -> bool:
        return not await self.redis.exists(EXPANSION_OFF_KEY.format(host=self.host))

    def _window_start(self, mode: str, lookback: datetime) -> datetime | None:
        """Where a ``recent`` listing may stop: the look-back, or - when newer - the time of the
        newest post known to have no insights (posted before the business conversion): the
        posts at or before it have nothing for ``recent`` to refresh."""
        if mode != "recent":
            return None
        cutoff = self.unavailable_before
        return max(lookback, cutoff) if cutoff is not None else lookback

    async def _plan_first_page(self, cp: dict[str, Any], mode: str, window: datetime | None) -> None:
        """Size the first page so that, when posts from before the business conversion are known
        (``insights_unavailable_before``), the expanded page holds only posts that can answer
        insights: the stored posts newer than that time (or than the ``recent`` window), plus
        the posts new since (profile ``media_count`` minus what is stored; ``new`` mode needs
        none: its page of known posts is where it stops). Then no page is refused and shrunk."""
        s = self.settings
        cp["size"] = s.sync_page_size
        cutoff = self.unavailable_before
        if cutoff is None:
            return
        newer = await self.view.count_listed(newer_than=max(cutoff, window or cutoff))
        added = 0
        if mode != "new" and self.media_count is not None:
            added = max(0, self.media_count - await self.view.count_listed())
        if newer + added == 0:
            cp["expand"] = False  # nothing that can answer insights: read without expansion
            return
        cp["size"] = max(1, min(s.sync_page_size, newer + added))
        cp["expect"] = newer + added  # after these, the rest has no insights to expand

    async def list_media(self, stage: str, *, mode: str) -> AsyncIterator[SyncBatch]:
        s = self.settings
        lookback = self.now - timedelta(days=s.sync_lookback_days)
        window = self._window_start(mode, lookback)
        cp = self.cp
        cp.setdefault("expand", True)
        cp.setdefault("cursors", [])
        cp.setdefault("pages", 0)
        cp.setdefault("read", 0)
        if "size" not in cp:
            await self._plan_first_page(cp, mode, window)
        if cp["expand"] and not await self.expansion_allowed():
            cp["expand"] = False
        oldest: datetime | None = None
        while not cp.get("listed"):  # listed: the last batch is stored, nothing is left to do
            if cp.get("after_done"):
                cp["listed"] = True
                yield self.batch(self._listing_complete(mode, window, lookback))
                break
            if cp["pages"] >= s.sync_max_pages:
                self.problem(stage, reason="too_many_pages", message=f"stopped after {s.sync_max_pages} pages")
                cp["listed"] = True
                yield self.batch()
                break
            page = await self._next_page(cp, stage)
            if page is None:
                yield self.batch()  # page size changed or an item was isolated: saved, read again
                continue
            items = page.items
            known: set[str] = set()
            if mode == "new" and items:
                known = await self.view.known_before_run([i.id for i in items])
            records = await self._page_records(items, expanded=cp["expand"], lookback=lookback, stage=stage)
            cp["pages"] += 1
            cp["read"] += len(items)
            if cp.get("expect") and cp["read"] >= cp["expect"] and cp["expand"]:
                cp["expand"] = False  # the rest predates the conversion: no expansion, no calls
                cp["size"] = s.sync_page_size
            if items:
                oldest = min(i.timestamp for i in items)
            complete = stop = False
            if not page.has_next or not page.after:
                complete = stop = True
            elif page.after in cp["cursors"]:
                self.problem(stage, reason="repeated_cursor", message="Meta returned a cursor it "
                             "had already returned; the listing stopped there")
                stop = True
            else:
                cp["cursors"] = (cp["cursors"] + [page.after])[-MAX_CURSORS_KEPT:]
                cp["after"] = page.after
                if mode == "recent" and oldest is not None and window is not None and oldest <= window:
                    complete = stop = True
                elif mode == "recent" and cp.get("expect") and cp["read"] >= cp["expect"]:
                    complete = stop = True  # every post newer than the window start has been read
                elif mode == "new" and known:
                    stop = True
            if complete:
                records += self._listing_complete(mode, window, lookback)
            if stop:
                cp["listed"] = True
            yield self.batch(records, items={"media": len(items)})

    @staticmethod
    def _listing_complete(mode: str, window: datetime | None, lookback: datetime) -> list[SyncRecord]:
        """A complete listing: the core marks what it did not see as deleted (after the page's
        media are stored). ``recent``: the window starts at the look-back, or strictly after the
        last post known to predate the conversion (those are not listed by ``recent``, so not
        "unseen"). ``new`` stops at known posts: it says nothing about the others."""
        if mode == "all":
            return [ListingComplete()]
        if mode == "recent":
            return [ListingComplete(since=window, strictly_after=window != lookback)]
        return []

    async def _next_page(self, cp: dict[str, Any], stage: str) -> MediaPage | None:
        """Read the page at the checkpoint; None when the caller must save and read again."""
        s = self.settings
        expand = insights.COMMON if cp["expand"] else None
        try:
            return await read_page(self.graph, self.access, after=cp.get("after"), limit=cp["size"],
                                   expand_metrics=expand)
        except GraphError as exc:
            if exc.code == 1 and cp["size"] > s.sync_min_page_size:
                # "Please reduce the amount of data": a smaller page is the retry for it (and for
                # a plain code-1 hiccup too), so no message text is needed to tell them apart.
                cp["size"] = max(s.sync_min_page_size, cp["size"] // 2)
                return None
            if not (cp["expand"] and insights.is_item_error(exc)):
                raise
            if exc.subcode == insights.BEFORE_CONVERSION_SUBCODE:
                return await self._tail_probe(cp)
            if cp["size"] > 1:
                cp["size"] = max(1, cp["size"] // 2)
                return None
            await self._isolate(cp, stage)
            return None

    async def _tail_probe(self, cp: dict[str, Any]) -> MediaPage:
        """The expanded page was refused with 2108006: some of its posts predate the business
        conversion, and those are the oldest ones, so they sit at the page's tail. Read the page
        plainly once, then find the longest expanded prefix by probing from the tail (1, 2, 4 …
        items shorter, then bisecting): usually one probe. The page handed back holds the prefix
        with its insights and the tail, which is recorded unavailable without a call."""
        after, size = cp.get("after"), cp["size"]
        plain = await read_page(self.graph, self.access, after=after, limit=size, expand_metrics=None)
        good: MediaPage | None = None
        lo, hi, step = 0, len(plain.items), 1
        while hi - lo > 1:
            probe = (lo + hi) // 2 if good is not None else max(lo + 1, hi - step)
            try:
                page = await read_page(self.graph, self.access, after=after, limit=probe,
                                       expand_metrics=insights.COMMON)
            except GraphError as exc:
                if not insights.is_item_error(exc):
                    raise
                hi, step = probe, step * 2
                continue
            good, lo = page, probe
        tail = plain.items[lo:]
        if tail:
            self._posted_before_conversion(tail[0])  # and so is everything older
        cp["size"] = self.settings.sync_page_size
        return MediaPage(items=(good.items if good else []) + tail, after=plain.after, has_next=plain.has_next)

    async def _isolate(self, cp: dict[str, Any], stage: str) -> None:
        """A one-item page rejected the expansion: is it the item, or the host?"""
        page = await read_page(self.graph, self.access, after=cp.get("after"), limit=1, expand_metrics=None)
        if not page.items:
            cp["expand"] = False
            return
        item = page.items[0]
        cutoff = self.unavailable_before
        try:
            if cutoff is not None and item.timestamp <= cutoff:
                raise _KnownUnavailable
            values = await read_insights(self.graph, self.access, item.id, insights.COMMON)
        except _KnownUnavailable:
            # Known to predate the business conversion: recorded without asking again.
            self.pending.append(media_record(item, insight_error=BEFORE_CONVERSION_ERROR))
            self.counts["insights_unavailable"] += 1
        except GraphError as exc:
            if not insights.is_item_error(exc):
                raise
            # The item itself cannot answer: record it; the page after it is read expanded again.
            self.pending.append(media_record(item, insight_error=insights.item_error(exc)))
            self._note_item_error(item, exc)
        else:
            # The item answers on its own: the host refuses insights expansion. Remember that.
            # With a lifetime: when it ends, the next run probes the expansion again.
            await self.redis.set(EXPANSION_OFF_KEY.format(host=self.host), "1",
                                 ex=self.settings.sync_expansion_off_seconds)
            log.info("insights expansion refused by host, falling back per item", host=self.host,
                     for_seconds=self.settings.sync_expansion_off_seconds)
            cp["expand"] = False
            item.insights = values
            self.pending.append(media_record(item))
            self.counts["insights_per_item"] += 1
        if page.after and page.has_next:
            cp["after"] = page.after
        else:
            cp["after_done"] = True
        cp["size"] = self.settings.sync_page_size
        self.counts["media"] += 1

    def _note_item_error(self, item: MediaItem, exc: GraphError) -> None:
        self.counts["insights_unavailable"] += 1
        if exc.subcode == insights.BEFORE_CONVERSION_SUBCODE:
            self._posted_before_conversion(item)

    def _posted_before_conversion(self, item: MediaItem) -> None:
        """Everything as old as ``item`` was posted before the conversion too: remember the time
        (later listings size their pages and record those posts without a call)."""
        self.unavailable_before = item.timestamp
        self.pending.append(AccountExtra({"insights_unavailable_before": item.timestamp}))
        self.cp["expand"] = False

    async def _page_records(
        self, items: list[MediaItem], *, expanded: bool, lookback: datetime, stage: str
    ) -> list[SyncRecord]:
        records: list[SyncRecord] = []
        cutoff = self.unavailable_before
        for item in items:
            error: dict[str, Any] | None = None
            extras_done = False
            if not expanded and item.insights is None:
                if cutoff is not None and item.timestamp <= cutoff:
                    error = dict(BEFORE_CONVERSION_ERROR)
                    self.counts["insights_unavailable"] += 1
                else:
                    # No expansion: one call per item, with the extras too when it is recent.
                    recent = self._extras_due(item.timestamp)
                    metrics = insights.all_for(item.media_product_type) if recent else insights.COMMON
                    try:
                        item.insights = await read_insights(self.graph, self.access, item.id, metrics)
                        extras_done = recent
                        self.counts["insights_per_item"] += 1
                    except GraphError as exc:
                        if not insights.is_item_error(exc):
                            raise
                        error = insights.item_error(exc)
                        self._note_item_error(item, exc)
                        cutoff = self.unavailable_before
            records.append(media_record(item, insight_error=error, extras_read=extras_done))
        return records

    def _extras_window(self) -> tuple[datetime, datetime]:
        """Posts whose per-type extras are read (one call each): older than the 48 h in which
        Meta's figures are provisional, younger than ``sync_extras_days`` (they have stopped
        moving much after that; the values read last are kept)."""
        s = self.settings
        return (self.now - timedelta(days=s.sync_extras_days),
                self.now - timedelta(hours=s.sync_extras_min_age_hours))

    def _extras_due(self, posted: datetime) -> bool:
        since, until = self._extras_window()
        return since <= posted <= until
