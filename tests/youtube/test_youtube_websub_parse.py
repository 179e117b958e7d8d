"""WebSub pieces that need no network: intent verification, signatures, feed parsing."""

from __future__ import annotations

import pytest

from sandbox.youtube.hub import atom_entry, atom_tombstone
from sandbox.youtube.model import Video
from socialsync.platforms.youtube.websub import BadFeed, parse_feed, sign, signature_ok, topic_for, verify_intent


def test_only_the_subscription_we_asked_for_is_confirmed() -> None:
    query = {"hub.mode": "subscribe", "hub.topic": topic_for("UC1"), "hub.challenge": "abc"}
    assert verify_intent(query, channel_id="UC1", wanted_mode="subscribe") == "abc"
    assert verify_intent(query, channel_id="UC2", wanted_mode="subscribe") is None
    assert verify_intent(query, channel_id="UC1", wanted_mode=None) is None
    assert verify_intent({**query, "hub.mode": "unsubscribe"}, channel_id="UC1", wanted_mode="subscribe") is None


def test_signature_is_hmac_sha1_over_the_raw_body() -> None:
    body = b"<feed/>"
    assert signature_ok("s", body, sign("s", body))
    assert not signature_ok("s", body + b" ", sign("s", body))
    assert not signature_ok("s", body, None)
    assert not signature_ok("s", body, "sha256=" + sign("s", body)[5:])


def test_feed_entries_and_tombstones() -> None:
    video = Video("vid123", "UC1", "A <title> & more", 1.8e9, 60)
    change = parse_feed(atom_entry(video, "Chan").encode())
    assert change.videos == ["vid123"] and change.channel_ids == {"UC1"}
    gone = parse_feed(atom_tombstone("vid123", "UC1", 1.8e9).encode())
    assert gone.deleted == ["vid123"] and gone.videos == []


def test_hostile_feeds_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><feed>&lol;</feed>'
    with pytest.raises(BadFeed):
        parse_feed(bomb)
    with pytest.raises(BadFeed):
        parse_feed(b"not xml")
