"""Settings of the platform emulator.

Kept apart from ``socialsync.config``: the sandbox is the *far side* of the service, so it must
not read the service's settings (a test that changes one must not silently change the other).
Each platform package keeps its own knobs (``platforms``; Meta's in sandbox/meta/config.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

HOUR = 3600
DAY = 24 * HOUR


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """What a test may vary about the sandbox: the shared parts here, each platform's knobs in
    ``platforms`` (a package may also keep knobs in its state and control routes)."""

    # Per-platform knobs, by sandbox package name (e.g. ``{"meta": MetaConfig(...)}``, see
    # sandbox/meta/config.py); a package without an entry uses its defaults.
    platforms: Mapping[str, object] = field(default_factory=dict)

    # Every platform call (not /_sandbox/) is answered this much later (sandbox/latency.py).
    latency_seconds: float = 0.0

    # Bookkeeping.
    request_log_size: int = 2000
    seed: bool = True
    # Give every seeded account demo media (posts, reels, stories…), so a person running
    # `socialsync up` sees a sync fill MongoDB. Off for tests, which seed what they need.
    demo_media: bool = False
    # The control API answers loopback callers only, unless this is set (e.g. in a container).
    control_remote_access: bool = False
