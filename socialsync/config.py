"""Every setting of socialsync, in one place.

Settings come from the environment (prefix ``SOCIALSYNC_``) or a ``.env`` file. Platform base URLs
are settings too: in *sandbox mode* (no real app credentials configured) they are rewritten to
point at the local platform emulator, so that nothing else in the code knows about the sandbox.

The sandbox mirrors every real host under a path prefix named after the host::

    https://open.tiktokapis.com/v2/user/info/  ->  http://127.0.0.1:8090/open.tiktokapis.com/v2/user/info/
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from socialsync.platforms.base import PlatformSettings
from socialsync.platforms.instagram.settings import MetaAppSettings, split_csv
from socialsync.platforms.youtube.settings import YouTubeSettings
from socialsync.platforms.tiktok.settings import TikTokSettings

def sandbox_base(sandbox_url: str, real_base: str) -> str:
    """Map a real platform base URL to its mirror inside the sandbox."""
    return f"{sandbox_url.rstrip('/')}/{urlsplit(real_base).netloc}"


class Settings(BaseSettings, MetaAppSettings):
    model_config = SettingsConfigDict(
        env_prefix="SOCIALSYNC_", env_file=".env", extra="ignore", frozen=False,
        env_nested_delimiter="__",
    )

    # --- infrastructure -------------------------------------------------------------------
    redis_url: str | None = Field(
        default=None, description="Redis URL. Unset: `socialsync up` starts a local redis-server."
    )
    mongodb_url: str | None = Field(
        default=None,
        description="MongoDB URL. Unset: `socialsync up` starts the embedded MongoDB-wire server.",
    )
    mongodb_db: str = "socialsync"
    data_dir: Path = Path(".data")
    local_redis_port: int = Field(default=6390, description="Port of the Redis `up` starts.")
    local_mongodb_port: int = Field(default=27027, description="Port of the MongoDB `up` starts.")

    # --- web receiver ---------------------------------------------------------------------
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_reuse_port: bool = Field(
        default=False, description="SO_REUSEPORT: several web processes listen on the same port."
    )
    web_shutdown_timeout_seconds: float = Field(
        default=10.0, gt=0, description="On SIGTERM a web process stops accepting, then waits this long for requests in flight."
    )
    worker_shutdown_grace_seconds: int = Field(
        default=20, ge=0,
        description="On SIGTERM a worker takes no new jobs and lets running ones finish for this long; "
        "the rest are cancelled and go back to the queue (arq job_completion_wait).",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Where browsers and Meta reach the receiver; OAuth redirect URIs derive from it.",
    )
    admin_token: SecretStr | None = None
    return_url_allowlist: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["http://localhost", "http://127.0.0.1"],
        description="Allowed return_url prefixes (scheme://host[:port][/path]), comma separated.",
    )
    oauth_state_ttl_seconds: int = 600
    ops_session_minutes: int = Field(
        default=480, description="How long an ops console login lasts (the cookie and its session)."
    )
    max_body_bytes: int = 1024 * 1024
    body_read_timeout_seconds: float = Field(
        default=30.0, gt=0, description="A request body must arrive within this (408 otherwise)."
    )
    keepalive_timeout_seconds: float = Field(
        default=75.0, gt=0, description="An idle keep-alive connection is closed after this."
    )

    # --- secrets at rest --------------------------------------------------------------------
    token_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Fernet keys, comma separated; the first encrypts, all decrypt (rotation).",
    )

    http_timeout_seconds: float = 20.0

    # --- platform blocks (SOCIALSYNC_<PLATFORM>__<FIELD>) --------------------------------------
    youtube: YouTubeSettings = Field(default_factory=YouTubeSettings)
    # --- TikTok (issue 9): SOCIALSYNC_TIKTOK__CLIENT_KEY etc. --------------------------------
    tiktok: TikTokSettings = Field(default_factory=TikTokSettings)

    # --- sandbox ----------------------------------------------------------------------------
    sandbox: bool | None = Field(
        default=None,
        description="Force sandbox mode on/off. Unset: on when no Meta app credentials are set (TikTok and YouTube decide per platform block).",
    )
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8090
    sandbox_url: str | None = None

    # --- worker -----------------------------------------------------------------------------
    worker_max_jobs: int = Field(default=20, description="Jobs run at once, per queue the worker serves.")
    worker_queues: str = Field(
        default="",
        description="Comma-separated workload queues this worker process serves (webhooks, sync, "
        "publish, default); empty: all of them. See socialsync/queue.py.",
    )
    job_timeout_seconds: int = Field(
        default=60,
        description="Longest a job may run. arq also blocks a job id for this (+10 s) after a "
        "worker dies holding it, so keep jobs short and this small.",
    )
    token_refresh_window_days: int = 7
    token_refresh_cron_minutes: int = 60
    retry_backoff_base_seconds: float = Field(
        default=30.0, description="First retry delay of a failed job; doubles per try, with jitter."
    )
    queue_name: str = "socialsync:queue"
    worker_metrics_port: int = Field(
        default=0, description="Port of the worker's Prometheus /metrics (0: off)."
    )
    worker_metrics_host: str = "127.0.0.1"

    # --- Meta webhooks, comments, CRM events, privacy callbacks (issue 4) ---------------------
    webhook_verify_token: SecretStr | None = Field(
        default=None,
        description="hub.verify_token Meta sends when you register the callback URL. "
        "Unset: 'sandbox-verify-token' in sandbox mode, otherwise the handshake is refused.",
    )
    webhook_max_body_bytes: int = Field(
        default=5 * 1024 * 1024, description="Largest Meta webhook body accepted (413 above)."
    )
    webhook_event_ttl_days: int = Field(default=14, description="Raw webhook events expire after this.")
    webhook_sweep_after_seconds: int = Field(
        default=60, description="Re-enqueue a stored webhook event still unprocessed after this."
    )
    webhook_sweep_cron_minutes: int = Field(
        default=1, description="How often the sweeper looks (an indexed query on pending events)."
    )
    webhook_subscribed_fields: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["comments", "live_comments", "mentions"],
        description="Fields subscribed on connect (POST /me/subscribed_apps), comma separated.",
    )
    comments_backfill_lookback_days: int = Field(
        default=14, description="Comments of media younger than this are backfilled by the worker."
    )
    comments_backfill_cron_minutes: int = 60
    comments_backfill_jitter_seconds: int = Field(
        default=600, description="Per-account spread of the scheduled comment backfills."
    )
    crm_event_retry_hours: float = Field(
        default=24.0, description="CRM event deliveries are retried with backoff for this long."
    )
    crm_event_timeout_seconds: float = 10.0
    crm_event_backoff_base_seconds: float = 30.0
    crm_event_retention_days: float = Field(
        default=30.0, gt=0, description="The event ledger (GET /v1/events) keeps events this long."
    )

    # --- sync and rate-limit governor (issue 3) -------------------------------------------
    ratelimit_threshold_percent: float = Field(
        default=85.0, description="Above this usage (max of call_count/cputime/time) a scope is paced."
    )
    ratelimit_pace_seconds: float = Field(
        default=2.0, description="While paced, at most one call per this many seconds per scope."
    )
    ratelimit_block_seconds: float = Field(
        default=300.0,
        description="Block after a throttle error without estimated_time_to_regain_access "
        "(doubles per consecutive throttle, capped at 1 h).",
    )
    ratelimit_max_defer_seconds: float = Field(
        default=900.0, description="A blocked job re-checks the governor at least this often."
    )
    sync_page_size: int = Field(default=100, description="First page size of the /media edge.")
    sync_min_page_size: int = 1
    sync_lookback_days: int = Field(
        default=30, description="Media younger than this get insights refreshed and per-type extras."
    )
    sync_max_pages: int = Field(default=2000, description="Hard stop for one listing (loop guard).")
    sync_extras_days: int = Field(
        default=7, ge=0,
        description="Per-type extras (follows, profile visits, reels watch time: one call per post) are "
        "read for posts younger than this; older posts keep the last values read.",
    )
    sync_extras_min_age_hours: int = Field(
        default=48, ge=0,
        description="...and older than this: Meta's figures lag up to 48 h, so a younger post's extras "
        "would be provisional and read again anyway (the daily insights run picks it up).",
    )
    sync_expansion_off_seconds: int = Field(
        default=86400, ge=1,
        description="Lifetime of a host's 'insights expansion refused' flag; after it the next run "
        "probes the expansion again (one wrong detection must not pin every account to per-item reads).",
    )
    sync_lease_seconds: int = Field(
        default=120, description="Per-account sync lock lease; renewed as the run progresses."
    )
    sync_profile_minutes: int = Field(default=60, description="Profile + recent-media metrics.")
    sync_media_minutes: int = Field(default=360, description="New media.")
    sync_insights_minutes: int = Field(default=1440, description="Account insights + media extras.")
    sync_audience_minutes: int = Field(default=10080, description="Audience demographics.")
    sync_stories_minutes: int = Field(default=240, description="Live stories and their insights.")
    sync_schedule_tick_minutes: int = Field(
        default=5, description="How often the scheduler cron looks for due accounts."
    )
    sync_account_insights_days: int = Field(default=30, description="Days of account insights read.")

    # --- publishing (issue 5) ----------------------------------------------------------------
    publish_poll_first_seconds: float = Field(
        default=2.0, description="First wait before reading a new container's status."
    )
    publish_poll_growth: float = Field(default=1.5, description="Each poll waits this much longer.")
    publish_poll_cap_seconds: float = Field(default=15.0, description="Longest wait between polls.")
    publish_processing_deadline_seconds: float = Field(
        default=1800.0, description="A post whose containers are not ready by then fails."
    )
    publish_retry_base_seconds: float = Field(
        default=5.0, description="First retry delay of a failed publishing step (doubles, jitter)."
    )
    publish_max_attempts: int = Field(default=6, description="Tries of one publishing step.")
    publish_quota_recheck_seconds: float = Field(
        default=900.0, description="Longest wait before re-reading a used-up publishing quota."
    )
    publish_blocked_defer_seconds: float = Field(
        default=3600.0, description="Wait after a spam (4/2207051) or policy (368) refusal."
    )
    publish_blocked_max_deferrals: int = Field(
        default=3, description="Refusals tolerated before the post fails."
    )
    publish_max_container_recreations: int = Field(
        default=2, description="Expired/lost containers re-created (never after publishing)."
    )
    publish_schedule_horizon_days: float = Field(
        default=75.0, description="How far ahead publish_at may be."
    )
    publish_sweep_every_seconds: int = Field(
        default=10,
        description="How often the cron (and every worker at start-up) looks for posts whose job "
        "went missing or died with its worker.",
    )
    publish_stuck_after_seconds: float = Field(
        default=30.0,
        description="A post silent this long (no write of a live step, no due wait) whose job is "
        "not waiting in the queue is moved to a new tick and re-enqueued. A live step writes "
        "between any two Graph calls, so keep this above http_timeout_seconds (20 s) plus slack; "
        "rescuing a live job early is safe (tick fence, one publish per container), only wasteful.",
    )

    # --- outbound requests (CRM callbacks) -----------------------------------------------------
    crm_event_allow_private_targets: bool | None = Field(
        default=None,
        description="Allow CRM callback URLs on private/loopback addresses. Unset: only in sandbox "
        "mode (a local CRM during development); refused otherwise (SSRF guard).",
    )

    # --- logging ----------------------------------------------------------------------------
    log_level: str = "INFO"
    log_json: bool = True

    _split = field_validator(
        "return_url_allowlist",
        "token_keys",
        "webhook_subscribed_fields",
        mode="before",
    )(split_csv)

    # --- derived ----------------------------------------------------------------------------
    @cached_property
    def sandbox_mode(self) -> bool:
        if self.sandbox is not None:
            return self.sandbox
        return not self.meta_credentials_set

    @property
    def sandboxed_platforms(self) -> list[str]:
        """The platforms that talk to the sandbox (per platform: no credentials, or forced), in
        registry order; `socialsync up` starts the sandbox when any does."""
        from socialsync.platforms.registry import PLATFORMS  # noqa: PLC0415 - it imports no platform

        blocks = {name: getattr(self, name, None) for name in PLATFORMS}
        return [name for name, block in blocks.items()
                if (block.uses_sandbox(self) if isinstance(block, PlatformSettings) else self.sandbox_mode)]

    @property
    def redis_dsn(self) -> str:
        """The Redis to use: the configured one, else the local one `socialsync up` runs."""
        return self.redis_url or f"redis://127.0.0.1:{self.local_redis_port}/0"

    @property
    def mongodb_dsn(self) -> str:
        """The MongoDB to use: the configured one, else the local one `socialsync up` runs."""
        return self.mongodb_url or (
            f"mongodb://127.0.0.1:{self.local_mongodb_port}/"
            "?retryWrites=false&tz_aware=true&directConnection=true"
        )

    @property
    def sandbox_base_url(self) -> str:
        return self.sandbox_url or f"http://{self.sandbox_host}:{self.sandbox_port}"

    def platform_url(self, real_base: str) -> str:
        """Base URL to call for a platform host, honouring sandbox mode."""
        if self.sandbox_mode:
            return sandbox_base(self.sandbox_base_url, real_base)
        return real_base.rstrip("/")

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (tests, CLI flags)."""
    return Settings(**overrides)  # type: ignore[arg-type]
