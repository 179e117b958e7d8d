"""Issue 11 §6: schemathesis against the running receiver's own /v1/openapi.json.

The receiver runs in this test's event loop (the `env` fixture: real Redis, MongoDB-wire server
and sandbox); the schemathesis CLI runs as a child process with every check on, a fixed seed and
a bounded number of examples, authenticated as a tenant whose ids (account, post, comment, action,
sync run) are seeded through the real flows, so cases reach past 404s. It must report 0 failures.
Numbers (cases run, time) are printed; see docs/edges.md for what it found.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN, Env
from tests.webhooks_helpers import connected, sandbox_comment, seed_media

SEED = 20261201
MAX_EXAMPLES = int(os.environ.get("SOCIALSYNC_FUZZ_EXAMPLES", "10"))
IMAGE = "https://cdn.example.com/fuzz.jpg"


async def _seed(env: Env) -> dict[str, str]:
    acc = await connected(env)
    media = await seed_media(env, count=1)
    comment = await sandbox_comment(env, media[0], "fuzz me")
    await env.run_worker()
    h = env.auth(acc.tenant)
    post = await env.http.post(f"/v1/accounts/{acc.account_id}/posts", headers={**h, "Idempotency-Key": "fuzz-1"},
                               json={"type": "image", "media": [{"url": IMAGE, "kind": "image"}], "caption": "fuzz",
                                     "publish_at": (datetime.now(UTC) + timedelta(days=30)).isoformat()})
    action = await env.http.post(f"/v1/comments/{comment['id']}/hide", headers=h, json={"hidden": True})
    run = await env.http.post(f"/v1/accounts/{acc.account_id}/sync", headers=h, json={"kind": "recent"})
    endpoint = await env.http.put("/v1/webhook-endpoint", headers=h, json={"url": "https://crm.example.com/hooks"})
    for r in (post, action, run, endpoint):
        assert r.status_code < 300, r.text
    return {
        "key": acc.tenant.api_key, "account_id": acc.account_id, "comment_id": comment["id"],
        "post_id": post.json()["id"], "action_id": action.json()["id"], "run_id": run.json()["run_id"],
    }


def _config(ids: dict[str, str]) -> str:
    params = "\n".join(f'"{name}" = "{ids[name]}"' for name in ("account_id", "comment_id", "post_id", "action_id", "run_id"))
    business_rules = "".join(
        f"""
[[operations]]
include-path = "{path}"
include-method = "{method}"
checks.positive_data_acceptance.expected-statuses = [200, 201, 202, 400, 401, 403, 404, 409]
""" for path, method in BUSINESS_RULES)
    return f"""
# Every check is on except use_after_free: its premise (a DELETE removes the resource) is false
# here by design: DELETE disconnects an account (history kept), cancels a post (kept, state
# cancelled) or queues a platform delete (202). A cursor is opaque and signed: any value we did
# not issue is rightly 400 invalid_cursor, so it is fixed to "" (the first page) here and fuzzed
# by the Hypothesis properties in tests/test_edges_properties.py instead.
generation.allow-x00 = false
phases.coverage.unexpected-methods = ["PATCH", "TRACE"]

[checks]
use_after_free.enabled = false

[parameters]
{params}
"cursor" = ""

[[operations]]
include-path = "/v1/admin/tenants"
headers = {{ Authorization = "Bearer {ADMIN_TOKEN}" }}
{business_rules}"""


# Operations whose 400s include rules a JSON schema cannot state (the return_url allow-list,
# Instagram's publishing rules per media type): a 400 with its own code is the right answer to
# some schema-valid bodies there. Elsewhere a schema-valid request must not get a 400.
BUSINESS_RULES = [("/v1/connect", "POST"), ("/v1/accounts/{account_id}/posts", "POST")]


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_schemathesis_finds_no_failure(env: Env, tmp_path: Path) -> None:
    ids = await _seed(env)
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(ids))
    report = tmp_path / "report.json"
    cli = Path(sys.executable).with_name("schemathesis")
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        str(cli), "--config-file", str(config), "run", f"{env.url}/v1/openapi.json",
        "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES),
        "--header", f"Authorization: Bearer {ids['key']}", "--workers", "1", "--request-timeout", "20",
        "--report", "json", "--report-json-path", str(report), "--no-color", "--output-truncate", "false",
        "--suppress-health-check", "all",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
    )
    out, _ = await proc.communicate()
    elapsed = time.perf_counter() - started
    text = out.decode(errors="replace")
    summary = text[-3000:]
    print(f"\nschemathesis: {elapsed:.0f} s, exit {proc.returncode}\n{summary}")
    if report.exists():
        print(json.dumps(json.loads(report.read_text()).get("summary", {}), indent=1)[:2000])
    assert proc.returncode == 0, text[-20000:]
