"""The seeded TikTok world.

| username | open_id | what it is for |
|---|---|---|
| ``tt_creator`` | ``afd97af1-b87b-48b9-ac98-410a9c0d5301`` | public creator, 60 public videos |
| ``tt_private`` | ``0c2f61d4-7e0a-4d55-b0f1-2b6f3c9d5302`` | private account: no ``PUBLIC_TO_EVERYONE`` |
| ``tt_capped``  | ``5e8a3b27-91c4-4f2e-8d7a-6c1b0e4f5303`` | hits its daily post cap after 1 post |

open_ids contain dashes on purpose: they must be stored exactly as received.
"""

from __future__ import annotations

import random

from sandbox.tiktok.world import TikTokUser, TikTokWorld, Video

DAY = 86400
CREATOR_VIDEOS = 60


def seed_world(world: TikTokWorld) -> None:
    now = int(world.clock.now())
    creator = world.add_user(TikTokUser(
        open_id="afd97af1-b87b-48b9-ac98-410a9c0d5301", union_id="union-tt-creator-0001",
        username="tt_creator", display_name="TT Creator", bio="Dances and recipes.",
        is_verified=True, follower_count=15234, following_count=312, likes_count=98000,
        max_video_post_duration_sec=600,
    ))
    private = world.add_user(TikTokUser(
        open_id="0c2f61d4-7e0a-4d55-b0f1-2b6f3c9d5302", union_id="union-tt-private-0002",
        username="tt_private", display_name="TT Private", follower_count=42, following_count=50,
        likes_count=300, private=True, max_video_post_duration_sec=180,
    ))
    capped = world.add_user(TikTokUser(
        open_id="5e8a3b27-91c4-4f2e-8d7a-6c1b0e4f5303", union_id="union-tt-capped-0003",
        username="tt_capped", display_name="TT Capped", follower_count=900, following_count=10,
        likes_count=5000, daily_post_cap=1,
    ))
    rng = random.Random(20261201)
    add_videos(world, creator, CREATOR_VIDEOS, now, rng, spacing=2 * DAY)
    add_videos(world, private, 3, now, rng, spacing=5 * DAY)
    add_videos(world, capped, 2, now, rng, spacing=3 * DAY)


def add_videos(
    world: TikTokWorld, user: TikTokUser, count: int, now: int, rng: random.Random, *, spacing: int
) -> list[Video]:
    """``count`` public videos, the newest an hour ago, then one every ``spacing`` seconds."""
    made = []
    for i in range(count):
        views = rng.randint(500, 500_000)
        video = Video(
            id=world.new_video_id(), open_id=user.open_id, create_time=now - 3600 - i * spacing,
            title=f"{user.username} video {count - i}", description=f"#sandbox clip {count - i}",
            duration=rng.randint(8, 180), view_count=views, like_count=views // rng.randint(8, 30),
            comment_count=views // rng.randint(100, 400), share_count=views // rng.randint(200, 900),
        )
        world.videos[video.id] = video
        made.append(video)
    return made
