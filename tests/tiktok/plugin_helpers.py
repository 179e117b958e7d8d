"""Plugin-level helpers: connect through the sandbox dialog, drive a post like the core does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from tiktok_driver import TikTok, query_of

from socialsync.platforms.base import AccountRef, NewAccount, StepOutcome

REDIRECT = "http://127.0.0.1:8080/oauth/tiktok/callback"


async def connect(platform: Any, tt: TikTok, account: str = "tt_creator", granted: str | None = None) -> NewAccount:
    url = platform.connect.authorize_url("tiktok", state="s-1", redirect_uri=REDIRECT)
    params = {"sandbox_account": account, "sandbox_decision": "allow"}
    if granted is not None:
        params["sandbox_scopes"] = granted
    r = await tt.http.get(str(httpx.URL(url).copy_merge_params(params)))
    assert r.status_code == 302, r.text
    [acc] = await platform.connect.callback("tiktok", params=query_of(r.headers["location"]), redirect_uri=REDIRECT)
    return acc


def ref(acc: NewAccount, credentials: Any = None) -> AccountRef:
    return AccountRef(id="acc_test", tenant_id="ten_test", platform="tiktok", login="tiktok",
                      external_id=acc.external_id, credentials=credentials or acc.credentials,
                      profile=acc.profile)


def now() -> datetime:
    return datetime.now(UTC)


async def drive(platform: Any, account: AccountRef, request: dict[str, Any], tt: TikTok, *,
                max_steps: int = 300, post: dict[str, Any] | None = None,
                stop_at: str | None = None) -> tuple[StepOutcome, dict[str, Any]]:
    """Run steps as the core's state machine does: store fields and state, then act on the outcome
    (a wait moves the sandbox clock instead of sleeping)."""
    post = post if post is not None else {"state": "queued", "request": request}
    out = StepOutcome("continue")
    for _ in range(max_steps):
        out = await platform.publish.advance(account, post, now())
        post.update(out.fields)
        if out.state:
            post["state"] = out.state
        post.setdefault("_states", []).append(post["state"])
        if out.action in ("published", "failed") or (stop_at and post["state"] == stop_at):
            return out, post
        if out.action == "wait":
            await tt.advance(out.wait_seconds)
            await tt.control("tick", {})
    raise AssertionError(f"not final after {max_steps} steps: {post}")
