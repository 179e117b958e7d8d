"""The YouTube plugin's parts driven the way the core drives them, against the sandbox over
HTTP and a real Redis: connect (allow, deny, unticked scopes, no channel), tokens (refresh keeps
the refresh token; invalid_grant -> token_invalid with the Testing-mode reason), sync stages
(units), analytics with omitted rows, moderation, WebSub inbound."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from socialsync.config import Settings
from socialsync.platforms.base import (
    AccountRef,
    AudienceRecord,
    CommentRecord,
    ConnectFailed,
    ErrorKind,
    InboundRequest,
    ItemProblem,
    MediaRecord,
    MetricPoint,
    ModerationAction,
    PlatformError,
    ProfileRecord,
    RateLimited,
)
from socialsync.platforms.registry import Registry
from socialsync.platforms.youtube import oauth, websub
from socialsync.platforms.youtube.plugin import YouTubePlatform
from socialsync.platforms.youtube.settings import ANALYTICS, READONLY
from tests.youtube.sandbox_helpers import units_used

REDIRECT = "https://app.example.com/oauth/youtube/callback"


@dataclass
class Context:
    settings: Settings
    http: httpx.AsyncClient
    redis: Redis
    clock: Any = time.time


@pytest_asyncio.fixture
async def plugin(yts: httpx.AsyncClient, sandbox_url: str, redis_url: str) -> AsyncIterator[YouTubePlatform]:
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    settings = Settings(sandbox=True, sandbox_url=sandbox_url, public_url="https://app.example.com")
    async with httpx.AsyncClient(timeout=15) as http:
        registry = Registry.build(Context(settings, http, redis), ["youtube"])
        yield registry.get("youtube")  # type: ignore[misc]
    await redis.aclose()


async def _consent(yts: httpx.AsyncClient, plugin: YouTubePlatform, account: str, **extra: str) -> dict[str, str]:
    verifier = oauth.new_verifier()
    url = plugin.connect.authorize_url("google", state="st", redirect_uri=REDIRECT,  # type: ignore[union-attr]
                                       code_challenge=oauth.challenge_of(verifier))
    query = parse_qs(urlsplit(url).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["include_granted_scopes"] == ["true"] and query["code_challenge_method"] == ["S256"]
    r = await yts.get(str(httpx.URL(url).copy_merge_params(
        {"sandbox_account": account, "sandbox_decision": "allow", **extra})))
    assert r.status_code == 302, r.text
    params = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["location"]).query).items()}
    params["_verifier"] = verifier
    return params


async def _connect(yts: httpx.AsyncClient, plugin: YouTubePlatform, account: str = "yt_creator", **extra: str) -> AccountRef:
    params = await _consent(yts, plugin, account, **extra)
    [new] = await plugin.connect.callback("google", params=params, redirect_uri=REDIRECT,  # type: ignore[union-attr]
                                          code_verifier=params["_verifier"])
    return AccountRef(id="acc_test", tenant_id="t1", platform="youtube", login=new.login,
                      external_id=new.external_id, credentials=new.credentials, profile=new.profile,
                      extra=new.extra)


async def _drain(plugin: YouTubePlatform, account: AccountRef, stage: str, state: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    """Run a stage from its start with the cross-run ``state``; returns (records, new state)."""
    batches = [b async for b in plugin.sync.stage(account, stage, checkpoint={}, state=state or {},  # type: ignore[union-attr]
                                                  now=datetime.now(UTC))]
    new_state = dict(state or {})
    for b in batches:
        if b.state is not None:
            new_state = dict(b.state)
    return [r for b in batches for r in b.records], new_state


async def test_connect_gives_the_channel_with_its_grant(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    account = await _connect(yts, plugin)
    assert account.external_id == "UCsandboxcreator000000001"
    assert account.credentials.refresh_token and account.credentials.access_expires_at
    assert account.extra["uploads_playlist_id"] == "UUsandboxcreator000000001"
    assert account.extra["capabilities"] == {"moderate_comments": True, "publish": True}
    assert account.profile["followers_count"] == 123000


async def test_unticked_optional_scopes_switch_capabilities_off(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    account = await _connect(yts, plugin, sandbox_scopes=f"{READONLY},{ANALYTICS}")
    assert account.extra["capabilities"] == {"moderate_comments": False, "publish": False}
    with pytest.raises(PlatformError) as refused:
        await plugin.moderate.moderate(account, ModerationAction("hide", "Ugthread000001"))  # type: ignore[union-attr]
    assert refused.value.kind is ErrorKind.CAPABILITY_MISSING


async def test_missing_required_scope_and_no_channel_and_deny(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    with pytest.raises(ConnectFailed) as missing:
        await _connect(yts, plugin, sandbox_scopes=READONLY)
    assert missing.value.code == "missing_scopes"
    with pytest.raises(ConnectFailed) as none:
        await _connect(yts, plugin, "yt_nochannel")
    assert none.value.code == "no_youtube_channel"
    with pytest.raises(ConnectFailed) as denied:
        await plugin.connect.callback("google", params={"error": "access_denied", "state": "st"},  # type: ignore[union-attr]
                                      redirect_uri=REDIRECT)
    assert denied.value.code == "access_denied"


async def test_refresh_keeps_the_refresh_token_and_dead_grant_needs_reconnect(
    yts: httpx.AsyncClient, plugin: YouTubePlatform,
) -> None:
    account = await _connect(yts, plugin)
    fresh_now = datetime.now(UTC)
    assert (await plugin.tokens.refresh(account, fresh_now)).credentials is None  # type: ignore[union-attr]
    later = account.credentials.access_expires_at  # due now
    check = await plugin.tokens.refresh(account, later)  # type: ignore[union-attr,arg-type]
    assert check.credentials is not None and check.credentials.refresh_token is None  # keep the stored one
    assert check.credentials.access_token != account.credentials.access_token
    await yts.post("/_sandbox/youtube/tokens/revoke", json={"username": "yt_creator"})
    with pytest.raises(PlatformError) as dead:
        await plugin.tokens.refresh(account, later)  # type: ignore[union-attr,arg-type]
    assert dead.value.kind is ErrorKind.TOKEN_INVALID and "revoked" in dead.value.message


async def test_testing_mode_expiry_is_named_in_the_reason(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    await yts.post("/_sandbox/youtube/app", json={"publishing_status": "testing"})
    account = await _connect(yts, plugin)
    assert account.credentials.refresh_expires_at is not None
    await yts.post("/_sandbox/clock", json={"advance_seconds": 7 * 86400 + 60})
    with pytest.raises(PlatformError) as dead:
        await plugin.tokens.refresh(account, account.credentials.refresh_expires_at)  # type: ignore[union-attr,arg-type]
    assert dead.value.kind is ErrorKind.TOKEN_INVALID and "Testing" in dead.value.message


async def test_full_then_incremental_sync_units(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    account = await _connect(yts, plugin)
    base = await units_used(yts)  # connect read the channel once
    profile, _ = await _drain(plugin, account, "channel")
    assert isinstance(profile[0], ProfileRecord) and any(isinstance(r, MetricPoint) for r in profile)
    videos, cp = await _drain(plugin, account, "videos_all")
    media = [r for r in videos if isinstance(r, MediaRecord)]
    assert len(media) == 150 and media[0].fields["platform"] == "youtube"
    assert await units_used(yts) - base == 7  # 1 + 2 * ceil(150 / 50)
    added = (await yts.post("/_sandbox/youtube/videos", json={"channel": "yt_creator", "title": "New"})).json()["id"]
    before = await units_used(yts)
    _, _ = await _drain(plugin, account, "channel")
    new, cp2 = await _drain(plugin, account, "videos_new", cp)
    assert await units_used(yts) - before <= 3
    assert added in {r.platform_id for r in new if isinstance(r, MediaRecord)} and cp2["recent"][0][0] == added


async def test_hidden_subscribers_give_no_follower_point(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    account = await _connect(yts, plugin, "yt_hidden")
    records, _ = await _drain(plugin, account, "channel")
    assert not [r for r in records if isinstance(r, MetricPoint) and r.metric == "followers_count"]
    assert records[0].fields["followers_count"] is None  # type: ignore[union-attr]


async def test_analytics_not_yet_available_is_not_zero(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    account = await _connect(yts, plugin)
    await yts.post("/_sandbox/youtube/app", json={"analytics_lag_days": 30})
    records, state = await _drain(plugin, account, "analytics")
    assert all(isinstance(r, ItemProblem) for r in records) and state["through"] is None
    audience, _ = await _drain(plugin, account, "audience")
    assert all(isinstance(r, ItemProblem) for r in audience)
    await yts.post("/_sandbox/youtube/app", json={"analytics_lag_days": 3})
    records, state = await _drain(plugin, account, "analytics")
    views = [r for r in records if isinstance(r, MetricPoint) and r.metric == "views"]
    assert len(views) >= 20 and all(v.value > 0 for v in views) and state["through"]
    assert any(r.subject == "media" for r in records if isinstance(r, MetricPoint))
    audience, _ = await _drain(plugin, account, "audience")
    assert {r.breakdown for r in audience if isinstance(r, AudienceRecord)} == {"age_gender", "country"}


async def test_comments_and_each_moderation_action(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    account = await _connect(yts, plugin)
    records, cp = await _drain(plugin, account, "comments")
    comments = [r for r in records if isinstance(r, CommentRecord)]
    assert len(comments) == 30 + 7 + 7  # threads, the long thread's replies, the other replies
    before = await units_used(yts)
    reply_id = await plugin.moderate.moderate(account, ModerationAction("reply", "Ugthread000002", text="thanks"))  # type: ignore[union-attr]
    assert reply_id and reply_id.startswith("Ugthread000002.")
    await plugin.moderate.moderate(account, ModerationAction("hide", "Ugthread000003"))  # type: ignore[union-attr]
    assert (await yts.get("/_sandbox/youtube/comments/Ugthread000003")).json()["moderation_status"] == "heldForReview"
    await plugin.moderate.moderate(account, ModerationAction("unhide", "Ugthread000003"))  # type: ignore[union-attr]
    assert (await yts.get("/_sandbox/youtube/comments/Ugthread000003")).json()["moderation_status"] == "published"
    await plugin.moderate.moderate(account, ModerationAction("delete", "Ugthread000004"))  # type: ignore[union-attr]
    assert (await yts.get("/_sandbox/youtube/comments/Ugthread000004")).status_code == 404
    assert await units_used(yts) - before == 200  # 50 units each
    again, _ = await _drain(plugin, account, "comments", cp)
    assert [r for r in again if isinstance(r, CommentRecord)] == []


async def test_quota_exceeded_mid_sync_defers_and_calls_nothing(yts: httpx.AsyncClient, plugin: YouTubePlatform) -> None:
    account = await _connect(yts, plugin)
    await yts.post("/_sandbox/youtube/quota", json={"daily_units": 4})  # connect used 1
    with pytest.raises(PlatformError) as stopped:
        await _drain(plugin, account, "videos_all")
    assert stopped.value.kind is ErrorKind.QUOTA_EXCEEDED and stopped.value.retry_after
    sent = (await yts.get("/_sandbox/stats")).json()["total"]
    with pytest.raises(RateLimited):  # the core governor: the day is spent until midnight PT
        await _drain(plugin, account, "channel")
    assert (await yts.get("/_sandbox/stats")).json()["total"] == sent  # nothing went out


async def test_websub_handshake_signature_and_feed(plugin: YouTubePlatform) -> None:
    inbound = plugin.inbound
    channel = "UCsandboxcreator000000001"
    path = inbound.callback_path(channel)  # type: ignore[union-attr]
    token = path.rsplit("/", 1)[1]
    verify = {"hub.mode": "subscribe", "hub.topic": websub.topic_for(channel), "hub.challenge": "c1"}
    mine = {"token": token}
    assert inbound.handshake(InboundRequest("GET", verify, {}, b"", path_params=mine)).body == "c1"  # type: ignore[union-attr]
    forged = {"token": channel + ".0000"}
    assert inbound.handshake(InboundRequest("GET", verify, {}, b"", path_params=forged)).status == 404  # type: ignore[union-attr]
    other = {**verify, "hub.topic": websub.topic_for("UCother")}
    assert inbound.handshake(InboundRequest("GET", other, {}, b"", path_params=mine)).status == 404  # type: ignore[union-attr]
    from sandbox.youtube.hub import atom_entry  # noqa: PLC0415
    from sandbox.youtube.model import Video  # noqa: PLC0415

    body = atom_entry(Video("vidNEW", channel, "t", time.time(), 10), "c").encode()
    secret = websub.secret_for(plugin.parts.websub_key, channel)  # type: ignore[attr-defined]
    good = InboundRequest("POST", {}, {"X-Hub-Signature": websub.sign(secret, body)}, body, path_params=mine)
    assert inbound.verify(good, datetime.now(UTC))  # type: ignore[union-attr]
    assert not inbound.verify(replace(good, body=body + b" "), datetime.now(UTC))  # type: ignore[union-attr]
    [change] = inbound.normalize(body)  # type: ignore[union-attr]
    assert change.account_key == channel and change.data == {"media_id": "vidNEW", "deleted": False}  # type: ignore[union-attr]
