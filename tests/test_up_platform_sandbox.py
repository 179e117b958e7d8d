"""`socialsync up` decides sandbox mode per platform, like the processes it starts: Meta
credentials alone must not send TikTok and YouTube (which have none) to the real APIs, nor stop
the sandbox they need from starting."""

from __future__ import annotations

import pytest

from socialsync.config import get_settings
from socialsync.supervisor import Supervisor
from socialsync.up_screen import sandbox_banner

REAL_META = {"instagram_app_id": "ig-app", "instagram_app_secret": "ig-secret"}


@pytest.fixture(autouse=True)
def _no_sandbox_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOCIALSYNC_SANDBOX", raising=False)


def test_meta_credentials_alone_keep_the_other_platforms_on_the_sandbox() -> None:
    settings = get_settings(sandbox=None, **REAL_META)
    assert settings.sandboxed_platforms == ["youtube", "tiktok"]
    banner = sandbox_banner(settings, tty=False)
    assert "youtube, tiktok" in banner and "SOCIALSYNC_TIKTOK__CLIENT_KEY" in banner
    assert "SOCIALSYNC_INSTAGRAM_APP_ID" not in banner  # Instagram is real: nothing to ask for
    env = Supervisor(settings)._child_env()
    # the children decide per platform from the same environment: nothing forces one answer on all
    assert "SOCIALSYNC_SANDBOX" not in env


def test_credentials_for_every_platform_mean_no_sandbox() -> None:
    settings = get_settings(
        sandbox=None, **REAL_META,
        tiktok={"client_key": "k", "client_secret": "s"},
        youtube={"client_id": "c.apps.googleusercontent.com", "client_secret": "s"},
    )
    assert settings.sandboxed_platforms == []


def test_the_global_switch_is_inherited_as_the_user_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALSYNC_SANDBOX", "true")
    settings = get_settings(**REAL_META)
    assert settings.sandboxed_platforms == ["instagram", "youtube", "tiktok"]
    assert Supervisor(settings)._child_env()["SOCIALSYNC_SANDBOX"] == "true"
