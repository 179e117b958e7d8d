"""`socialsync worker`: one arq Worker per workload queue, in one process, with cron.

arq consumes one queue per Worker, so the process runs a Worker for each queue it serves
(``Settings.worker_queues``, default all: webhooks, sync, publish, default) side by side on one
event loop, sharing one set of services (MongoDB, Redis, HTTP clients).
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack
from typing import Any

from arq.worker import Worker

from socialsync import queue
from socialsync.config import Settings
from socialsync.context import Services, open_services
from socialsync.logs import announce_mode
from worker.metrics import WorkerMetrics
from worker.settings import worker_settings


def served_workloads(settings: Settings) -> tuple[str, ...]:
    wanted = [w.strip() for w in (settings.worker_queues or "").split(",") if w.strip()]
    for w in wanted:
        queue.queue_name_for(settings.queue_name, w)  # refuses an unknown name
    return tuple(wanted) or queue.WORKLOADS


class WorkerGroup:
    """The arq Workers of one process, run and stopped together.

    ``main()``/``async_run()`` run them; in burst mode (tests, benchmarks) they run until every
    served queue is empty: a Worker whose queue emptied stops, and is started again if a job on
    another queue enqueued work for it meanwhile (cron jobs run in the first round only)."""

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.settings = settings
        self.overrides = overrides
        self.handle_signals = bool(overrides.pop("handle_signals", True))
        self.burst = bool(overrides.get("burst", False))
        self.workloads = served_workloads(settings)
        self.workers: list[Worker] = []
        self._stop: asyncio.Event | None = None

    def _worker(self, workload: str, services: Services, *, crons: bool = True) -> Worker:
        kwargs = {**worker_settings(self.settings, workload), **self.overrides,
                  "handle_signals": False, "ctx": {"services": services}}
        if not crons:
            kwargs["cron_jobs"] = []
        worker = Worker(**kwargs)
        self.workers.append(worker)
        return worker

    async def main(self) -> None:
        async with AsyncExitStack() as stack:
            services = await stack.enter_async_context(open_services(self.settings))
            metrics = WorkerMetrics.for_settings(self.settings)  # API calls, refusals; /metrics port
            metrics.attach(services)
            await metrics.start_server()
            stack.push_async_callback(metrics.stop_server)
            if self.burst:
                await self._burst(services)
            else:
                await self._forever(services)

    async_run = main

    async def _forever(self, services: Services) -> None:
        workers = [self._worker(w, services) for w in self.workloads]
        tasks = [asyncio.ensure_future(w.async_run()) for w in workers]
        loop = asyncio.get_running_loop()
        if self.handle_signals:
            graceful = self.settings.worker_shutdown_grace_seconds > 0
            for sig in (signal.SIGINT, signal.SIGTERM):
                # arq's own handler, for every Worker: stop picking jobs, let running ones finish
                # for job_completion_wait (WORKER_SHUTDOWN_GRACE_SECONDS), cancel the rest (they
                # are idempotent and run again elsewhere), then end.
                loop.add_signal_handler(sig, lambda s=sig: [
                    w.handle_sig_wait_for_completion(s) if graceful else w.handle_sig(s) for w in workers])
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for w in workers:
                await _close(w)
            self.workers.clear()

    async def _burst(self, services: Services) -> None:
        limited = self.overrides.get("max_burst_jobs") is not None
        todo, first = list(self.workloads), True
        while todo:
            workers = [self._worker(w, services, crons=first) for w in todo]
            try:
                await asyncio.gather(*(w.main() for w in workers))
            finally:
                for w in workers:
                    await _close(w)
                self.workers.clear()
            if limited:
                return
            first = False
            todo = [w for w in self.workloads
                    if await services.redis.zcard(queue.queue_name_for(self.settings.queue_name, w))]

    async def close(self) -> None:
        for w in self.workers:
            await _close(w)
        self.workers.clear()


async def _close(worker: Worker) -> None:
    """arq's ``close()`` gathers the job tasks and re-raises the cancellation of one that a
    shutdown cancelled: cancel and collect them first, then close."""
    for task in list(worker.tasks.values()):
        task.cancel()
    await asyncio.gather(*worker.tasks.values(), return_exceptions=True)
    worker.tasks.clear()
    await worker.close()


def build_worker(settings: Settings, **overrides: object) -> WorkerGroup:
    return WorkerGroup(settings, **overrides)


def run(settings: Settings) -> None:
    announce_mode(settings)
    asyncio.run(_run(settings))


async def _run(settings: Settings) -> None:
    group = build_worker(settings)
    try:
        await group.async_run()
    except asyncio.CancelledError:
        pass  # arq cancels its main task on SIGTERM/SIGINT after finishing running jobs
    finally:
        await group.close()
