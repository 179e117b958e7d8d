"""The values that cross the platform interface: credentials, accounts, records, outcomes.

Plain frozen dataclasses, no I/O: plugins return them, the core stores and acts on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx

from socialsync.platforms.errors import PlatformError


BudgetStyle = Literal["usage", "window", "daily_units"]

@dataclass(frozen=True)
class Budget:
    """A budget one call spends. The governor keeps each ``scope`` in Redis, shared by replicas.

    - ``usage``: the platform reports a usage percentage (Meta headers); paced above a threshold,
      blocked when spent or throttled. ``limit``/``window_seconds`` unused.
    - ``window``: at most ``limit`` units per sliding ``window_seconds`` (TikTok 600/min per
      endpoint, 6/min post init per token).
    - ``daily_units``: ``limit`` units per day, reset at midnight in ``reset_tz`` (YouTube 10,000
      units, America/Los_Angeles); ``cost`` per call (list 1, insert 50).
    """

    scope: str                 # e.g. "tiktok:app:/v2/video/list/", "youtube:units"
    style: BudgetStyle
    cost: int = 1
    limit: int = 0
    window_seconds: float = 60.0
    reset_tz: str = "America/Los_Angeles"

@dataclass(frozen=True)
class BudgetUpdate:
    """What an answer said about one budget.

    - ``usage``: the usage percentage the platform reported (``usage`` style);
    - ``blocked_for``: block the scope this many seconds (the platform's own estimate);
    - ``default_block``: spent, no estimate: block for the configured default;
    - ``throttled``: a throttle error: block for ``blocked_for``, else an escalating backoff
      (doubling per consecutive throttle; a success with ``clears_strikes`` starts it over);
    - ``spent_until_reset``: a daily budget is used up: blocked until its next reset.
    """

    scope: str
    usage: float | None = None
    blocked_for: float | None = None
    default_block: bool = False
    throttled: bool = False
    spent_until_reset: bool = False
    reset_tz: str = "America/Los_Angeles"
    clears_strikes: bool = False


@dataclass(frozen=True)
class Call:
    """A call about to be made: enough for a policy to name its budgets."""

    method: str = "GET"
    url: httpx.URL = field(default_factory=lambda: httpx.URL(""))
    operation: str = ""             # the platform's name for it ("videos.list", "media_publish")
    account_key: str | None = None  # the platform's id of the account it is about (None: OAuth)
    sharers: int = 1                # accounts sharing the app's daily budget now (fair share)

@dataclass(frozen=True)
class Credentials:
    """Tokens in clear, in memory only (the core encrypts them at rest)."""

    access_token: str = field(repr=False)
    kind: str                                   # "ig_long_lived", "fb_page", "oauth2"...
    access_expires_at: datetime | None = None   # None: does not expire
    issued_at: datetime | None = None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] | None = None       # as granted, when the answer says

@dataclass(frozen=True)
class AccountRef:
    """The account a platform call is about, as plugins see it (no MongoDB document)."""

    id: str                          # ours ("acc_…")
    tenant_id: str
    platform: str
    login: str
    external_id: str                 # the platform's id (IG user id, TikTok open_id, channel id)
    credentials: Credentials
    profile: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)   # platform-owned fields (page_id…)

@dataclass(frozen=True)
class NewAccount:
    """A connected account a callback produced; the core stores it (upsert, tokens encrypted)."""

    login: str
    external_id: str
    username: str
    credentials: Credentials
    scopes: tuple[str, ...]
    name: str | None = None
    account_type: str | None = None
    profile_picture_url: str | None = None
    profile: Mapping[str, Any] = field(default_factory=dict)
    platform_user_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)   # the platform's own (uploads playlist…)
    # Fields the store writes at the top level of the account document, as a platform's earlier
    # release stored them (Instagram: page_id, page_name; None clears one on a reconnect).
    top_fields: Mapping[str, Any] = field(default_factory=dict)

@dataclass(frozen=True)
class Choice:
    """The person must pick (Facebook pages): ``options`` [{id, name, ...}] are shown; ``pending``
    is kept server-side (encrypted in the OAuth state) and handed back to `Connector.choose`."""

    options: Sequence[Mapping[str, Any]]
    pending: Mapping[str, Any]


@dataclass(frozen=True)
class SubscriptionState:
    """What a platform's webhook subscription call came to (`Subscriptions`); the core stores it
    on the account (``webhook_subscription``: status, fields, error, at)."""

    status: str                              # "subscribed", "unsubscribed", "failed"…
    fields: Sequence[str] = ()
    error: str | None = None

@dataclass(frozen=True)
class TokenCheck:
    """The answer of `TokenKeeper.refresh`: new credentials to store (None: the old ones still
    hold) and when to look again. ``credentials.refresh_token`` None means "not re-sent: keep the
    stored one" (Google); a new one replaces it (TikTok rotates: the old one is dead)."""

    credentials: Credentials | None
    next_check_at: datetime

@dataclass(frozen=True)
class ProfileRecord:
    fields: Mapping[str, Any]              # followers_count, username… (merged into `profile`)

@dataclass(frozen=True)
class MediaRecord:
    platform_id: str
    fields: Mapping[str, Any]              # caption, media_type, permalink, timestamp, counts…
    insights: Mapping[str, float | int] | None = None
    insights_error: Mapping[str, Any] | None = None  # why it has none (stored as ``insights_error``)
    extras_read: bool = False              # its per-type extras were read with it this run

@dataclass(frozen=True)
class MediaInsights:
    """Insights (or the per-item error) of one already stored media: an update, never an insert.
    ``basis``: the stored figures the engagement rate is computed from (as `StoredView` gave them)."""

    platform_id: str
    values: Mapping[str, float | int]
    error: Mapping[str, Any] | None = None
    basis: Mapping[str, Any] = field(default_factory=dict)

@dataclass(frozen=True)
class ListingComplete:
    """The run listed every media of these product types (published since ``since``, or strictly
    after it): the stored ones it did not see are gone on the platform (marked deleted, kept)."""

    since: datetime | None = None
    strictly_after: bool = False
    product_types: tuple[str, ...] = ("FEED", "REELS")

@dataclass(frozen=True)
class AccountExtra:
    """Platform-owned fields of the account learnt while syncing (Instagram's
    ``insights_unavailable_before``); they come back in `AccountRef.extra`."""

    fields: Mapping[str, Any]

@dataclass(frozen=True)
class MetricPoint:
    metric: str
    at: datetime
    value: float
    subject: Literal["account", "media"] = "account"
    subject_id: str | None = None          # media platform id for subject="media"
    source: str | None = None              # stored ``source`` ("profile", "insights"); None: the subject
    day: bool = False                      # ``at`` labels a calendar day (00:00 UTC), not an instant

@dataclass(frozen=True)
class AudienceRecord:
    breakdown: str                         # age, gender, country, city…
    values: Mapping[str, float | int]
    at: datetime
    metric: str | None = None              # e.g. follower_demographics (None: the breakdown)
    timeframe: str = "lifetime"

@dataclass(frozen=True)
class CommentRecord:
    platform_id: str
    media_id: str | None
    text: str | None
    timestamp: datetime | None
    parent_id: str | None = None
    from_id: str | None = None
    from_username: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

@dataclass(frozen=True)
class ItemProblem:
    """Recorded on the run (and the item); never fails the run."""

    stage: str
    message: str
    item_id: str | None = None
    error: PlatformError | None = None

@dataclass(frozen=True)
class StageProblem:
    """Something a stage could not do but went on without (a refused metric, a repeated cursor):
    recorded on the run as ``{stage, at, **details, **error}``; the run ends partial."""

    stage: str
    details: Mapping[str, Any] = field(default_factory=dict)
    error: PlatformError | None = None

SyncRecord = (ProfileRecord | MediaRecord | MetricPoint | AudienceRecord | CommentRecord | ItemProblem
              | MediaInsights | ListingComplete | AccountExtra | StageProblem)

@dataclass(frozen=True)
class SyncBatch:
    """What a stage yields: records to store and the checkpoint that holds once they are stored.
    The core writes the records, then the checkpoint (and ``state``), in that order; a re-run of
    the same run resumes from the checkpoint; the next run starts with ``state``."""

    records: Sequence[SyncRecord]
    checkpoint: Mapping[str, Any]
    calls: int = 0
    state: Mapping[str, Any] | None = None  # new cross-run state of the stage (None: unchanged)
    items: Mapping[str, int] | None = None  # the run's item counts it adds (None: counted by record kind)

@dataclass(frozen=True)
class StepOutcome:
    """What one step of a post did. The generic state machine stores ``fields`` (compare-and-set
    under the post's tick) and then waits, continues, or finishes.

    - ``continue``: state moved to ``state``; run the next step now;
    - ``wait``: come back after ``wait_seconds`` (processing, quota, throttle);
    - ``published``: live; ``media_id``/``permalink`` in ``fields``;
    - ``failed``: final; ``error_code``/``message``; ``caller_can_fix`` picks the event wording;
      ``platform_code``/``platform_subcode``: the platform's numeric codes, when it gave them
      (stored in the post's ``error``).
    """

    action: Literal["continue", "wait", "published", "failed"]
    state: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    wait_seconds: float = 0.0
    reason: str | None = None
    error_code: str | None = None
    message: str | None = None
    caller_can_fix: bool = False
    platform_code: int | None = None
    platform_subcode: int | None = None

@dataclass(frozen=True)
class ModerationAction:
    kind: Literal["reply", "hide", "unhide", "delete"]
    comment_id: str                        # the platform's id
    text: str | None = None                # reply text
    parent_id: str | None = None           # the thread (YouTube replies go to the thread)

@dataclass(frozen=True)
class InboundRequest:
    method: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    path_params: Mapping[str, str] = field(default_factory=dict)  # e.g. {"token": …} of /webhooks/youtube/{token}

@dataclass(frozen=True)
class HandshakeAnswer:
    status: int
    body: str
    content_type: str = "text/plain"

@dataclass(frozen=True)
class Change:
    """One normalized change of a delivery. ``kind`` names the domain it goes to."""

    kind: Literal["comment", "mention", "media", "deauthorized", "publish_status", "other"]
    account_key: str                       # the platform's account id (matched to our accounts)
    data: Mapping[str, Any]
    at: datetime | None = None
    field: str | None = None               # the platform's own name ("comments", "live_comments")

@dataclass(frozen=True)
class RejectedChange:
    """A change of an acknowledged delivery that cannot be applied: recorded with its reason."""

    index: int
    reason: str
    field: str | None = None
    account_key: str | None = None


@dataclass(frozen=True)
class ErasureRequest:
    kind: Literal["deauthorize", "delete_data"]
    platform_user_id: str
