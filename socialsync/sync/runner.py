"""One sync run of one account: the stages of its kind, each resumable from the run's checkpoint.

The core owns storage and checkpoints (docs/platforms.md): for each stage of
``spec.sync_kinds[kind]`` not yet done, every `SyncBatch` the plugin yields is stored
(socialsync/store/sync_records.py), then its checkpoint (and cross-run ``state``), so a job that
is deferred (throttle), retried (transient error) or re-run (worker died) continues where it
stopped and writes nothing twice. A stage that answers CAPABILITY_MISSING (scope not granted,
too few followers…) is recorded on the run and the account, and the run goes on; throttles,
transient errors and dead tokens propagate to the job (worker/jobs/sync.py).

Transitional: a plugin whose stages still write through socialsync.store themselves (Instagram,
until its stages yield records) implements `StoringSyncer.run` instead of `Syncer.stage`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from socialsync.credentials import account_ref
from socialsync.platforms.base import Capability, CapabilityUnavailable, ErrorKind, ItemProblem, Platform, PlatformError
from socialsync.store import sync_records, sync_runs

if TYPE_CHECKING:
    from socialsync.context import Services

Heartbeat = Callable[[], Awaitable[None]]
SKIPPABLE = frozenset({ErrorKind.CAPABILITY_MISSING, ErrorKind.INVALID_PARAMETER})


@runtime_checkable
class StoringSyncer(Protocol):
    async def run(self, services: Services, account: dict[str, Any], run: dict[str, Any], heartbeat: Heartbeat) -> str:
        """Run the remaining stages, storing as it goes; returns success / partial."""
        ...


async def execute(services: Services, plugin: Platform, account: dict[str, Any], run: dict[str, Any],
                  heartbeat: Heartbeat) -> str:
    """Run the remaining stages of ``run``; returns the final status (success / partial).
    Raises `AccountUnavailable` (skipped), `PlatformError`, `RateLimited`, `TransportError`."""
    syncer = plugin.sync
    if syncer is None:
        raise CapabilityUnavailable(plugin.name, Capability.SYNC)
    if isinstance(syncer, StoringSyncer):
        return await syncer.run(services, account, run, heartbeat)
    store, clock = services.store, services.clock
    ref = account_ref(account, services.cipher)
    partial = bool(run.get("errors"))
    checkpoints = run.setdefault("checkpoint", {})
    done = run.setdefault("stages_done", [])
    for stage in plugin.spec.sync_kinds[run["kind"]]:
        if stage in done:
            continue
        state = dict((account.get("sync_state") or {}).get(stage) or {})
        try:
            async for batch in syncer.stage(ref, stage, checkpoint=dict(checkpoints.get(stage) or {}), state=state,
                                            now=clock.now()):
                counts = await sync_records.write_batch(store, account, run, batch.records, now=clock.now())
                partial = partial or any(isinstance(r, ItemProblem) for r in batch.records)
                checkpoints[stage] = dict(batch.checkpoint)
                await sync_runs.update(store, run["_id"], set_={"checkpoint": checkpoints, "updated_at": clock.now()},
                                       inc={"api_calls": batch.calls, **{f"items.{k}": v for k, v in counts.items()}})
                if batch.state is not None:
                    await sync_records.set_stage_state(store, account["_id"], stage, dict(batch.state))
                await heartbeat()
        except PlatformError as exc:
            if exc.kind not in SKIPPABLE:
                raise
            partial = True
            await sync_runs.add_error(store, run["_id"], {"stage": stage, "at": clock.now(), **exc.describe()})
            await sync_records.record_capability_missing(store, account["_id"], stage, code=exc.code,
                                                         message=exc.message, at=clock.now())
        done.append(stage)
        await sync_runs.update(store, run["_id"], set_={"stages_done": done, "updated_at": clock.now()})
    return "partial" if partial else "success"
