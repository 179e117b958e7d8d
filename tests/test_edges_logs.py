"""Issue 11 §4: one redactor for every logger; no secret in any log line."""

from __future__ import annotations

import io
import json
import logging

import pytest

from socialsync.logs import configure_logging, get_logger, log_handler, redact, redact_text
from tests.conftest import Env

SECRET = "s3cr3t-VALUE-42"
NAMES = ["hub.verify_token", "fb_exchange_token", "api_key", "access_token", "client_secret", "code", "state", "signed_request",
         "my_secret", "X-Refresh-Token", "apikey", "db_password", "privateKey"]


@pytest.mark.parametrize("name", NAMES)
def test_every_secret_name_is_redacted_in_queries_forms_json_and_headers(name: str) -> None:
    texts = [
        f"GET /x?limit=5&{name}={SECRET}&y=1 HTTP/1.1",
        f"{name}={SECRET}",  # a form body
        f'{{"{name}": "{SECRET}", "other": 1}}',
        f"Host: example.com\n{name}: {SECRET}\n",
    ]
    for text in texts:
        assert SECRET not in redact_text(text), text
    assert "limit=5" in redact_text(texts[0]) and "y=1" in redact_text(texts[0])


@pytest.mark.parametrize("token", ["IGAAKx1f3yZbZCbZAExampleToken0123456789", "EAAGm0PX4ZCpsBAExample0123456789",
                                   "ssk_live_0123456789abcdefghij"])
def test_token_shapes_are_redacted_wherever_they_appear(token: str) -> None:
    """Meta's token shapes come from the Instagram plugin's spec (secret_shapes), ours from the
    redactor itself: a token pasted into free text (an error message, a URL path) is hidden."""
    for text in (f"the platform said: invalid token {token} (190)", f"GET /v24.0/me/{token}/media"):
        out = redact_text(text)
        assert token not in out and "[redacted]" in out, out


def test_structured_fields_are_redacted_by_name_at_any_depth() -> None:
    event = {"client_secret": SECRET, "nested": {"headers": {"Authorization": f"Bearer {SECRET}"}},
             "url": f"https://graph.example.com/x?access_token={SECRET}", "list": [f"api_key={SECRET}"],
             "state": "published", "code": "invalid_limit"}
    out = json.dumps(redact(event))
    assert SECRET not in out
    assert '"state": "published"' in out and '"code": "invalid_limit"' in out  # post states, error codes stay


@pytest.fixture
def captured(env: Env):  # noqa: ANN201
    configure_logging(env.settings)
    stream = io.StringIO()
    handler = log_handler(env.settings, stream)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


async def test_keys_in_query_strings_are_refused_and_not_logged(env: Env, captured: io.StringIO) -> None:
    tenant = await env.tenant()
    r = await env.http.get("/v1/accounts", params={"api_key": tenant.api_key})
    assert r.status_code == 401  # a key in the query string does not authenticate
    await env.http.get("/webhooks/meta", params={"hub.mode": "subscribe", "hub.verify_token": SECRET, "hub.challenge": "1"})
    await env.http.post("/webhooks/meta/deauthorize", data={"signed_request": SECRET + ".x"})
    await env.http.get("/oauth/instagram/callback", params={"code": SECRET, "state": SECRET})
    get_logger("test").info("calling", url=f"https://x.example/?client_secret={SECRET}", password=SECRET)
    logs = captured.getvalue()
    assert "/v1/accounts" in logs and "/webhooks/meta" in logs  # the access log was captured
    assert tenant.api_key not in logs and SECRET not in logs


def test_the_sandbox_notice_names_the_platforms_each_process_emulates(monkeypatch: pytest.MonkeyPatch) -> None:
    """Per platform (Settings.sandboxed_platforms), not from Meta's credentials alone."""
    from structlog.testing import capture_logs  # noqa: PLC0415

    from socialsync.config import get_settings  # noqa: PLC0415
    from socialsync.logs import announce_mode  # noqa: PLC0415

    monkeypatch.delenv("SOCIALSYNC_SANDBOX", raising=False)
    meta_only = get_settings(sandbox=None, instagram_app_id="ig-app", instagram_app_secret="ig-secret")
    with capture_logs() as logs:
        announce_mode(meta_only)
    [notice] = logs
    assert notice["event"].startswith("SANDBOX MODE for youtube, tiktok") and notice["platforms"] == ["youtube", "tiktok"]
    every = get_settings(sandbox=None, instagram_app_id="ig-app", instagram_app_secret="ig-secret",
                         tiktok={"client_key": "k", "client_secret": "s"},
                         youtube={"client_id": "c.apps.googleusercontent.com", "client_secret": "s"})
    with capture_logs() as logs:
        announce_mode(every)
    assert logs == []
