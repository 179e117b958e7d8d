"""Issue 11 §6: Hypothesis properties of the parsers that take outside bytes: cursors,
timestamps, limits, JSON bodies, Meta's X-Hub-Signature-256 and signed_request.
(TikTok's and WebSub's: tests/test_edges_properties_platforms.py.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialsync.config import Settings
from socialsync.crypto import generate_key
from socialsync.platforms.instagram import signatures
from webhooks import cursors
from webhooks.boundary import strict_json
from webhooks.errors import ApiError
from webhooks.params import PageQuery, _validate, parse_datetime

CONFIG = Settings(token_keys=f"{generate_key()},{generate_key()}", sandbox=True)  # type: ignore[arg-type]
OTHER = Settings(token_keys=generate_key(), sandbox=True)  # type: ignore[arg-type]
FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)


@FAST
@given(value=json_values, scope=st.text(max_size=30))
def test_a_cursor_opens_only_with_its_scope_and_key(value: object, scope: str) -> None:
    sealed = cursors.seal(CONFIG, scope, value)
    assert sealed.isascii() and len(sealed) < 2000
    assert cursors.unseal(CONFIG, scope, sealed) == value
    for other_settings, other_scope in ((CONFIG, scope + "x"), (OTHER, scope)):
        with pytest.raises(cursors.CursorError):
            cursors.unseal(other_settings, other_scope, sealed)


@FAST
@given(value=json_values, position=st.integers(min_value=0), char=st.sampled_from("AQgw-_.0z"))
def test_any_change_to_a_cursor_is_refused(value: object, position: int, char: str) -> None:
    sealed = cursors.seal(CONFIG, "s", value)
    i = position % len(sealed)
    tampered = sealed[:i] + char + sealed[i + 1:]
    if tampered != sealed:
        with pytest.raises(cursors.CursorError):
            cursors.unseal(CONFIG, "s", tampered)


@FAST
@given(st.text(max_size=200))
def test_arbitrary_text_is_never_a_cursor(text: str) -> None:
    with pytest.raises(cursors.CursorError):
        cursors.unseal(CONFIG, "s", text)


@FAST
@given(st.text(max_size=40))
def test_timestamps_parse_to_utc_or_fail_with_value_error(text: str) -> None:
    try:
        parsed = parse_datetime(text)
    except ValueError:
        return
    assert parsed.tzinfo is UTC and datetime.min.replace(tzinfo=UTC) <= parsed <= datetime.max.replace(tzinfo=UTC)


@FAST
@given(st.datetimes(timezones=st.just(UTC)), st.integers(-23 * 60, 23 * 60))
def test_timestamps_with_any_offset_round_trip(moment: datetime, minutes: int) -> None:
    from datetime import timezone  # noqa: PLC0415

    try:
        shown = moment.astimezone(timezone(timedelta(minutes=minutes)))
    except OverflowError:
        return
    assert parse_datetime(shown.isoformat()) == moment


@FAST
@given(st.text(max_size=30))
def test_limits_are_1_to_200_in_ascii_digits_or_invalid_limit(text: str) -> None:
    try:
        limit = _validate(PageQuery, {"limit": text}, "query").limit
    except ApiError as exc:
        assert exc.status == 400 and exc.code == "invalid_limit"
        return
    assert text.isascii() and text.isdigit() and 1 <= limit <= 200 and limit == int(text)


@FAST
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode) | json_values.map(lambda v: json.dumps(v).encode()))
def test_json_bodies_parse_or_get_a_400(raw: bytes) -> None:
    try:
        strict_json(raw)
    except ApiError as exc:
        assert exc.status == 400 and exc.code in {"invalid_encoding", "invalid_body", "invalid_number",
                                                  "number_out_of_range", "invalid_key", "nul_character", "too_deep"}


SECRETS = [b"first-app-secret", b"second-app-secret"]


@FAST
@given(header=st.one_of(st.none(), st.text(max_size=80)), body=st.binary(max_size=100))
def test_hub_signature_is_true_only_for_the_right_digest(header: str | None, body: bytes) -> None:
    assert signatures.verify_hub_signature(header, body, SECRETS) is False or header in {
        signatures.hub_signature(s, body) for s in SECRETS}
    for secret in SECRETS:
        good = signatures.hub_signature(secret, body)
        assert signatures.verify_hub_signature(good, body, SECRETS)
        assert not signatures.verify_hub_signature(good, body + b"x", SECRETS)


@FAST
@given(value=st.one_of(st.none(), st.text(max_size=120)))
def test_signed_request_parses_or_raises_its_own_error(value: str | None) -> None:
    try:
        signatures.parse_signed_request(value, SECRETS)
    except signatures.SignedRequestError:
        return
    raise AssertionError("an arbitrary value was accepted as a signed_request")


@FAST
@given(user_id=st.text(min_size=1, max_size=20), flip=st.integers(min_value=0))
def test_signed_request_round_trips_and_tampering_is_refused(user_id: str, flip: int) -> None:
    value = signatures.make_signed_request({"user_id": user_id, "algorithm": "HMAC-SHA256"}, SECRETS[1])
    assert signatures.parse_signed_request(value, SECRETS)["user_id"] == user_id
    i = flip % len(value)
    tampered = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1:]
    with pytest.raises(signatures.SignedRequestError):
        signatures.parse_signed_request(tampered, SECRETS)


@FAST
@given(value=json_values)
def test_a_cursor_has_one_spelling(value: object) -> None:
    """base64 without padding leaves unused low bits in the last character: another spelling of
    the same bytes must still be refused (one cursor, one string)."""
    sealed = cursors.seal(CONFIG, "s", value)
    body, tag = sealed.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for part, rebuild in ((tag, lambda t: f"{body}.{t}"), (body, lambda b: f"{b}.{tag}")):
        last = alphabet.index(part[-1])
        for other in alphabet[last & ~0xF: (last & ~0xF) + 16]:
            variant = rebuild(part[:-1] + other)
            if variant != sealed:
                with pytest.raises(cursors.CursorError):
                    cursors.unseal(CONFIG, "s", variant)


def test_integer_parameters_reach_their_documented_maximum() -> None:
    """Found by the fuzz stage: 2**62 (19 digits) is a valid `after` of GET /v1/events."""
    from webhooks.routes.events import MAX_SEQ, EventQuery  # noqa: PLC0415

    assert _validate(EventQuery, {"after": str(MAX_SEQ)}, "query").after == MAX_SEQ
    with pytest.raises(ApiError):
        _validate(EventQuery, {"after": str(MAX_SEQ + 1)}, "query")
    with pytest.raises(ApiError):
        _validate(EventQuery, {"after": "9" * 20}, "query")
