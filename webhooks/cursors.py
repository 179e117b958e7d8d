"""Opaque, tamper-proof paging cursors.

A cursor is ``base64url(json payload) "." base64url(HMAC-SHA256(key, scope | payload)[:16])``.
The key is derived from the token encryption keys (``SOCIALSYNC_TOKEN_KEYS``; every configured
key verifies, the first signs), so there is no new secret to manage. The scope names the list
and its owner (``accounts:<tenant>``), so a cursor of one list or tenant is refused by
another. ``open_cursor`` checks the MAC before it decodes anything: a value we did not issue is
``400 invalid_cursor`` before any query, and what comes out is only ever what we put in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from socialsync.config import Settings
from webhooks.errors import ApiError
from webhooks.keys import SETTINGS

_LABEL = b"socialsync paging cursor v1"
_MAC_BYTES = 16
MAX_CURSOR = 1024
T = TypeVar("T")


class CursorError(ValueError):
    """Not a cursor this server issued for this list."""


def _keys(settings: Settings) -> list[bytes]:
    return [hmac.new(k.get_secret_value().encode(), _LABEL, hashlib.sha256).digest() for k in settings.token_keys]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, scope: str, payload: bytes) -> bytes:
    return hmac.new(key, scope.encode() + b"\x00" + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def seal(settings: Settings, scope: str, value: Any) -> str:
    payload = json.dumps(value, separators=(",", ":"), default=str).encode()
    return f"{_b64(payload)}.{_b64(_mac(_keys(settings)[0], scope, payload))}"


def unseal(settings: Settings, scope: str, cursor: str) -> Any:
    if len(cursor) > MAX_CURSOR or not cursor.isascii():
        raise CursorError("too long or not ASCII")
    body, _, tag = cursor.partition(".")
    try:
        payload, mac = _unb64(body), _unb64(tag)
    except (binascii.Error, ValueError):
        raise CursorError("not base64url") from None
    if _b64(payload) != body or _b64(mac) != tag:  # one spelling per cursor: no malleable bits
        raise CursorError("not canonical base64url")
    if not any(hmac.compare_digest(mac, _mac(k, scope, payload)) for k in _keys(settings)):
        raise CursorError("bad signature")
    return json.loads(payload)


def next_cursor(request: web.Request, scope: str, value: Any) -> str:
    return seal(request.config_dict[SETTINGS], scope, value)


def _same(value: Any) -> Any:
    return value


def open_cursor(
    request: web.Request, scope: str, cursor: str | None, parse: Callable[[Any], T] = _same,  # type: ignore[assignment]
) -> T | None:
    """The value sealed in ``cursor``, through ``parse`` (None when there is no cursor), or
    ``400 invalid_cursor`` (also when an authentic cursor has an older shape ``parse`` refuses)."""
    if not cursor:
        return None
    try:
        return parse(unseal(request.config_dict[SETTINGS], scope, cursor))
    except (CursorError, ValueError, TypeError, KeyError, IndexError):
        raise ApiError(400, "invalid_cursor", "cursor is not a next_cursor this API returned for this list.") from None
