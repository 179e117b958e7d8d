"""Drive the OAuth flows the way a browser does: real HTTP redirects, nothing skipped."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.conftest import RETURN_URL, Env


@dataclass
class Outcome:
    """Where the browser ended up."""

    status_code: int
    location: str | None

    @property
    def query(self) -> dict[str, str]:
        assert self.location, f"no redirect (HTTP {self.status_code})"
        return {k: v[0] for k, v in parse_qs(urlsplit(self.location).query).items()}

    @property
    def account_id(self) -> str:
        assert self.query.get("status") == "connected", self.query
        return self.query["account_id"]


async def connect_link(env: Env, tenant_key: str, login: str = "instagram", **body: object) -> str:
    payload = {"platform": "instagram", "login": login, "return_url": RETURN_URL, **body}
    r = await env.http.post("/v1/connect", json=payload, headers={"Authorization": f"Bearer {tenant_key}"})
    assert r.status_code == 201, r.text
    return r.json()["authorize_url"]


async def authorize(env: Env, authorize_url: str, account: str, decision: str = "allow", scopes: str | None = None) -> str:
    """The platform's consent page, answered by the sandbox's automation parameters.
    Returns the callback URL the platform redirects the browser to."""
    params = {"sandbox_account": account, "sandbox_decision": decision}
    if scopes is not None:
        params["sandbox_scopes"] = scopes
    url = httpx.URL(authorize_url).copy_merge_params(params)
    r = await env.sandbox.get(str(url))
    assert r.status_code in (302, 303), r.text
    return r.headers["location"]


async def follow_callback(env: Env, callback_url: str) -> Outcome:
    """The browser lands on our callback (fragment dropped, as browsers do)."""
    url = callback_url.split("#", 1)[0]
    r = await env.http.get(url)
    return Outcome(r.status_code, r.headers.get("location"))


async def connect(
    env: Env, tenant_key: str, account: str, login: str = "instagram", decision: str = "allow",
    scopes: str | None = None, **body: object,
) -> Outcome:
    link = await connect_link(env, tenant_key, login, **body)
    callback = await authorize(env, link, account, decision, scopes)
    return await follow_callback(env, callback)
