"""Deterministic media for an emulated account: the realistic mix a sync must handle.

The same (account, spec) always yields the same media, captions, counts and insights, so tests
and benchmarks can compute what a correct sync stores. The mix (defaults from the sync issue):
40 % feed images, 20 % carousels of 3 children (the second one a video with a ``thumbnail_url``),
35 % reels, and the oldest 5 % posted before the
account became a business account (their insights fail with 2108006, as on Meta). Stories are
live (posted within the last 24 h); some have fewer than 5 viewers (insights → code 10). Media
posted less than ``no_data_hours`` ago have no insights yet (empty ``data``, not zeros).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sandbox.meta.media import Media, MediaStore

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class MediaMix:
    count: int = 20
    images: float = 0.40
    carousels: float = 0.20
    reels: float = 0.35
    before_conversion: float = 0.05  # the oldest share: insights error 2108006
    children: int = 3
    stories: int = 0
    quiet_stories: int = 0  # of the stories, how many have < 5 viewers
    spacing_hours: float = 26.0  # between posts, newest first
    newest_age_hours: float = 1.0
    no_data_hours: float = 0.5  # younger than this: no insights yet


def seed_account_media(media: MediaStore, ig_user_id: str, username: str, now: float, mix: MediaMix) -> list[Media]:
    """Add ``mix.count`` posts (+ stories) to an account; returns the top-level media added."""
    rng = random.Random(f"{ig_user_id}:{mix.count}:{mix.stories}:{len(media.by_account.get(ig_user_id, []))}")
    n_err = round(mix.count * mix.before_conversion)
    n_img = round(mix.count * mix.images)
    n_car = round(mix.count * mix.carousels)
    n_reel = max(0, mix.count - n_err - n_img - n_car)
    kinds = ["IMAGE"] * n_img + ["CAROUSEL_ALBUM"] * n_car + ["REELS"] * n_reel
    rng.shuffle(kinds)
    kinds += ["IMAGE"] * n_err  # the oldest ones
    added: list[Media] = []
    # Media are stored oldest first (MediaStore keeps posting order): walk from the oldest.
    for index in reversed(range(len(kinds))):
        kind = kinds[index]
        ts = now - (mix.newest_age_hours + index * mix.spacing_hours) * HOUR
        old = index >= len(kinds) - n_err
        added.append(_post(media, rng, ig_user_id, username, kind, ts, now, mix, before_conversion=old))
    for index in reversed(range(mix.stories)):
        ts = now - (0.5 + index * (20.0 / max(1, mix.stories))) * HOUR
        quiet = index < mix.quiet_stories
        added.append(_story(media, rng, ig_user_id, username, ts, quiet))
    return added


def _common(rng: random.Random, media_id: str, username: str) -> dict[str, object]:
    shortcode = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") for _ in range(11))
    return {
        "media_url": f"https://scontent.cdninstagram.com/sandbox/media/{media_id}.jpg",
        "permalink": f"https://www.instagram.com/p/{shortcode}/",
        "shortcode": shortcode,
        "caption": f"Post {media_id} by @{username} #sandbox",
    }


def _post(
    store: MediaStore, rng: random.Random, ig_user_id: str, username: str, kind: str, ts: float,
    now: float, mix: MediaMix, *, before_conversion: bool,
) -> Media:
    media_id = store.new_id()
    product = "REELS" if kind == "REELS" else "FEED"
    media_type = "VIDEO" if kind == "REELS" else kind
    likes, comments = rng.randint(20, 2000), rng.randint(0, 150)
    item = Media(
        media_id=media_id, ig_user_id=ig_user_id, media_type=media_type,  # type: ignore[arg-type]
        media_product_type=product, timestamp=ts, like_count=likes, comments_count=comments,  # type: ignore[arg-type]
        before_business_conversion=before_conversion, **_common(rng, media_id, username),  # type: ignore[arg-type]
    )
    if kind == "REELS":
        item.thumbnail_url = item.media_url.replace(".jpg", "_thumb.jpg")
        item.media_url = item.media_url.replace(".jpg", ".mp4")
    if now - ts >= mix.no_data_hours * HOUR and not before_conversion:
        item.insights = _post_insights(rng, product, likes, comments)
    if kind == "CAROUSEL_ALBUM":
        for position in range(mix.children):
            child_id = store.new_id()
            url = f"https://scontent.cdninstagram.com/sandbox/media/{child_id}"
            # Real carousels mix images and videos; the second item of each is a video, which
            # (like every video) has a thumbnail_url beside its media_url.
            video = position == 1
            store.add(Media(
                media_id=child_id, ig_user_id=ig_user_id, media_type="VIDEO" if video else "IMAGE",
                media_product_type="FEED", timestamp=ts, parent_id=media_id,
                media_url=f"{url}.mp4" if video else f"{url}.jpg",
                thumbnail_url=f"{url}_thumb.jpg" if video else None,
            ))
            item.children.append(child_id)
    return store.add(item)


def _post_insights(rng: random.Random, product: str, likes: int, comments: int) -> dict[str, int | float]:
    reach = rng.randint(500, 50000)
    saved, shares = rng.randint(0, 300), rng.randint(0, 200)
    values: dict[str, int | float] = {
        "reach": reach, "views": reach + rng.randint(0, 20000), "likes": likes, "comments": comments,
        "saved": saved, "shares": shares, "total_interactions": likes + comments + saved + shares,
    }
    if product == "REELS":
        values["ig_reels_avg_watch_time"] = rng.randint(1500, 30000)
        values["ig_reels_video_view_total_time"] = rng.randint(10**5, 10**8)
    else:
        values["follows"] = rng.randint(0, 50)
        values["profile_visits"] = rng.randint(0, 500)
    return values


def _story(store: MediaStore, rng: random.Random, ig_user_id: str, username: str, ts: float, quiet: bool) -> Media:
    media_id = store.new_id()
    viewers = rng.randint(0, 4) if quiet else rng.randint(50, 5000)
    item = Media(
        media_id=media_id, ig_user_id=ig_user_id, media_type="IMAGE", media_product_type="STORY",
        timestamp=ts, story_viewers=viewers, **_common(rng, media_id, username),  # type: ignore[arg-type]
    )
    item.caption = ""
    if not quiet:
        replies, shares, follows = rng.randint(0, 30), rng.randint(0, 30), rng.randint(0, 10)
        item.insights = {
            "reach": viewers, "views": viewers + rng.randint(0, 500), "replies": replies, "shares": shares,
            "follows": follows, "profile_visits": rng.randint(0, 40),
            "total_interactions": replies + shares + follows,
        }
        item.story_navigation = {
            "tap_forward": rng.randint(0, viewers), "tap_back": rng.randint(0, 50),
            "tap_exit": rng.randint(0, 100), "swipe_forward": rng.randint(0, 50),
        }
        item.insights["navigation"] = sum(item.story_navigation.values())
    return store.add(item)
