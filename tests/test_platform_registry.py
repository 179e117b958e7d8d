"""The platform interface: registry lookup, declared capabilities, per-platform settings."""

from __future__ import annotations

import httpx
import pytest

from socialsync.config import get_settings
from socialsync.platforms.base import (
    Call,
    Capability,
    CapabilityUnavailable,
    ErrorKind,
    Platform,
    PlatformSettings,
    PlatformSpec,
)
from socialsync.platforms.instagram.errors import GraphError
from socialsync.platforms.registry import PLATFORMS, Registry, UnknownPlatform


class _Context:
    def __init__(self) -> None:
        self.settings = get_settings()
        self.http = httpx.AsyncClient()


class _NoComments(Platform):
    spec = PlatformSpec(name="nocomments", display_name="No comments", hosts=(), logins=(),
                        capabilities=frozenset({Capability.SYNC, Capability.PUBLISH}))


def test_every_registered_platform_builds_and_answers_to_its_name() -> None:
    registry = Registry.build(_Context())
    assert registry.names == list(PLATFORMS)
    instagram = registry.get("instagram")
    assert instagram.name == "instagram"
    assert registry.for_account({"platform": "instagram"}) is instagram
    assert registry.for_account({}) is instagram  # documents written before `platform`
    assert registry.for_source("meta") is instagram


def test_unknown_platform_and_source_are_unknown() -> None:
    registry = Registry.build(_Context())
    with pytest.raises(UnknownPlatform):
        registry.get("myspace")
    with pytest.raises(UnknownPlatform):
        registry.for_source("myspace")


def test_a_capability_the_spec_does_not_declare_is_unavailable() -> None:
    registry = Registry({"nocomments": _NoComments(_Context())})
    assert registry.capable("nocomments", Capability.PUBLISH).name == "nocomments"
    with pytest.raises(CapabilityUnavailable) as caught:
        registry.capable("nocomments", Capability.COMMENTS)
    assert caught.value.capability is Capability.COMMENTS
    assert registry.with_capability(Capability.COMMENTS) == []


def test_meta_errors_are_platform_errors_with_neutral_kinds() -> None:
    exc = GraphError("expired", status=400, code=190)
    assert exc.kind is ErrorKind.TOKEN_INVALID
    assert GraphError("nope", status=400, code=10).kind is ErrorKind.CAPABILITY_MISSING
    assert ErrorKind.CAPABILITY_MISSING.value == "permission"  # the value stored on runs


def _answer(status: int, body: dict, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://graph.facebook.com/v24.0/17841400000000000/media")
    return httpx.Response(status, json=body, headers=headers or {}, request=request)


def test_meta_policy_names_the_account_and_app_scopes() -> None:
    rates = Registry.build(_Context()).get("instagram").rates
    call = Call("GET", httpx.URL("https://graph.facebook.com/v24.0/me"), account_key="178")
    assert [b.scope for b in rates.budgets(call)] == ["ig:178", "app:graph.instagram.com", "app:graph.facebook.com"]
    assert rates.budgets(Call("POST", httpx.URL("https://api.instagram.com/oauth/access_token"))) == ()


def test_meta_policy_reads_usage_headers_and_throttles() -> None:
    plugin = Registry.build(_Context()).get("instagram")
    call = Call("GET", httpx.URL("https://graph.facebook.com/v24.0/me"), account_key="178")
    busy = _answer(200, {"data": []}, {
        "x-app-usage": '{"call_count": 40, "total_time": 91, "total_cputime": 3}',
        "x-business-use-case-usage": '{"178": [{"call_count": 100, "estimated_time_to_regain_access": 3}]}',
    })
    updates = plugin.rates.learn(call, busy, plugin.errors.error_for(busy, busy.json()))
    usage = {u.scope: u for u in updates if u.usage is not None}
    assert usage["app:graph.facebook.com"].usage == 91
    assert usage["ig:178"].usage == 100 and usage["ig:178"].blocked_for == 180
    assert any(u.scope == "ig:178" and u.clears_strikes for u in updates)
    throttled = _answer(400, {"error": {"code": 17, "message": "User request limit reached"}})
    error = plugin.errors.error_for(throttled, throttled.json())
    assert error is not None and error.kind is ErrorKind.THROTTLED
    (update,) = plugin.rates.learn(call, throttled, error)
    assert update.scope == "ig:178" and update.throttled
    spam = _answer(400, {"error": {"code": 4, "error_subcode": 2207051, "message": "spam"}})
    assert plugin.rates.learn(call, spam, plugin.errors.error_for(spam, spam.json())) == []


class _DemoSettings(PlatformSettings):
    client_key: str | None = None

    @property
    def has_credentials(self) -> bool:
        return bool(self.client_key)


def test_sandbox_mode_is_decided_per_platform() -> None:
    settings = get_settings(sandbox=None, sandbox_url="http://127.0.0.1:9999")
    assert _DemoSettings().uses_sandbox(settings)
    assert _DemoSettings().url("https://open.tiktokapis.com", settings) == "http://127.0.0.1:9999/open.tiktokapis.com"
    real = _DemoSettings(client_key="k")
    assert not real.uses_sandbox(settings)
    assert real.url("https://open.tiktokapis.com/", settings) == "https://open.tiktokapis.com"
    assert _DemoSettings(client_key="k", sandbox=True).uses_sandbox(settings)
    assert _DemoSettings().uses_sandbox(get_settings(sandbox=False)) is False


def test_nested_platform_blocks_read_double_underscore_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import Field
    from pydantic_settings import SettingsConfigDict

    from socialsync.config import Settings

    class WithDemo(Settings):
        model_config = SettingsConfigDict(env_file=None)
        demo: _DemoSettings = Field(default_factory=_DemoSettings)

    monkeypatch.setenv("SOCIALSYNC_DEMO__CLIENT_KEY", "from-env")
    assert WithDemo().demo.client_key == "from-env"
