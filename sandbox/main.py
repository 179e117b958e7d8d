"""Serve the sandbox: ``python -m sandbox`` or ``sandbox.main.run()`` (``socialsync sandbox``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from sandbox.app import build_sandbox_app
from sandbox.config import SandboxConfig

log = logging.getLogger("sandbox")


async def serve(
    host: str, port: int, config: SandboxConfig | None = None, *, handle_signals: bool = False
) -> None:
    """Serve until cancelled (or SIGINT/SIGTERM with ``handle_signals``); logs one line once
    the port is bound, so a supervisor's log says where the sandbox is."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGINT, signal.SIGTERM) if handle_signals else ()
    for signum in signals:
        loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(build_sandbox_app(config), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1] if runner.addresses else port
        log.info("sandbox listening on http://%s:%s", host, bound_port)
        await stop.wait()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
        await runner.cleanup()


def run(host: str = "127.0.0.1", port: int = 8090, *, latency_seconds: float = 0.0) -> None:
    """Blocking: serve the sandbox on ``host:port`` until SIGINT/SIGTERM, then exit cleanly."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    if log.getEffectiveLevel() > logging.INFO:
        log.setLevel(logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        # The demo world: seeded accounts come with media, so connect → sync shows something.
        config = SandboxConfig(demo_media=True, latency_seconds=latency_seconds)
        asyncio.run(serve(host, port, config, handle_signals=True))
