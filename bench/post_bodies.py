"""Post bodies of the publishing benchmarks (mixed types, unique captions); not a benchmark."""

from __future__ import annotations

import uuid
from typing import Any

IMAGE = "https://cdn.example.com/photo.jpg"
VIDEO = "https://cdn.example.com/clip.mp4"


def body(kind: str, i: int) -> dict[str, Any]:
    caption = f"bench post {i} {uuid.uuid4().hex[:6]}"
    if kind == "image":
        return {"type": "image", "caption": caption, "media": [{"url": IMAGE, "kind": "image"}]}
    if kind == "reel":
        return {"type": "reel", "caption": caption, "media": [{"url": VIDEO, "kind": "video"}]}
    if kind == "carousel":
        return {"type": "carousel", "caption": caption,
                "media": [{"url": IMAGE, "kind": "image"}, {"url": VIDEO, "kind": "video"}, {"url": IMAGE, "kind": "image"}]}
    return {"type": "story", "media": [{"url": IMAGE, "kind": "image"}]}
