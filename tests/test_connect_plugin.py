"""The core's one connect driver (docs/platforms.md "How the core drives a plugin"): any plugin's
`Connector` is reached through /v1/connect, /oauth/{flow}/callback and the generic choice page
/oauth/{flow}/select; the store writes its `NewAccount`; its optional `subscriptions` part is
driven by the core's one job pair (webhooks.subscribe / webhooks.unsubscribe) on connect and
disconnect. A toy plugin with two logins (one ending in a choice) stands in for any platform."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq import Retry

from socialsync import queue
from socialsync.platforms.base import (
    AccountRef, Capability, Choice, ConnectFailed, Credentials, LoginSpec, NewAccount, Platform,
    PlatformError, PlatformSpec, SubscriptionState,
)
from socialsync.platforms.errors import ErrorKind
from socialsync.platforms.registry import Registry
from tests.conftest import RETURN_URL, Env
from tests.flows import Outcome
from worker.jobs import webhooks as webhook_jobs

ROOT = Path(__file__).resolve().parents[1]


class ToyConnect:
    def __init__(self) -> None:
        self.callbacks: list[tuple[str, dict[str, str], str]] = []

    def authorize_url(self, login: str, *, state: str, redirect_uri: str, code_challenge: str | None = None) -> str:
        return str(httpx.URL("https://toy.example/authorize",
                             params={"login": login, "state": state, "redirect_uri": redirect_uri}))

    async def callback(self, login: str, *, params: Mapping[str, str], redirect_uri: str,
                       code_verifier: str | None = None) -> Sequence[NewAccount] | Choice:
        self.callbacks.append((login, dict(params), redirect_uri))
        if params.get("code") == "refused":
            raise ConnectFailed("token_exchange_failed", "the toy refused the code")
        if login == "alpha":
            return [self._account(login, "solo")]
        return Choice(options=[], pending={"offers": [{"id": "p1", "name": "Page One"},
                                                      {"id": "p2", "name": "Page <Two>"}]})

    def options(self, login: str, pending: Mapping[str, Any]) -> list[dict[str, Any]]:
        return list(pending["offers"])

    async def choose(self, login: str, pending: Mapping[str, Any], option_id: str) -> NewAccount:
        if option_id not in {o["id"] for o in pending["offers"]}:
            raise ConnectFailed("invalid_page", "not offered")
        return self._account(login, option_id)

    @staticmethod
    def _account(login: str, key: str) -> NewAccount:
        return NewAccount(login=login, external_id=f"toy-{key}", username=f"toy_{key}", scopes=("read",),
                          credentials=Credentials(access_token=f"secret-toy-token-{key}", kind="toy"),
                          top_fields={"page_id": key}, extra={"shelf": 3})


class ToySubscriptions:
    fields = ("likes",)

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_with: Exception | None = None

    async def subscribe(self, account: AccountRef) -> SubscriptionState:
        self.calls.append(("subscribe", account.credentials.access_token))
        if self.fail_with is not None:
            raise self.fail_with
        return SubscriptionState("subscribed", ["likes"])

    async def unsubscribe(self, account: AccountRef) -> SubscriptionState:
        self.calls.append(("unsubscribe", account.credentials.access_token))
        return SubscriptionState("unsubscribed")


class Toy(Platform):
    spec = PlatformSpec(
        name="toy", display_name="Toy", hosts=(), capabilities=frozenset({Capability.SYNC}),
        sync_kinds={"full": ("profile",)},
        logins=(LoginSpec("alpha", authorize_url="https://toy.example/authorize", token_url="", scopes=()),
                LoginSpec("beta", authorize_url="https://toy.example/authorize", token_url="", scopes=(),
                          chooses_account=True, choice_field="pick", choice_title="Pick a toy shelf")),
    )

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.connect = ToyConnect()
        self.subscriptions = ToySubscriptions()


def _install(env: Env) -> Toy:
    toy = Toy(env.services)
    env.services.platforms = Registry({"toy": toy})
    return toy


async def _link(env: Env, tenant: Any, login: str) -> httpx.URL:
    r = await env.http.post("/v1/connect", headers=env.auth(tenant),
                            json={"platform": "toy", "login": login, "return_url": RETURN_URL})
    assert r.status_code == 201, r.text
    return httpx.URL(r.json()["authorize_url"])


async def _callback(env: Env, link: httpx.URL, flow: str, code: str = "ok") -> Outcome:
    r = await env.http.get(f"/oauth/{flow}/callback", params={"state": link.params["state"], "code": code})
    return Outcome(r.status_code, r.headers.get("location"))


async def _queued(env: Env, name: str) -> list[tuple[Any, ...]]:
    jobs = await env.services.redis.queued_jobs(queue_name=queue.queue_of(env.services.redis, name))
    return [tuple(j.args) for j in jobs if j.function == name]


async def test_any_plugin_connects_through_the_one_driver_and_its_choice_page(env: Env) -> None:
    toy = _install(env)
    tenant = await env.tenant()

    bad = await env.http.post("/v1/connect", headers=env.auth(tenant),
                              json={"platform": "toy", "login": "gamma", "return_url": RETURN_URL})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_body"
    assert "alpha, beta" in bad.json()["error"]["message"]

    # A state is bound to its flow: alpha's state at beta's callback is refused (and used up).
    link = await _link(env, tenant, "alpha")
    assert link.params["login"] == "alpha"
    assert link.params["redirect_uri"] == f"{env.settings.public_base}/oauth/alpha/callback"
    crossed = await _callback(env, link, "beta")
    assert crossed.query == {"status": "error", "error": "invalid_state"}
    assert (await _callback(env, link, "alpha")).status_code == 400  # single use

    # The connector's ConnectFailed code reaches the return_url; nothing is stored.
    refused = await _callback(env, await _link(env, tenant, "alpha"), "alpha", code="refused")
    assert refused.query == {"status": "error", "error": "token_exchange_failed"}
    assert await env.services.store.accounts.count_documents({}) == 0

    # One account: stored by the core with the plugin's top-level fields, token encrypted.
    done = await _callback(env, await _link(env, tenant, "alpha"), "alpha")
    assert done.query["status"] == "connected", done
    doc = await env.services.store.accounts.find_one({"_id": done.account_id})
    assert (doc["platform"], doc["login"], doc["external_id"]) == ("toy", "alpha", "toy-solo")
    assert doc["page_id"] == "solo" and doc["extra"] == {"shelf": 3} and doc["tenant_id"] == tenant.id
    assert env.services.cipher.decrypt(doc["token"]["ciphertext"]) == "secret-toy-token-solo"
    assert "secret-toy-token" not in repr(doc) and doc["token"]["kind"] == "toy"
    assert toy.connect.callbacks[-1][0] == "alpha"
    assert toy.connect.callbacks[-1][2] == f"{env.settings.public_base}/oauth/alpha/callback"

    # A choice: kept under the state, shown on the generic page, picked once.
    chose = await _callback(env, await _link(env, tenant, "beta"), "beta")
    assert chose.status_code == 303 and chose.location.startswith("/oauth/beta/select?state=")
    page = await env.http.get(chose.location)
    assert page.status_code == 200 and "Pick a toy shelf" in page.text
    assert "Page One" in page.text and "Page &lt;Two&gt;" in page.text and "<Two>" not in page.text
    assert "name='pick' value='p2'" in page.text
    state = re.search(r"name='state' value='([^']+)'", page.text).group(1)
    not_offered = await env.http.post("/oauth/beta/select", data={"state": state, "pick": "p9"})
    assert Outcome(not_offered.status_code, not_offered.headers.get("location")).query == {
        "status": "error", "error": "invalid_page"}
    assert (await env.http.get(chose.location)).status_code == 400  # a failed pick used the choice up

    chose = await _callback(env, await _link(env, tenant, "beta"), "beta")
    state = chose.location.split("state=", 1)[1]
    picked = await env.http.post("/oauth/beta/select", data={"state": state, "pick": "p2"})
    result = Outcome(picked.status_code, picked.headers.get("location"))
    assert result.query["status"] == "connected"
    doc = await env.services.store.accounts.find_one({"_id": result.account_id})
    assert (doc["login"], doc["external_id"], doc["page_id"]) == ("beta", "toy-p2", "p2")
    again = await env.http.post("/oauth/beta/select", data={"state": state, "pick": "p1"})
    assert again.status_code == 400
    assert await env.services.store.accounts.count_documents({}) == 2
    # no platform connects through a flow nobody declares
    assert (await env.http.get("/oauth/gamma/callback", params={"state": "x"})).status_code == 404
    wrong = await env.http.post("/oauth/alpha/callback")  # a known flow, another method: 4xx, never 5xx
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"


async def test_subscriptions_part_is_driven_by_the_core_job_pair(env: Env) -> None:
    toy = _install(env)
    tenant = await env.tenant()
    done = await _callback(env, await _link(env, tenant, "alpha"), "alpha")
    account_id = done.account_id
    assert await _queued(env, queue.WEBHOOKS_SUBSCRIBE) == [(account_id,)]  # the connect asked for it
    ctx = {"services": env.services, "job_try": 1}

    assert await webhook_jobs.subscribe(ctx, account_id) == "subscribed"
    assert toy.subscriptions.calls == [("subscribe", "secret-toy-token-solo")]
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert doc["webhook_subscription"]["status"] == "subscribed" and doc["webhook_subscription"]["fields"] == ["likes"]

    # a transient failure is the core's to retry (arq Retry); the stored state is untouched
    toy.subscriptions.fail_with = PlatformError("try later", kind=ErrorKind.TRANSIENT, status=503)
    with pytest.raises(Retry):
        await webhook_jobs.subscribe(ctx, account_id)
    assert (await env.services.store.accounts.find_one({"_id": account_id}))["webhook_subscription"]["status"] == "subscribed"
    # a refusal the core does not retry is recorded, with the part's fields
    toy.subscriptions.fail_with = PlatformError("no scope for that", kind=ErrorKind.PERMISSION, status=403)
    assert await webhook_jobs.subscribe({**ctx, "job_try": webhook_jobs.MAX_TRIES}, account_id) == "failed"
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert doc["webhook_subscription"]["status"] == "failed" and doc["webhook_subscription"]["fields"] == ["likes"]

    # the disconnect drops the token and hands it, encrypted, to the unsubscribe job
    r = await env.http.delete(f"/v1/accounts/{account_id}", headers=env.auth(tenant))
    assert r.status_code in (200, 204), r.text
    (queued,) = await _queued(env, queue.WEBHOOKS_UNSUBSCRIBE)
    assert queued[0] == account_id and env.services.cipher.decrypt(queued[1]) == "secret-toy-token-solo"
    assert "token" not in await env.services.store.accounts.find_one({"_id": account_id})
    assert await _queued(env, queue.PLATFORM_REVOKE) == []  # the toy has no privacy.revoke
    assert await webhook_jobs.unsubscribe(ctx, *queued) == "unsubscribed"
    assert toy.subscriptions.calls[-1] == ("unsubscribe", "secret-toy-token-solo")
    doc = await env.services.store.accounts.find_one({"_id": account_id})
    assert doc["webhook_subscription"]["status"] == "unsubscribed"


CORE_CONNECT_MODULES = (
    "webhooks/routes/connect.py", "webhooks/routes/oauth.py", "socialsync/connect_flows.py",
    "socialsync/lifecycle.py", "socialsync/oauth_state.py", "worker/jobs/webhooks.py", "worker/jobs/platforms.py",
)


def test_the_core_connect_path_names_no_platform() -> None:
    """Issue 8: connect, callbacks, choices, lifecycle and subscription jobs import no platform's
    module and hold no platform literal in code (docstrings and API descriptions may name them)."""
    for rel in CORE_CONNECT_MODULES:
        tree = ast.parse((ROOT / rel).read_text())
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        # API descriptions (OpenAPI text) are documentation too
        docstrings |= {id(sub) for n in ast.walk(tree) if isinstance(n, ast.keyword) and n.arg == "description"
                       for sub in ast.walk(n.value)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                for name in names:
                    assert not name.startswith(("socialsync.platforms.instagram", "socialsync.platforms.tiktok",
                                                "socialsync.platforms.youtube", "socialsync.plugins")), (rel, name)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                text = node.value.lower()
                for word in ("instagram", "facebook", "meta", "page_id", "ig_", "tiktok", "youtube", "google"):
                    assert word not in text, (rel, node.lineno, node.value)
