"""The platform interface: what the core needs from Instagram, TikTok, YouTube and any later one.

One plugin object per platform (see `Platform`), found by name in `socialsync.platforms.registry`.
Each part is a small Protocol, one method where one will do (the httpx style:
``Auth.auth_flow``, ``AsyncBaseTransport.handle_async_request``):

=================  ===========================================================================
part               the platform answers
=================  ===========================================================================
``spec``           name, hosts, login flows (OAuth URLs, scopes), capabilities (declared set)
``errors``         a response -> `PlatformError` (kind + retry-after), or None for success
``rates``          which budgets a call spends (scope, cost, style) and what a response says
                   about them; the governor in ``socialsync.ratelimit`` does the bookkeeping
``connect``        authorize URL; callback -> connected account(s), or a choice (FB pages)
``subscriptions``  (optional) subscribe / unsubscribe an account to the platform's webhooks
``tokens``         refresh/check -> new credentials (or none) + when to look again
``sync``           stages of a run kind, each yielding batches of normalized records + checkpoint
``publish``        validate a request; advance a post one step -> outcome
``moderate``       reply / hide / unhide / delete one comment
``inbound``        webhook handshake; verify raw bytes; normalize a delivery to changes
``privacy``        deauthorize / data-deletion callbacks -> whose data to erase; revoke on
                   disconnect
=================  ===========================================================================

The rule (Nango, Airbyte CDK): **the core owns storage, jobs, retries, checkpoints and leases.**
Platform code calls its API and returns records and outcomes; it never touches MongoDB or arq.
A part a platform lacks is ``None`` and its capability is absent from ``spec.capabilities``;
`Platform.require` raises `CapabilityUnavailable`, which the API answers with
``422 capability_unavailable`` (never a 500).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

import httpx
from pydantic import BaseModel, ConfigDict

from socialsync.platforms.errors import (  # noqa: F401 - re-exported: the interface in one import
    RETRYABLE_KINDS,
    AccountUnavailable,
    CapabilityUnavailable,
    ConnectFailed,
    ErrorKind,
    PlatformError,
    PublishRejected,
    RateLimited,
    TransportError,
)
from socialsync.platforms.records import (  # noqa: F401 - re-exported
    AccountRef,
    AudienceRecord,
    Budget,
    BudgetStyle,
    BudgetUpdate,
    Call,
    Change,
    Choice,
    CommentRecord,
    Credentials,
    ErasureRequest,
    HandshakeAnswer,
    InboundRequest,
    AccountExtra,
    ItemProblem,
    ListingComplete,
    MediaInsights,
    MediaRecord,
    MetricPoint,
    ModerationAction,
    NewAccount,
    ProfileRecord,
    RejectedChange,
    StepOutcome,
    StageProblem,
    SyncBatch,
    SubscriptionState,
    SyncRecord,
    TokenCheck,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from socialsync.clock import Clock
    from socialsync.config import Settings
    from socialsync.ratelimit import Governor


class Capability(StrEnum):
    SYNC = "sync"              # profile + media (+ counts) reads
    ANALYTICS = "analytics"    # account / media insights series
    AUDIENCE = "audience"      # demographics snapshots
    COMMENTS = "comments"      # reading comments
    MODERATION = "moderation"  # reply / hide / delete
    PUBLISH = "publish"
    WEBHOOKS = "webhooks"      # pushed changes
    MENTIONS = "mentions"

@dataclass(frozen=True)
class LoginSpec:
    """One OAuth flow of a platform (Instagram has two: Instagram Login and Facebook Login)."""

    name: str                    # "instagram", "facebook", "tiktok", "google": stored as `login`
    authorize_url: str           # the *real* URL; sandbox mode maps it (PlatformSettings.url)
    token_url: str
    scopes: tuple[str, ...]
    required_scopes: tuple[str, ...] = ()   # missing after consent -> connect fails missing_scopes
    scope_separator: str = ","              # TikTok ",", Google " "
    pkce: bool = False
    chooses_account: bool = False           # callback may end in a choice (Facebook pages)
    # The form field of the choice page that names the picked option (the generic choice page
    # /oauth/{login}/select; Facebook Login keeps the previous release's "page_id").
    choice_field: str = "option_id"
    choice_title: str = "Choose an account"
    choice_prompt: str = "Several accounts can be connected. Pick one."

@dataclass(frozen=True)
class PlatformSpec:
    name: str                               # "instagram": the `platform` of every document
    display_name: str
    hosts: tuple[str, ...]                  # real API hosts (the sandbox mirrors each under /{host})
    logins: tuple[LoginSpec, ...]
    capabilities: frozenset[Capability]
    sync_kinds: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> stages
    webhook_source: str | None = None       # /webhooks/{source}; `source` of webhook_events
    # The kinds the core's schedule starts on their intervals (None: every kind but "full");
    # a kind only triggered by pushes (YouTube's "push") is left out.
    scheduled_kinds: tuple[str, ...] | None = None
    webhook_signature_header: str | None = None  # named in the 401 when it is missing
    # A delivery whose signature fails: "reject" answers 401 (Meta, TikTok retry or alert);
    # "drop" answers 2xx and discards it, as WebSub requires of subscribers (YouTube).
    webhook_bad_signature: Literal["reject", "drop"] = "reject"
    # The platform calls /webhooks/{source}/deauthorize and /data-deletion (Meta); its
    # ``privacy.parse_callback`` verifies them.
    privacy_callbacks: bool = False
    # The ``media_product_type`` values of its media that are posts (analytics' engagement
    # figures count them; a story is not one).
    post_product_types: tuple[str, ...] = ()
    # Prefixes of the rate-limit budget scopes its calls spend when they do not start with
    # "<name>:" (metrics label a refusal with the platform whose scope it was).
    budget_scope_prefixes: tuple[str, ...] = ()
    # What the log redactor (socialsync/logs.py) must hide besides the OAuth names: the
    # platform's own secret parameter names (lower case) and regexes of its token shapes.
    secret_names: frozenset[str] = frozenset()
    secret_shapes: tuple[str, ...] = ()
    # How to make it real: the variables of its app credentials (the `socialsync up` banner).
    credentials_hint: str = ""
    # Its own account fields kept at the top level of the stored account (the shape of the
    # release before the core), not under ``extra``; plugins see them in `AccountRef.extra`.
    account_top_fields: tuple[str, ...] = ()

    def login(self, name: str) -> LoginSpec:
        for login in self.logins:
            if login.name == name:
                return login
        raise KeyError(f"{self.name} has no login {name!r}")

    def has(self, capability: Capability) -> bool:
        return capability in self.capabilities

class ErrorModel(Protocol):
    def error_for(self, response: httpx.Response, body: Any) -> PlatformError | None:
        """The error this response carries (HTTP status, or an error inside a 200 as TikTok
        does), or None when it is a success. ``body`` is the parsed JSON or None."""
        ...

class RatePolicy(Protocol):
    def budgets(self, call: Call) -> Sequence[Budget]:
        """The budgets this call spends (empty: not governed, e.g. an OAuth exchange)."""
        ...

    def learn(self, call: Call, response: httpx.Response, error: PlatformError | None) -> Sequence[BudgetUpdate]:
        """What this answer says about the budgets (usage headers, throttle and quota errors)."""
        ...

class Connector(Protocol):
    def authorize_url(self, login: str, *, state: str, redirect_uri: str, code_challenge: str | None = None) -> str: ...

    async def callback(
        self, login: str, *, params: Mapping[str, str], redirect_uri: str, code_verifier: str | None = None
    ) -> Sequence[NewAccount] | Choice:
        """Exchange the callback's code: the connected account(s), or a choice to make.
        Raises `ConnectFailed`. Nothing is stored by the plugin."""
        ...

    async def choose(self, login: str, pending: Mapping[str, Any], option_id: str) -> NewAccount:
        """The account of the picked option of a `Choice` (its ``pending``, handed back as kept).
        Raises `ConnectFailed` (an option that was not offered: ``invalid_page``…)."""
        ...

    def options(self, login: str, pending: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
        """The options ({"id", "name"}) of a kept choice, for the choice page (only a platform
        whose login ``chooses_account`` needs it; the core keeps ``pending`` alone, as the
        platform's earlier release stored it)."""
        ...

class Subscriptions(Protocol):
    """Optional: per-account webhook subscriptions at the platform (Meta's subscribed_apps).
    The core calls ``subscribe`` after a connect and ``unsubscribe`` after a disconnect (with the
    dropped credentials), in its one job pair (``webhooks.subscribe`` / ``webhooks.unsubscribe``),
    retrying what `PlatformError` / `TransportError` / `RateLimited` say is worth retrying."""

    async def subscribe(self, account: AccountRef) -> SubscriptionState: ...

    async def unsubscribe(self, account: AccountRef) -> SubscriptionState: ...

class TokenKeeper(Protocol):
    async def refresh(self, account: AccountRef, now: datetime) -> TokenCheck:
        """Refresh (or just check) this account's token. Runs under the core's per-account lock;
        the core stores the new pair before anything else can use it. Raises `PlatformError`
        (TOKEN_INVALID: needs reconnect; TRANSIENT/THROTTLED: retry later)."""
        ...

    def next_check_at(self, credentials: Credentials, now: datetime) -> datetime:
        """When to first look at freshly stored credentials."""
        ...

class StoredView(Protocol):
    """Read-only questions a sync stage may ask about what the core stored for the account (and
    about the run it belongs to), answered by the core (socialsync/store/stored_view.py). The
    stage never writes: what it learns goes back as records."""

    run_kind: str                 # the run's kind (``spec.sync_kinds`` key)
    run_started_at: datetime      # the run's creation time (ms precision): keys once-per-run points

    async def count_listed(self, *, newer_than: datetime | None = None) -> int:
        """Stored, not deleted feed posts and reels (published after ``newer_than``, if given)."""
        ...

    async def known_before_run(self, media_ids: Sequence[str]) -> set[str]:
        """Those of ``media_ids`` already stored before this run."""
        ...

    async def needing_extras(self, since: datetime, until: datetime | None = None,
                             limit: int = 500) -> list[Mapping[str, Any]]:
        """Stored feed posts and reels published in [since, until] whose per-type extras this run
        has not read yet (insights not known unavailable), newest first: ``external_id``,
        ``media_product_type``, ``like_count``, ``comments_count``, ``insights``."""
        ...

@runtime_checkable
class Syncer(Protocol):
    def stage(
        self, account: AccountRef, name: str, *, checkpoint: Mapping[str, Any], state: Mapping[str, Any],
        now: datetime, view: StoredView | None = None,
    ) -> AsyncIterator[SyncBatch]:
        """Run one stage (``spec.sync_kinds[kind]`` lists them). ``checkpoint``: this run's
        progress in the stage ({} when it starts); ``state``: what the stage kept across runs of
        the account (high-water marks, newest ids; {} the first time), replaced by a batch's
        ``state``; ``view``: what is stored, read-only (the core always passes it; a stage that
        needs nothing stored ignores it). Raises `PlatformError` (CAPABILITY_MISSING: the core
        records it and goes on), `RateLimited` (the job defers and resumes from the last stored
        checkpoint).

        Optional attributes the core reads (``getattr`` with a default):
        - ``skipped_kinds``: the error kinds that mean "this stage is not available for the
          account" (recorded, the run goes on); default CAPABILITY_MISSING and INVALID_PARAMETER;
        - ``refresh_refused_token`` (default True): on TOKEN_INVALID the core refreshes once and
          runs the stage again; False (Meta: a refused token cannot be refreshed) lets it out."""
        ...

class Publisher(Protocol):
    """Publishing, one step at a time, driven by the core (socialsync/publishing/plugin_run.py).

    Optional attributes the core reads (``getattr`` with a default):
    - ``step_states: Mapping[str, str]``: the core state (what the CRM sees, what cancel reads)
      of each step; unknown steps are ``publishing`` (not cancellable);
    - ``nudge_field``: the platform field a publish-status webhook names (poll that post now);
    - ``handles_publish_at``: the platform schedules publishing itself (YouTube);
    - ``refresh_refused_token`` (default True): on TOKEN_INVALID the core refreshes once and
      calls again; False (Meta: a refused token cannot be refreshed) fails ``needs_reconnect``;
    - ``async permalink(account, post) -> str | None``: the public URL of a published post when
      ``published`` did not give one (best effort, read after the final write);
    - ``give_up(post, exc) -> StepOutcome``: the ``failed`` outcome of an error the step let out
      once the core stops retrying it (default: ``platform_error``);
    - ``async quota_left(account, at, own_posts) -> PublishQuota``: what a dry run of
      ``POST /v1/accounts/{id}/posts`` answers about the platform's publishing quota at ``at``
      (without calling the platform); without it the dry run answers ``quota_left: null``;
    - ``guarded_steps: frozenset[str] | None`` (default None: every step): the steps whose
      ``interrupted`` flag the plugin reads. Only those are marked in flight before they act (one
      storage write each); any other step runs at once and is simply run again if its worker dies.

    The post route (webhooks/routes/post_create.py) reads the body once for every platform; a
    platform whose body has a fixed shape declares it as ``Platform.post_request_model`` (checked
    strictly at the API boundary: ``400 invalid_body`` with ``problems``, before the
    Idempotency-Key is looked up; the OpenAPI document's body).
    """

    def validate(self, account: AccountRef, request: Mapping[str, Any], now: datetime) -> Mapping[str, Any]:
        """The normalized request to store, or raise `PublishRejected`."""
        ...

    async def advance(self, account: AccountRef, post: Mapping[str, Any], now: datetime) -> StepOutcome:
        """Advance the post one step from its stored state (ids saved before they are polled).
        ``post`` is the core's view: ``state`` (the step), ``request``, ``interrupted``,
        ``publish_attempts``, ``created_at``, the platform's own recorded fields, and
        ``own_posts`` (read-only questions about the account's other posts)."""
        ...

@dataclass(frozen=True)
class PublishQuota:
    """A publishing quota's estimate for a dry run: posts left, and when the next slot frees
    when none is left."""

    left: int | None
    frees_at: datetime | None = None


class Moderator(Protocol):
    async def moderate(self, account: AccountRef, action: ModerationAction) -> str | None:
        """Do it; returns the new comment's platform id for a reply. Raises `PlatformError`."""
        ...

class Inbound(Protocol):
    def handshake(self, request: InboundRequest) -> HandshakeAnswer:
        """A subscription check (Meta hub.challenge, WebSub challenge): answer it (404/403 when
        the topic or token is not ours)."""
        ...

    def verify(self, request: InboundRequest, now: datetime) -> bool:
        """The signature over the raw bytes (and freshness, for TikTok's ``t=``)."""
        ...

    def normalize(self, body: bytes) -> Sequence[Change | RejectedChange]:
        """Every change of a verified delivery, each parsed alone: one bad change is a
        `RejectedChange`, the others still come back."""
        ...

class PrivacyHooks(Protocol):
    def parse_callback(self, kind: Literal["deauthorize", "delete_data"], form: Mapping[str, str]) -> ErasureRequest:
        """Verify and read a platform's privacy callback; ValueError when it is not genuine."""
        ...

    async def revoke(self, account: AccountRef) -> None:
        """Optional: best effort on disconnect, with the dropped token (TikTok /oauth/revoke,
        Google revoke); a platform without token revocation leaves it out (Meta: its
        unsubscribe is the ``subscriptions`` part)."""
        ...

class QuotaReporter(Protocol):
    """A platform with a daily unit quota (YouTube) reports it (``GET /v1/platforms/{p}/quota``).
    The core reads storage and passes what the report needs; the plugin reads its governor."""

    async def report(self, *, active_accounts: int, tenant_accounts: list[str], now: float,
                     sync_intervals: Mapping[str, int]) -> dict[str, Any]:
        """Units spent and left today, the tenant's accounts' share, what scheduled syncs (every
        ``sync_intervals[kind]`` seconds) will spend."""
        ...

class PlatformSettings(BaseModel):
    """A platform's nested settings block (``SOCIALSYNC_<PLATFORM>__<FIELD>``; see config.py).

    Sandbox mode is decided per platform: ``sandbox`` forces it; unset, a platform whose block
    has no credentials (``has_credentials``) talks to its sandbox, one with credentials goes real.
    """

    model_config = ConfigDict(extra="ignore")

    sandbox: bool | None = None

    @property
    def has_credentials(self) -> bool:
        raise NotImplementedError

    def uses_sandbox(self, settings: Settings) -> bool:
        if self.sandbox is not None:
            return self.sandbox
        if settings.sandbox is not None:  # the global switch, for every platform
            return settings.sandbox
        return not self.has_credentials

    def url(self, real_base: str, settings: Settings) -> str:
        """Base URL to call for a real platform base, honouring this platform's sandbox mode."""
        from socialsync.config import sandbox_base  # noqa: PLC0415 - config imports this module

        if self.uses_sandbox(settings):
            return sandbox_base(settings.sandbox_base_url, real_base)
        return real_base.rstrip("/")

class PlatformContext(Protocol):
    """What a plugin is built with (the services of the process, platform-facing only)."""

    settings: Settings
    http: httpx.AsyncClient
    redis: Redis
    governor: Governor | None
    clock: Clock


class Platform:
    """A platform plugin: the parts above, built once per process from the services.

    Subclasses set ``spec`` and fill the parts they have; the registry builds them with
    ``Platform(context)``."""

    spec: ClassVar[PlatformSpec]
    errors: ErrorModel
    rates: RatePolicy
    connect: Connector | None = None
    tokens: TokenKeeper | None = None
    sync: Syncer | None = None
    publish: Publisher | None = None
    moderate: Moderator | None = None
    inbound: Inbound | None = None
    privacy: PrivacyHooks | None = None
    quota: QuotaReporter | None = None
    subscriptions: Subscriptions | None = None
    # The JSON body of POST /v1/accounts/{id}/posts when it has a fixed shape (see `Publisher`).
    post_request_model: ClassVar[type[BaseModel] | None] = None

    def __init__(self, context: PlatformContext) -> None:
        self.context = context

    @property
    def name(self) -> str:
        return self.spec.name

    def require(self, capability: Capability) -> None:
        """Raise `CapabilityUnavailable` when the spec does not declare it."""
        if capability not in self.spec.capabilities:
            raise CapabilityUnavailable(self.spec.name, capability)
