"""Bytes from outside, checked once at the edge (every route, authenticated or not).

- ``encoding_middleware``: the path, the query and every header must be valid UTF-8 without
  NUL (401 when it is the ``Authorization`` header, 400 otherwise); a form body must be valid
  in its declared charset (only UTF-8/ASCII are accepted).
- ``strict_json``: what a JSON body may hold before any model sees it: valid UTF-8, no NaN or
  Infinity, integers within 64 bits, no NUL in any string, no key MongoDB could not store
  (``$…``, dots, NUL), at most ``MAX_DEPTH`` levels of nesting.
- ``read_body`` / ``read_form``: bounded by size (the app's ``client_max_size``) and by time
  (``SOCIALSYNC_BODY_READ_TIMEOUT_SECONDS``), so a client trickling its body cannot hold a handler.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from aiohttp import web
from multidict import MultiDictProxy

from webhooks.errors import ApiError
from webhooks.keys import SETTINGS

MAX_DEPTH = 32
INT64 = (-(2**63), 2**63 - 1)
_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _bad(where: str, problem: str, status: int = 400) -> ApiError:
    code = "invalid_authorization" if status == 401 else "invalid_encoding"
    return ApiError(status, code, f"The request {where} {problem}.")


def _check_text(raw: bytes, where: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(where, "is not valid UTF-8") from None
    if "\x00" in text:
        raise _bad(where, "contains a NUL character")
    return text


def check_request_line(request: web.Request) -> None:
    _check_text(unquote_to_bytes(request.rel_url.raw_path), "path")
    raw_query = request.rel_url.raw_query_string
    if raw_query:
        for name, value in parse_qsl(raw_query, keep_blank_values=True, encoding="latin-1"):
            _check_text(name.encode("latin-1"), "query")
            _check_text(value.encode("latin-1"), "query")


def check_headers(request: web.Request) -> None:
    for name, value in request.headers.items():
        auth = name.lower() == "authorization"
        try:
            value.encode("utf-8")  # aiohttp keeps undecodable bytes as lone surrogates
        except UnicodeEncodeError:
            raise _bad(f"header {name}", "is not valid UTF-8", 401 if auth else 400) from None
        if "\x00" in value:
            raise _bad(f"header {name}", "contains a NUL character", 401 if auth else 400)


def declared_charset(request: web.Request) -> str | None:
    charset = request.charset
    if charset is not None and charset.lower() not in _CHARSETS:
        raise ApiError(400, "unsupported_charset", f"charset={charset} is not accepted; send UTF-8.")
    return charset


async def read_body(request: web.Request) -> bytes:
    timeout = request.config_dict[SETTINGS].body_read_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise ApiError(408, "body_timeout", f"The request body did not arrive within {timeout:g} s.") from None
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "body_too_large", "The request body is too large.") from None


async def read_form(request: web.Request) -> MultiDictProxy[str | web.FileField]:
    """The form fields, or a 400 when the body is not a valid form in an accepted charset."""
    if request.content_type not in FORM_TYPES:
        raise ApiError(415, "unsupported_media_type", "Send the body as a form.")
    declared_charset(request)
    raw = await read_body(request)
    if request.content_type == FORM_TYPES[0]:
        for name, value in parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1"):
            _check_text(name.encode("latin-1"), "form")
            _check_text(value.encode("latin-1"), "form")
    try:
        return await request.post()
    except (UnicodeDecodeError, LookupError, ValueError, AssertionError):
        raise ApiError(400, "invalid_form", "The form body cannot be parsed.") from None


class _Refused(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _reject_constant(name: str) -> Any:
    raise _Refused("invalid_number", f"{name} is not a JSON number")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 19 or not INT64[0] <= (value := int(text)) <= INT64[1]:
        raise _Refused("number_out_of_range", "an integer does not fit in 64 bits")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused("number_out_of_range", "a number is beyond the double range")
    return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    for key, _ in pairs:
        if key.startswith("$") or "." in key or "\x00" in key:
            raise _Refused("invalid_key", f"the key {key[:40]!r} cannot be stored (no '$' prefix, '.' or NUL)")
    return dict(pairs)


def _walk(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _Refused("too_deep", f"the JSON is nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise _Refused("nul_character", "a string contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800"
            raise _Refused("invalid_encoding", "a string holds a lone UTF-16 surrogate") from None
    elif isinstance(value, dict):
        for item in value.values():
            _walk(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _walk(item, depth + 1)


def strict_json(raw: bytes) -> Any:
    """Parse ``raw`` under the rules above, or ``ApiError(400)`` with the rule's own code:
    ``invalid_encoding``, ``invalid_body`` (not JSON), ``invalid_number`` (NaN, Infinity),
    ``number_out_of_range``, ``invalid_key``, ``nul_character``, ``too_deep``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_encoding", "The request body is not valid UTF-8.") from None
    try:
        value = json.loads(
            text, parse_constant=_reject_constant, parse_int=_int, parse_float=_float, object_pairs_hook=_pairs
        )
        _walk(value, 0)
    except RecursionError:
        raise ApiError(400, "too_deep", f"The JSON is nested deeper than {MAX_DEPTH} levels.") from None
    except _Refused as exc:
        raise ApiError(400, exc.code, f"The JSON body is refused: {exc}.") from None
    except ValueError as exc:  # json.JSONDecodeError; int() beyond its digit limit
        raise ApiError(400, "invalid_body", f"The body is not valid JSON: {exc}") from None
    return value


@web.middleware
async def encoding_middleware(request: web.Request, handler):  # noqa: ANN001, ANN201
    check_headers(request)
    check_request_line(request)
    return await handler(request)
