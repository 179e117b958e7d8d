"""One sync run of one account: the stages of its kind, each resumable from the run's checkpoint.

The one sync path of every platform (docs/platforms.md "How the core drives a plugin"), run by
the ``sync.run`` job (worker/jobs/sync.py) under the account's lease. The core owns storage and
checkpoints: for each stage of ``spec.sync_kinds[kind]`` not yet done, every `SyncBatch` the
plugin yields is stored (socialsync/store/sync_records.py), then its checkpoint (and cross-run
``state``), so a job that is deferred (throttle), retried (transient error) or re-run (worker
died) continues where it stopped and writes nothing twice. Before each stage the credentials are
refreshed when the plugin says they are due (`tokens.fresh_ref`; the account is read again at
most every REREAD_SECONDS otherwise, `_Credentials`); a stage the platform answers
``token_invalid`` gets one forced refresh (`tokens.refresh_account(refused=)`: a token another
job already rotated is not rotated again) and runs again; refused twice, the account needs a
reconnect. A ``counts`` stage without a checkpoint starts from the ids of the stored media inside
the platform's look-back (``lookback_days``). The plugin sees ``extra["active_accounts"]``: how
many accounts share the platform's daily budget (`Call.sharers`, the fair share). A stage that
answers CAPABILITY_MISSING (scope not granted, too few followers…) is recorded on the run and
the account, and the run goes on; throttles, transient errors and dead tokens propagate to the
job (a plugin names other "not available" kinds in ``skipped_kinds``: Meta's permission errors;
``refresh_refused_token = False`` lets a refused token out without the forced refresh).

Plugins never see the store: a stage gets ``view=``, a read-only `StoredView` of the account's
stored media and of the run (socialsync/store/stored_view.py), and what it learns comes back as
records (`MediaInsights`, `ListingComplete`, `AccountExtra`, `StageProblem`…). A batch is
stored before its checkpoint, and every write is an idempotent upsert or a marking keyed by the
run, so a crash between the two re-does the batch and changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from socialsync import lifecycle, tokens
from socialsync.platforms.base import (
    AccountRef, AccountUnavailable, Capability, CapabilityUnavailable, ErrorKind, ItemProblem, Platform, PlatformError,
    StageProblem,
)
from socialsync.store import accounts as account_store
from socialsync.store import sync_records, sync_runs
from socialsync.store.stored_view import AccountStoredView

if TYPE_CHECKING:
    from socialsync.context import Services

Heartbeat = Callable[[], Awaitable[None]]
SKIPPABLE = frozenset({ErrorKind.CAPABILITY_MISSING, ErrorKind.INVALID_PARAMETER})
LOOKBACK_STAGE = "counts"
DEFAULT_LOOKBACK_DAYS = 30
REREAD_SECONDS = 30.0  # the longest a run goes on with credentials it read (see _Credentials)


async def execute(services: Services, plugin: Platform, account: dict[str, Any], run: dict[str, Any],
                  heartbeat: Heartbeat) -> str:
    """Run the remaining stages of ``run``; returns the final status (success / partial).
    Raises `AccountUnavailable` (skipped), `PlatformError`, `RateLimited`, `TransportError`,
    `tokens.LockBusy` (a refresh of the account is in flight: come back in a moment)."""
    syncer = plugin.sync
    if syncer is None:
        raise CapabilityUnavailable(plugin.name, Capability.SYNC)
    store, clock = services.store, services.clock
    skipped = getattr(syncer, "skipped_kinds", SKIPPABLE)
    partial = bool(run.get("errors"))
    done = run.setdefault("stages_done", [])
    run.setdefault("checkpoint", {})
    sharers = max(1, await account_store.count_active(store, plugin.name))
    creds = _Credentials(services, plugin, account["_id"])
    for stage in plugin.spec.sync_kinds[run["kind"]]:
        if stage in done:
            continue
        try:
            partial = await _stage_refreshing_once(services, plugin, account, run, stage, sharers, heartbeat,
                                                   creds) or partial
        except PlatformError as exc:
            if exc.kind not in skipped:
                raise
            partial = True
            await sync_runs.add_error(store, run["_id"], {"stage": stage, "at": clock.now(), **exc.describe()})
            await sync_records.record_capability_missing(store, account["_id"], stage, code=exc.code,
                                                         message=exc.message, at=clock.now())
        done.append(stage)
        await sync_runs.update(store, run["_id"], set_={"stages_done": done, "updated_at": clock.now()})
    return "partial" if partial else "success"


class _Credentials:
    """The account's credentials across the stages of one run: read (and refreshed when due)
    before a stage, and read again only when the plugin says they are due, after a refusal, or
    once REREAD_SECONDS have passed since the last read (a disconnect mid-run stops the run at
    its next stage within that time), not before every stage: a full sync's six stages read the
    account once instead of six times."""

    def __init__(self, services: Services, plugin: Platform, account_id: str) -> None:
        self.services, self.plugin, self.account_id = services, plugin, account_id
        self.ref: AccountRef | None = None
        self.read_at = 0.0

    async def current(self, *, again: bool = False) -> AccountRef | None:
        now = self.services.clock.time()
        due = getattr(self.plugin.tokens, "due", None)
        if (again or self.ref is None or now - self.read_at >= REREAD_SECONDS
                or (due is not None and due(self.ref.credentials, self.services.clock.now()))):
            self.ref, self.read_at = await tokens.fresh_ref(self.services, self.account_id), now
        return self.ref


async def _stage_refreshing_once(services: Services, plugin: Platform, account: dict[str, Any], run: dict[str, Any],
                                 stage: str, sharers: int, heartbeat: Heartbeat, creds: _Credentials) -> bool:
    """One stage; a refused token is refreshed once (across concurrent jobs) and the stage goes
    on from its checkpoint. Returns whether an item problem made the run partial."""
    for attempt in (1, 2):
        ref = await creds.current(again=attempt == 2)
        if ref is None:
            raise AccountUnavailable(f"account {account['_id']} is no longer active")
        try:
            return await _stage(services, plugin, account, run, stage, replace(
                ref, extra={**ref.extra, "active_accounts": sharers}), heartbeat)
        except PlatformError as exc:
            if exc.kind is not ErrorKind.TOKEN_INVALID or not getattr(plugin.sync, "refresh_refused_token", True):
                raise
            if attempt == 2:  # refused again with a fresh token: only the person can fix it
                await lifecycle.account_needs_reconnect(
                    services, account["_id"], f"{plugin.spec.display_name} refused a fresh token: reconnect the account.")
                raise
            outcome = await tokens.refresh_account(services, account["_id"], force=True,
                                                   refused=ref.credentials.access_token)
            if outcome is not tokens.TokenOutcome.REFRESHED:
                raise
    raise AssertionError("unreachable")


async def _stage(services: Services, plugin: Platform, account: dict[str, Any], run: dict[str, Any], stage: str,
                 ref: AccountRef, heartbeat: Heartbeat) -> bool:
    store, clock, syncer = services.store, services.clock, plugin.sync
    assert syncer is not None
    checkpoints = run["checkpoint"]
    checkpoint = dict(checkpoints.get(stage) or {})
    if stage == LOOKBACK_STAGE and not checkpoint.get("video_ids"):
        days = getattr(getattr(plugin, "settings", None), "lookback_days", DEFAULT_LOOKBACK_DAYS)
        since = clock.now() - timedelta(days=days)
        checkpoint = {"video_ids": await sync_records.lookback_ids(store, account["_id"], since), "done": 0}
    state = dict((account.get("sync_state") or {}).get(stage) or {})
    partial = False
    view = AccountStoredView.of_run(store, run, now=clock.now())
    async for batch in syncer.stage(ref, stage, checkpoint=checkpoint, state=state, now=clock.now(), view=view):
        counts = await sync_records.write_batch(store, account, run, batch.records, now=clock.now(), items=batch.items)
        partial = partial or any(isinstance(r, ItemProblem | StageProblem) for r in batch.records)
        checkpoints[stage] = dict(batch.checkpoint)
        await sync_runs.update(store, run["_id"], set_={"checkpoint": checkpoints, "updated_at": clock.now()},
                               inc={"api_calls": batch.calls, **{f"items.{k}": v for k, v in counts.items()}})
        if batch.state is not None:
            state = dict(batch.state)
            account.setdefault("sync_state", {})[stage] = state
            await sync_records.set_stage_state(store, account["_id"], stage, state)
        await heartbeat()
    return partial
