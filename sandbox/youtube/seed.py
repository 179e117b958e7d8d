"""The seeded YouTube world.

- ``yt_creator``: channel ``UCsandboxcreator000000001`` with 150 videos over ~300 days, newest
  first in its uploads playlist; every 5th is a Short (vertical, <= 3 min), plus edge cases:
  a square 180 s video (a Short), a vertical 181 s one (not), likes hidden, comments off,
  private and unlisted uploads, ``.000Z`` timestamps. Comment threads on the 10 newest videos,
  one with more replies than a thread carries inline.
- ``yt_hidden``: a channel hiding its subscriber count (the API omits it), 3 videos.
- ``yt_nochannel``: a Google account without a YouTube channel.
"""

from __future__ import annotations

from sandbox.youtube.model import Channel, Comment, GoogleAccount, Video
from sandbox.youtube.state import YouTubeState

DAY = 86400
CREATOR_CHANNEL = "UCsandboxcreator000000001"
HIDDEN_CHANNEL = "UCsandboxhidden0000000002"
VIDEO_COUNT = 150


def _video(state: YouTubeState, channel_id: str, i: int, published_at: float) -> Video:
    short = i % 5 == 0
    video = Video(
        video_id=f"vidc{i:07d}",
        channel_id=channel_id,
        title=f"Video {i}" + (" #shorts" if short and i % 10 == 0 else ""),
        published_at=published_at,
        duration_seconds=(15 + i % 160) if short else 240 + 17 * i,
        width=1080 if short else 1920,
        height=1920 if short else 1080,
        description=f"Description of video {i}",
        tags=["sandbox", f"tag{i % 7}"],
        view_count=1000 + 137 * i,
        like_count=50 + i,
        comment_count=i % 9,
        fractional_timestamp=i % 3 == 0,
    )
    if i == 7:
        video.width = video.height = 1080
        video.duration_seconds = 180  # square, exactly 3 minutes: a Short
    if i == 8:
        video.width, video.height, video.duration_seconds = 1080, 1920, 181  # vertical, too long
    if i == 11:
        video.like_count = None  # likes hidden
    if i == 12:
        video.comment_count = None  # comments off
    if i == 13:
        video.privacy = "private"
    if i == 14:
        video.privacy = "unlisted"
    return video


def seed_youtube(state: YouTubeState) -> None:
    now = state.clock.now()
    state.accounts["yt_creator"] = GoogleAccount("yt_creator", "110000000000000000001",
                                                 "Sandbox Creator", CREATOR_CHANNEL)
    state.accounts["yt_hidden"] = GoogleAccount("yt_hidden", "110000000000000000002",
                                                "Hidden Counts", HIDDEN_CHANNEL)
    state.accounts["yt_nochannel"] = GoogleAccount("yt_nochannel", "110000000000000000003",
                                                   "No Channel")
    state.channels[CREATOR_CHANNEL] = Channel(
        CREATOR_CHANNEL, "Sandbox Creator", now - 900 * DAY, subscriber_count=123000,
        view_count=0, description="A seeded creator channel", custom_url="@sandboxcreator",
    )
    state.channels[HIDDEN_CHANNEL] = Channel(
        HIDDEN_CHANNEL, "Hidden Counts", now - 400 * DAY, subscriber_count=4321,
        hidden_subscriber_count=True, custom_url="@hiddencounts", verified=False,
    )
    # Video i=1 is the newest (2 hours ago), then one every 2 days.
    for i in range(1, VIDEO_COUNT + 1):
        video = _video(state, CREATOR_CHANNEL, i, now - 7200 - (i - 1) * 2 * DAY)
        state.videos[video.video_id] = video
    for i in range(1, 4):
        video = Video(f"vidh{i:07d}", HIDDEN_CHANNEL, f"Hidden {i}", now - i * 5 * DAY, 300,
                      view_count=100 * i)
        state.videos[video.video_id] = video
    creator = state.channels[CREATOR_CHANNEL]
    creator.view_count = sum(v.view_count for v in state.videos.values() if v.channel_id == CREATOR_CHANNEL)
    _seed_comments(state, now)


def _seed_comments(state: YouTubeState, now: float) -> None:
    n = 0
    for i in range(1, 11):
        video_id = f"vidc{i:07d}"
        for t in range(3):
            n += 1
            thread_id = f"Ugthread{n:06d}"
            at = now - 3600 - (i * 3 + t) * 3600
            state.comments[thread_id] = Comment(
                thread_id, video_id, CREATOR_CHANNEL, f"Fan {n}", f"UCfan{n:020d}",
                f"Great video {i} <3 (comment {n})", at, like_count=n % 4,
            )
            replies = 7 if n == 1 else (1 if n % 4 == 0 else 0)
            for r in range(replies):
                reply_id = f"{thread_id}.reply{r:04d}"
                state.comments[reply_id] = Comment(
                    reply_id, video_id, CREATOR_CHANNEL, f"Replier {r}", f"UCrep{r:020d}",
                    f"reply {r} to {n}", at + 60 * (r + 1), parent_id=thread_id,
                )
