"""Issue 11 §6, for the other platforms: Hypothesis properties of TikTok's `TikTok-Signature`
verifier and event parser, and of YouTube's WebSub signature, Atom feed parser and callback
tokens. Arbitrary outside bytes are refused (False, a RejectedChange, BadFeed, None), never an
unexpected exception, and only the right digest passes."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from socialsync.platforms.base import Change, InboundRequest, RejectedChange
from socialsync.platforms.tiktok.inbound import TikTokInbound, parse_signature
from socialsync.platforms.youtube import websub

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
SECRET = "tiktok-client-secret"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
INBOUND = TikTokInbound(SECRET, 300)


def tiktok_request(header: str | None, body: bytes) -> InboundRequest:
    headers = {} if header is None else {"TikTok-Signature": header}
    return InboundRequest(method="POST", query={}, headers=headers, body=body)


def tiktok_signature(t: int, body: bytes, secret: str = SECRET) -> str:
    digest = hmac.new(secret.encode(), f"{t}".encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={t},s={digest}"


@FAST
@given(header=st.one_of(st.none(), st.text(max_size=120)), body=st.binary(max_size=100))
@example(header="t=\u00b2,s=abc", body=b"{}")  # a Unicode digit: str.isdigit() says yes, int() says no
@example(header="t=1764590400,s=\u00e9\u00e9", body=b"{}")  # non-ASCII digest text
def test_tiktok_arbitrary_signature_headers_are_refused_without_an_exception(header: str | None, body: bytes) -> None:
    assert parse_signature(header or "") is None or isinstance(parse_signature(header or ""), tuple)
    assert INBOUND.verify(tiktok_request(header, body), NOW) is False


@FAST
@given(body=st.binary(max_size=200), skew=st.integers(-300, 300), flip=st.integers(min_value=0))
def test_tiktok_only_the_right_digest_within_the_tolerance_passes(body: bytes, skew: int, flip: int) -> None:
    t = int(NOW.timestamp()) + skew
    good = tiktok_signature(t, body)
    assert INBOUND.verify(tiktok_request(good, body), NOW)
    assert not INBOUND.verify(tiktok_request(good, body + b"x"), NOW)
    assert not INBOUND.verify(tiktok_request(tiktok_signature(t, body, "other-secret"), body), NOW)
    assert not INBOUND.verify(tiktok_request(good, body), NOW + timedelta(seconds=301 + max(skew, 0)))
    digest_at = good.index("s=") + 2 + flip % 64
    tampered = good[:digest_at] + ("0" if good[digest_at] != "0" else "1") + good[digest_at + 1:]
    assert not INBOUND.verify(tiktok_request(tampered, body), NOW)


@FAST
@given(body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_tiktok_any_body_normalizes_to_changes_or_rejections(body: bytes) -> None:
    out = INBOUND.normalize(body)
    assert all(isinstance(c, (Change, RejectedChange)) for c in out)


@FAST
@given(header=st.one_of(st.none(), st.text(max_size=80)), body=st.binary(max_size=100))
@example(header="sha1=\u00e9", body=b"")
def test_websub_signature_is_true_only_for_the_right_digest(header: str | None, body: bytes) -> None:
    right = websub.sign("hub-secret", body)
    assert websub.signature_ok("hub-secret", body, header) is (header is not None and header.strip() == right)
    assert websub.signature_ok("hub-secret", body, right)
    assert not websub.signature_ok("hub-secret", body + b"x", right)
    assert not websub.signature_ok("other-secret", body, right)


@FAST
@given(body=st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_websub_any_body_is_a_feed_or_bad_feed(body: bytes) -> None:
    try:
        change = websub.parse_feed(body)
    except websub.BadFeed:
        return
    assert isinstance(change, websub.FeedChange)


@FAST
@given(channel=st.text(min_size=1, max_size=30), other=st.text(max_size=60))
def test_websub_callback_tokens_open_only_when_we_made_them(channel: str, other: str) -> None:
    key = b"websub-key"
    token = websub.callback_token(key, channel)
    assert websub.channel_of_token(key, token) == channel
    assert websub.channel_of_token(b"another-key", token) is None
    assert other == token or websub.channel_of_token(key, other) is None
