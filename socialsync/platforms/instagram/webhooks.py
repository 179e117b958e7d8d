"""Meta webhook payloads for Instagram (PLATFORM_FACTS.md §6), as pydantic models.

Two entry shapes reach us: the documented one (``entry[].changes[] = {field, value}``) and the
one some Instagram-Login samples show (``field``/``value`` directly on the entry). Both become
the same flat list of changes (inbound.py), each parsed on its own. Unknown fields are kept
(``extra="allow"``) and passed through: the receiver stores them, the worker counts and ignores them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_CHANGES = 1000  # Meta batches up to 1,000 changes per delivery
COMMENT_FIELDS = frozenset({"comments", "live_comments"})
MENTION_FIELD = "mentions"
KNOWN_FIELDS = COMMENT_FIELDS | {MENTION_FIELD}


def _str_id(value: Any) -> Any:
    return str(value) if isinstance(value, int) else value


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Entry(_Loose):
    """One entry; its changes stay raw (each is parsed alone, see inbound.py)."""

    id: str
    time: Any = None
    changes: list[Any] | None = None
    field: Any = None
    value: Any = None

    _ids = field_validator("id", mode="before")(_str_id)

    def raw_changes(self) -> list[Any]:
        if self.changes is not None:
            return self.changes
        if self.field is not None:
            return [{"field": self.field, "value": self.value}]
        return []  # e.g. ``messaging[]`` entries: stored, not processed here


class Payload(_Loose):
    object: str
    entry: list[Entry] = Field(min_length=1)

    @model_validator(mode="after")
    def _bounded(self) -> "Payload":
        total = sum(len(e.raw_changes()) for e in self.entry)
        if total > MAX_CHANGES:
            raise ValueError(f"{total} changes in one delivery; Meta sends at most {MAX_CHANGES}")
        return self

    def account_ids(self) -> list[str]:
        return sorted({e.id for e in self.entry})


# --- values of the fields we process ----------------------------------------------------------
class User(_Loose):
    id: str | None = None
    username: str | None = None

    _ids = field_validator("id", mode="before")(_str_id)


class MediaRef(_Loose):
    id: str
    media_product_type: str | None = None

    _ids = field_validator("id", mode="before")(_str_id)


class CommentValue(_Loose):
    """``comments`` / ``live_comments``: the comment itself."""

    id: str
    text: str | None = None
    from_: User | None = Field(default=None, alias="from")
    media: MediaRef | None = None
    parent_id: str | None = None
    timestamp: str | int | None = None

    _ids = field_validator("id", "parent_id", mode="before")(_str_id)


class MentionValue(_Loose):
    """``mentions``: where the account was mentioned (a comment, or a media caption)."""

    media_id: str
    comment_id: str | None = None

    _ids = field_validator("media_id", "comment_id", mode="before")(_str_id)


def parse_time(value: str | int | float | None) -> datetime | None:
    """Meta's ``2021-08-13T08:25:28+0000`` (or a UNIX time) as an aware datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)
    except ValueError:
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:
            return None
