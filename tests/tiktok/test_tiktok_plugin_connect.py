"""The plugin's connect and tokens against the sandbox over HTTP (real Redis governor)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from plugin_helpers import REDIRECT, connect, now, ref
from tiktok_driver import CREATOR_OPEN_ID, TikTok, query_of

from socialsync.platforms.base import ConnectFailed, ErrorKind, PlatformError


async def test_connect_stores_open_id_exactly_and_the_profile(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt)
    assert acc.external_id == CREATOR_OPEN_ID  # dashes kept
    assert acc.username == "tt_creator" and acc.name == "TT Creator"
    assert acc.profile["followers_count"] == 15234 and acc.profile["is_verified"] is True
    assert acc.credentials.refresh_token and acc.credentials.access_expires_at is not None
    lifetime = (acc.credentials.access_expires_at - now()).total_seconds()
    assert 7000 < lifetime <= 7200  # from expires_in, not a constant
    assert acc.extra["read_only"] is False


async def test_without_video_publish_the_account_is_read_only(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt, granted="user.info.basic,user.info.profile,user.info.stats,video.list")
    assert acc.extra["read_only"] is True and "video.publish" not in acc.scopes


async def test_missing_required_scopes_fail_the_connect(platform, tt: TikTok) -> None:
    with pytest.raises(ConnectFailed) as failed:
        await connect(platform, tt, granted="user.info.basic,video.list")
    assert failed.value.code == "missing_scopes" and "user.info.stats" in failed.value.message


async def test_a_reused_code_fails_as_token_exchange_failed(platform, tt: TikTok) -> None:
    url = platform.connect.authorize_url("tiktok", state="s", redirect_uri=REDIRECT)
    r = await tt.http.get(str(httpx.URL(url).copy_merge_params({"sandbox_account": "tt_creator", "sandbox_decision": "allow"})))
    params = query_of(r.headers["location"])
    await platform.connect.callback("tiktok", params=params, redirect_uri=REDIRECT)
    with pytest.raises(ConnectFailed) as failed:
        await platform.connect.callback("tiktok", params=params, redirect_uri=REDIRECT)
    assert failed.value.code == "token_exchange_failed"


async def test_refresh_rotates_and_the_spent_refresh_token_is_refused(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt)
    early = await platform.tokens.refresh(ref(acc), now())
    assert early.credentials is None  # not due: ~2 h left
    later = acc.credentials.access_expires_at - timedelta(seconds=600)  # inside the 15 min ahead
    check = await platform.tokens.refresh(ref(acc), later)
    assert check.credentials is not None
    assert check.credentials.refresh_token != acc.credentials.refresh_token
    with pytest.raises(PlatformError) as spent:
        await platform.tokens.refresh(ref(acc), later)  # the old pair again: TikTok killed it
    assert spent.value.kind is ErrorKind.TOKEN_INVALID and spent.value.code == "invalid_grant"


async def test_revoke_on_disconnect_kills_the_token(platform, tt: TikTok) -> None:
    acc = await connect(platform, tt)
    await platform.privacy.revoke(ref(acc))
    with pytest.raises(PlatformError) as dead:
        await platform.sync.stage(ref(acc), "profile", checkpoint={}, state={}, now=now()).__anext__()
    assert dead.value.kind is ErrorKind.TOKEN_INVALID


async def test_two_refreshes_racing_without_a_lock_break_the_chain(platform, tt: TikTok) -> None:
    """Why the core must hold the per-account lock: the loser's refresh token is dead."""
    acc = await connect(platform, tt)
    due = acc.credentials.access_expires_at
    results = await asyncio.gather(
        platform.tokens.refresh(ref(acc), due), platform.tokens.refresh(ref(acc), due), return_exceptions=True,
    )
    assert sum(isinstance(r, PlatformError) for r in results) == 1
