"""Settings of the platform emulator.

Kept apart from ``socialsync.config``: the sandbox is the *far side* of the service, so it must
not read the service's settings (a test that changes one must not silently change the other).
The app credentials below are the only ones the sandbox accepts; ``socialsync.config`` falls
back to the same literals in sandbox mode.
"""

from __future__ import annotations

from dataclasses import dataclass

# Token and code lifetimes, as Meta documents them (PLATFORM_FACTS.md §1).
HOUR = 3600
DAY = 24 * HOUR
SIXTY_DAYS = 60 * DAY


@dataclass(frozen=True, slots=True)
class SandboxConfig:
    """Everything a test may want to vary about the emulated platforms (today Meta's; a
    platform package may keep its own knobs in its state and control routes instead)."""

    # App credentials (exactly these are accepted).
    ig_client_id: str = "sandbox-ig-app"
    ig_client_secret: str = "sandbox-ig-secret"
    meta_client_id: str = "sandbox-meta-app"
    meta_client_secret: str = "sandbox-meta-secret"

    # Lifetimes, in seconds of the sandbox clock.
    code_ttl_seconds: int = HOUR
    ig_short_token_ttl_seconds: int = HOUR
    long_token_ttl_seconds: int = SIXTY_DAYS
    fb_short_token_ttl_seconds: int = 5400
    refresh_min_age_seconds: int = DAY

    # Rate limits (see sandbox/meta/usage.py).
    app_calls_per_hour: int = 20000
    buc_calls_per_window: int = 4800
    buc_window_seconds: int = DAY
    # Meta: "more calls extend the lockout": refused calls count against their window too.
    count_refused_calls: bool = True

    # Every platform call (not /_sandbox/) is answered this much later (sandbox/latency.py).
    latency_seconds: float = 0.0

    # Bookkeeping.
    request_log_size: int = 2000
    seed: bool = True
    # Give every seeded Instagram account posts, reels, carousels and live stories, so a person
    # running `socialsync up` sees a sync fill MongoDB. Off for tests, which seed what they need.
    demo_media: bool = False
    # The control API answers loopback callers only, unless this is set (e.g. in a container).
    control_remote_access: bool = False
