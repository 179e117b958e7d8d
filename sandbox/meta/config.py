"""The Meta emulation's knobs: the app credentials it accepts, token lifetimes and rate limits.

A test varies them with ``SandboxConfig(platforms={"meta": MetaConfig(...)})``; unset, these
defaults. ``socialsync.platforms.instagram.settings`` falls back to the same credentials in
sandbox mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.config import DAY, HOUR, SandboxConfig

SIXTY_DAYS = 60 * DAY  # token and code lifetimes, as Meta documents them (PLATFORM_FACTS.md §1)


@dataclass(frozen=True, slots=True)
class MetaConfig:
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

    @classmethod
    def of(cls, config: SandboxConfig) -> MetaConfig:
        knobs = config.platforms.get("meta")
        return knobs if isinstance(knobs, cls) else cls()
