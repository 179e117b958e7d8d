"""Comments on the emulated platform, per-account webhook subscriptions, and the webhook sender.

Comments hang off ``state.media`` (shared with sync and publishing). Comment ids are digit
strings from their own range (``179…``), so a ``/{id}`` route can tell them from media and users.
The sender signs exactly like Meta: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret,
raw body)>``, with the Meta app secret (Facebook Login) or the Instagram app secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp

from sandbox.meta.state import SandboxState

_FIRST_COMMENT_ID = 17900000000000001
APP_SECRETS = {"meta": "sandbox-meta-secret", "instagram": "sandbox-ig-secret"}
SUBSCRIBABLE_FIELDS = frozenset(
    {"comments", "live_comments", "mentions", "story_insights", "messages", "message_reactions"}
)
AppName = Literal["meta", "instagram"]


@dataclass(slots=True)
class Comment:
    comment_id: str
    media_id: str
    owner_ig_id: str  # the media owner's IG user id
    text: str
    username: str
    from_id: str
    timestamp: float
    parent_id: str | None = None
    hidden: bool = False
    deleted: bool = False
    like_count: int = 0
    live: bool = False


@dataclass
class CommentWorld:
    """Comments, subscriptions and the configured webhook receiver of one sandbox state."""

    state: SandboxState
    by_id: dict[str, Comment] = field(default_factory=dict)
    by_media: dict[str, list[str]] = field(default_factory=dict)  # top-level ids, oldest first
    replies: dict[str, list[str]] = field(default_factory=dict)
    subscriptions: dict[str, set[str]] = field(default_factory=dict)  # IG user id → fields
    receiver_url: str | None = None
    receiver_app: AppName = "meta"
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    _next_id: int = _FIRST_COMMENT_ID

    def new_id(self) -> str:
        value = str(self._next_id)
        self._next_id += 1
        return value

    def get(self, comment_id: str) -> Comment | None:
        c = self.by_id.get(comment_id)
        return c if c is not None and not c.deleted else None

    def add(self, comment: Comment) -> Comment:
        self.by_id[comment.comment_id] = comment
        if comment.parent_id:
            self.replies.setdefault(comment.parent_id, []).append(comment.comment_id)
        else:
            self.by_media.setdefault(comment.media_id, []).append(comment.comment_id)
        media = self.state.media.get(comment.media_id)
        if media is not None:
            media.comments_count += 1
        return comment

    def delete(self, comment: Comment) -> None:
        for c in [comment] + [self.by_id[r] for r in self.replies.get(comment.comment_id, [])]:
            if not c.deleted:
                c.deleted = True
                media = self.state.media.get(c.media_id)
                if media is not None:
                    media.comments_count = max(0, media.comments_count - 1)

    def of_media(self, media_id: str) -> list[Comment]:
        return [self.by_id[i] for i in self.by_media.get(media_id, []) if not self.by_id[i].deleted]

    def replies_of(self, comment_id: str) -> list[Comment]:
        return [self.by_id[i] for i in self.replies.get(comment_id, []) if not self.by_id[i].deleted]


def comments_of(state: SandboxState) -> CommentWorld:
    """The comment part of a sandbox state, created on first use (reset with the state)."""
    existing = getattr(state, "_comments", None)
    if existing is None:
        existing = CommentWorld(state)
        state._comments = existing  # type: ignore[attr-defined]
    return existing


# --- webhook payloads --------------------------------------------------------------------------
def comment_value(world: CommentWorld, comment: Comment) -> dict[str, Any]:
    """The ``value`` of a ``comments`` change, as Meta sends it."""
    media = world.state.media.by_id.get(comment.media_id)
    value: dict[str, Any] = {
        "from": {"id": comment.from_id, "username": comment.username},
        "media": {"id": comment.media_id, "media_product_type": media.media_product_type if media else "FEED"},
        "id": comment.comment_id,
        "text": comment.text,
    }
    if comment.parent_id:
        value["parent_id"] = comment.parent_id
    return value


def build_payloads(
    changes: list[dict[str, Any]], *, shape: Literal["changes", "flat"], batch: bool, now: float
) -> list[bytes]:
    """Bodies to POST. ``changes`` items: ``{"account", "field", "value"}`` (account = IG id)."""
    groups = [changes] if batch else [[c] for c in changes]
    bodies: list[bytes] = []
    for group in groups:
        entries: list[dict[str, Any]] = []
        if shape == "flat":
            entries = [{"id": c["account"], "time": int(now), "field": c["field"], "value": c["value"]} for c in group]
        else:
            by_account: dict[str, dict[str, Any]] = {}
            for c in group:
                entry = by_account.setdefault(c["account"], {"id": c["account"], "time": int(now), "changes": []})
                entry["changes"].append({"field": c["field"], "value": c["value"]})
            entries = list(by_account.values())
        bodies.append(json.dumps({"object": "instagram", "entry": entries}).encode())
    return bodies


def hub_signature(app: AppName, body: bytes) -> str:
    return "sha256=" + hmac.new(APP_SECRETS[app].encode(), body, hashlib.sha256).hexdigest()


Signature = Literal["valid", "missing", "wrong", "reserialized"]


async def post_signed(
    url: str, body: bytes, *, app: AppName, signature: Signature = "valid", retries: int = 0,
    timeout: float = 10.0,
) -> dict[str, Any]:
    """POST one delivery like Meta: re-delivered at once on a non-200, up to ``retries`` times."""
    headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = hub_signature(app, body)
    elif signature == "wrong":
        headers["X-Hub-Signature-256"] = hub_signature(app, body + b" ")
    elif signature == "reserialized":  # signed over the parsed-and-re-dumped JSON, not the bytes sent
        headers["X-Hub-Signature-256"] = hub_signature(
            app, json.dumps(json.loads(body), separators=(",", ":"), sort_keys=True).encode()
        )
    statuses: list[int | str] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        for _ in range(retries + 1):
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    statuses.append(response.status)
                    if response.status == 200:
                        break
            except (aiohttp.ClientError, TimeoutError) as exc:
                statuses.append(type(exc).__name__)
    return {"status": statuses[-1], "attempts": len(statuses), "statuses": statuses, "bytes": len(body)}
