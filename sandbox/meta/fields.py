"""The Graph ``fields`` parameter: parse it, check it, answer only what was asked.

Graph returns exactly the requested fields (plus ``id``) and rejects an unknown one with code
100 for the whole request; a client that asks for too much must notice here, not in production.
Nested selections (``instagram_business_account{id,username}``) are parsed one level deep.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from aiohttp import web

from sandbox.meta.errors import GraphError


@dataclass(frozen=True, slots=True)
class FieldRequest:
    name: str
    # Sub-selection inside braces, None when not given.
    subfields: tuple[str, ...] | None = None


def split_top_level(raw: str) -> list[str]:
    """Split on commas outside braces/parentheses."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in raw:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def parse_fields(raw: str) -> list[FieldRequest]:
    fields: list[FieldRequest] = []
    seen: set[str] = set()
    for part in split_top_level(raw):
        name, brace, rest = part.partition("{")
        name = name.strip()
        sub = tuple(split_top_level(rest.rstrip("}"))) if brace else None
        if name and name not in seen:
            seen.add(name)
            fields.append(FieldRequest(name, sub))
    return fields


def requested_fields(
    request: web.Request,
    *,
    allowed: Collection[str],
    default: Sequence[str],
    node_type: str,
) -> list[FieldRequest]:
    """The fields asked for (``default`` when none), or code 100 naming the unknown one."""
    raw = request.query.get("fields", "")
    fields = parse_fields(raw) if raw.strip() else [FieldRequest(name) for name in default]
    for field in fields:
        if field.name not in allowed:
            raise nonexisting_field(field.name, node_type)
    return fields


def check_subfields(field: FieldRequest, allowed: Collection[str], node_type: str) -> None:
    for name in field.subfields or ():
        if name not in allowed:
            raise nonexisting_field(name, node_type)


def nonexisting_field(name: str, node_type: str) -> GraphError:
    return GraphError(
        100, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})"
    )
