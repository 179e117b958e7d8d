"""Tokens are secrets: encrypted at rest, never in API responses, never in logs."""

from __future__ import annotations

import io
import json
import logging

import pytest

from socialsync.crypto import TokenCipher, TokenKeyError, generate_key
from socialsync.logs import configure_logging, log_handler, redact_text
from tests.conftest import Env
from tests.flows import connect, connect_link


@pytest.fixture
def captured_logs(env: Env):  # noqa: ANN201
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


async def test_tokens_never_leave_in_clear(env: Env, captured_logs: io.StringIO) -> None:
    tenant = await env.tenant()
    ig = (await connect(env, tenant.api_key, "sandbox_creator")).account_id
    fb = (await connect(env, tenant.api_key, "fb_single", login="facebook")).account_id
    # a failing flow logs too
    await env.sandbox.post("/_sandbox/faults", json={"method": "GET", "path": "/graph.instagram.com/*me", "count": 1,
                                                     "error": {"code": 190, "message": "Invalid OAuth access token"}})
    await connect(env, tenant.api_key, "sandbox_newbie")

    raw_docs = [await env.services.store.accounts.find_one({"_id": i}) for i in (ig, fb)]
    tokens = [env.services.cipher.decrypt(d["token"]["ciphertext"]) for d in raw_docs]
    assert all(len(t) > 20 for t in tokens)

    api_bodies = [
        (await env.http.get("/v1/accounts", headers=env.auth(tenant))).text,
        *[(await env.http.get(f"/v1/accounts/{i}", headers=env.auth(tenant))).text for i in (ig, fb)],
    ]
    logs = captured_logs.getvalue()
    assert "account connected" in logs and "connect failed" in logs  # the logs were captured
    for token in tokens:
        for doc in raw_docs:
            assert token not in json.dumps(doc, default=str)
        for body in api_bodies:
            assert token not in body
        assert token not in logs
    for body in api_bodies:
        assert "ciphertext" not in body and "token\"" not in body.replace("token_expires_at", "")
    assert "client_secret=sandbox" not in logs and "sandbox-ig-secret" not in logs
    # OAuth codes travel in callback URLs (access log): they are redacted too
    assert "code=[redacted]" in logs or "/oauth/instagram/callback" not in logs


def test_redaction_of_token_shapes_and_query_parameters() -> None:
    line = "GET /x?code=AQBx123&state=s&access_token=IGAAabcdefghijklmnopqrstu Bearer EAAabcdefghijklmnopqrs"
    out = redact_text(line)
    assert "AQBx123" not in out and "IGAAabcdefghijklmnopqrstu" not in out and "EAAabcdefghijklmnopqrs" not in out
    assert "state=[redacted]" in out  # OAuth states unlock a pending page selection


def test_key_rotation_new_key_encrypts_old_key_still_decrypts() -> None:
    old, new = generate_key(), generate_key()
    legacy = TokenCipher([old]).encrypt("IGAA-secret-token")
    rotated_cipher = TokenCipher([new, old])
    assert rotated_cipher.decrypt(legacy) == "IGAA-secret-token"
    rewritten = rotated_cipher.rotate(legacy)
    assert TokenCipher([new]).decrypt(rewritten) == "IGAA-secret-token"
    with pytest.raises(TokenKeyError):
        TokenCipher([new]).decrypt(legacy)  # the old key was needed for the legacy ciphertext
    with pytest.raises(TokenKeyError):
        TokenCipher([])
    with pytest.raises(TokenKeyError):
        TokenCipher(["not-a-fernet-key"])


async def test_connect_link_does_not_expose_the_app_secret(env: Env) -> None:
    tenant = await env.tenant()
    link = await connect_link(env, tenant.api_key)
    assert "secret" not in link


async def test_key_rotation_reencrypts_stored_tokens(env: Env) -> None:
    from socialsync.store.accounts import rotate_token_encryption

    tenant = await env.tenant()
    account_id = (await connect(env, tenant.api_key, "sandbox_creator")).account_id
    old_key = env.settings.token_keys[0].get_secret_value()
    before = (await env.services.store.accounts.find_one({"_id": account_id}))["token"]["ciphertext"]
    new_key = generate_key()
    done, failed = await rotate_token_encryption(env.services.store, TokenCipher([new_key, old_key]))
    assert (done, failed) == (1, 0)
    after = (await env.services.store.accounts.find_one({"_id": account_id}))["token"]["ciphertext"]
    assert TokenCipher([new_key]).decrypt(after) == TokenCipher([old_key]).decrypt(before)
    with pytest.raises(TokenKeyError):
        TokenCipher([old_key]).decrypt(after)  # now under the new key only
    done, failed = await rotate_token_encryption(env.services.store, TokenCipher([generate_key()]))
    assert (done, failed) == (0, 1)  # a key set that cannot read the tokens reports failures
