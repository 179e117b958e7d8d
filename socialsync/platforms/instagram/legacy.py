"""What the Instagram-only release (before the platform core) wrote, named once for the start-up
migration (socialsync/store/migrations.py) and for posts such a release may still write during a
rolling upgrade: the posts' account field, their top-level container fields, and the step a post's
core state stands for (a ``publishing`` post had made its publish call: it reads back first)."""

POST_ACCOUNT_FIELD = "ig_user_id"
POST_FIELDS = ("items", "parent", "publish_container", "polls", "poll_started_at", "started_at",
               "ready_at", "publish_first_at", "publishing_since", "recreations", "blocked",
               "media_id_unresolved")
POST_STEPS = {"scheduled": "queued", "publishing": "reconcile"}
