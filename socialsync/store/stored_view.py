"""The read-only view of what is stored that a sync stage may consult (`platforms.base.StoredView`).

The core builds one per stage of a run and passes it to ``Syncer.stage(view=)``; the plugin asks
it questions and never gets the store itself (issue 8: platform code does not touch MongoDB).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialsync.store import Store
from socialsync.store import media as media_store


@dataclass(frozen=True)
class AccountStoredView:
    store: Store
    account_id: str
    run_id: str
    run_kind: str
    run_started_at: datetime

    @classmethod
    def of_run(cls, store: Store, run: Mapping[str, Any], *, now: datetime) -> AccountStoredView:
        created: datetime = run.get("created_at") or now
        return cls(store=store, account_id=run["account_id"], run_id=run["_id"], run_kind=run["kind"],
                   run_started_at=created.replace(microsecond=created.microsecond // 1000 * 1000))  # MongoDB keeps ms

    async def count_listed(self, *, newer_than: datetime | None = None) -> int:
        return await media_store.count_listed(self.store, self.account_id, newer_than=newer_than)

    async def known_before_run(self, media_ids: Sequence[str]) -> set[str]:
        return await media_store.known_ids(self.store, self.account_id, list(media_ids), before_run=self.run_id)

    async def needing_extras(self, since: datetime, until: datetime | None = None,
                             limit: int = 500) -> list[Mapping[str, Any]]:
        return await media_store.needing_extras(self.store, self.account_id, self.run_id, since, until, limit)
