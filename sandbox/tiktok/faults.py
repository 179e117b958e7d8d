"""Injected faults on the TikTok hosts, answered in TikTok's shapes (the shared fault book
decides which call fails; this renders the answer).

- v2 API (``open.tiktokapis.com/v2/...``) and the upload host: the envelope
  ``{"data": {}, "error": {"code", "message", "log_id"}}``. ``error.code`` is the rule's code (a
  string such as ``internal_error``); without an error object the status picks TikTok's code
  (401 ``access_token_invalid``, 429 ``rate_limit_exceeded``, 5xx ``internal_error``, other 4xx
  ``invalid_params``). The HTTP status is the rule's ``status``, else ``error.http_status`` (which
  may be 200: TikTok also answers errors with a 200), else the code's documented status
  (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §2.1).
- OAuth (``/v2/oauth/...``): the flat ``{"error", "error_description", "log_id"}``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.faults import FaultSpec
from sandbox.tiktok.envelope import STATUS_OF, log_id

CODE_OF_STATUS = {401: "access_token_invalid", 429: "rate_limit_exceeded"}
OAUTH_CODE_OF_STATUS = {401: "invalid_client"}


def _parts(spec: FaultSpec, code_of_status: dict[int, str], default_4xx: str) -> tuple[str, str, int, dict[str, Any]]:
    if spec.error is None:
        status = spec.status or 500
        code = code_of_status.get(status) or ("internal_error" if status >= 500 else default_4xx)
        return code, "Sandbox injected fault", status, {}
    extras = spec.error.extras()
    code = str(spec.error.code)
    wanted = extras.pop("http_status", None)
    status = spec.status or (int(wanted) if isinstance(wanted, int) else None) or STATUS_OF.get(code, 400)
    return code, spec.error.message, status, extras


def api_fault(spec: FaultSpec) -> web.Response:
    """An injected fault of open.tiktokapis.com (the v2 envelope, or OAuth's flat shape)."""
    if "/v2/oauth/" in spec.path:
        return oauth_fault(spec)
    code, message, status, extras = _parts(spec, CODE_OF_STATUS, "invalid_params")
    error = {"code": code, "message": message, "log_id": str(extras.get("log_id") or log_id())}
    return web.json_response({"data": {}, "error": error}, status=status)


def oauth_fault(spec: FaultSpec) -> web.Response:
    code, message, status, extras = _parts(spec, OAUTH_CODE_OF_STATUS, "invalid_request")
    body = {"error": code, "error_description": message, "log_id": str(extras.get("log_id") or log_id())}
    return web.json_response(body, status=status)
