"""TikTok-Signature verification over the raw bytes, and event normalization."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from sandbox.tiktok.webhooks import sign
from socialsync.platforms.base import Change, InboundRequest, RejectedChange
from socialsync.platforms.tiktok.inbound import TikTokInbound

SECRET = "sandbox-tt-secret"
BODY = json.dumps({"client_key": "k", "event": "authorization.removed", "create_time": 1,
                   "user_openid": "afd97af1-b87b-48b9-ac98-410a9c0d5301", "content": "{\"reason\": 4}"}).encode()


def req(body: bytes, header: str | None) -> InboundRequest:
    return InboundRequest("POST", {}, {} if header is None else {"TikTok-Signature": header}, body)


def test_only_a_fresh_signature_over_the_raw_bytes_with_the_client_secret_passes() -> None:
    inbound = TikTokInbound(SECRET, 300)
    t = int(time.time())
    now = datetime.now(UTC)
    assert inbound.verify(req(BODY, sign(BODY, t, SECRET)), now)
    assert not inbound.verify(req(BODY, None), now)
    assert not inbound.verify(req(BODY, sign(BODY, t, "another-secret")), now)
    assert not inbound.verify(req(BODY, sign(BODY, t - 301, SECRET)), now)
    reserialized = json.dumps(json.loads(BODY), separators=(",", ":")).encode()
    assert not inbound.verify(req(BODY, sign(reserialized, t, SECRET)), now)
    assert not inbound.verify(req(BODY, "t=abc,s=00"), now)


def test_content_is_parsed_a_second_time_and_bad_events_are_rejected_alone() -> None:
    inbound = TikTokInbound(SECRET, 300)
    [change] = inbound.normalize(BODY)
    assert isinstance(change, Change) and change.kind == "deauthorized"
    assert change.data == {"reason_code": 4, "reason": "the account was banned"}
    assert change.account_key == "afd97af1-b87b-48b9-ac98-410a9c0d5301"
    publish = json.dumps({"event": "post.publish.publicly_available", "user_openid": "x",
                          "content": json.dumps({"publish_id": "v_pub_file~1", "post_id": 7390000000000000001})}).encode()
    [p] = inbound.normalize(publish)
    assert p.kind == "publish_status" and p.data["post_id"] == "7390000000000000001"
    [bad] = inbound.normalize(b'{"event": "post.publish.complete", "user_openid": "x", "content": "{"}')
    assert isinstance(bad, RejectedChange) and "content" in bad.reason
