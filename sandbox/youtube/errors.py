"""Errors the way Google sends them, rendered by one middleware on every YouTube sub-app.

API errors: ``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}]}}``
(clients classify on ``errors[0].reason``, never the text). OAuth endpoints answer the RFC 6749
shape ``{"error": "invalid_grant", "error_description": ...}``.
"""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp.typedefs import Handler

DOMAINS = {
    "quotaExceeded": "youtube.quota",
    "rateLimitExceeded": "usageLimits",
    "userRateLimitExceeded": "usageLimits",
    "authError": "global",
    "insufficientPermissions": "global",
    "badRequest": "global",
    "required": "global",
    "invalidParameter": "global",
    "notFound": "global",
    "backendError": "global",
}


class GoogleError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message

    def response(self) -> web.Response:
        body = {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{
                    "message": self.message,
                    "domain": DOMAINS.get(self.reason, "youtube"),
                    "reason": self.reason,
                }],
            }
        }
        headers = {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'} if self.status == 401 else None
        return web.json_response(body, status=self.status, headers=headers)


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> web.Response:
        return web.Response(
            status=self.status, content_type="application/json",
            text=json.dumps({"error": self.error, "error_description": self.description}),
        )


def quota_exceeded() -> GoogleError:
    return GoogleError(
        403, "quotaExceeded",
        'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.',
    )


def unauthorized() -> GoogleError:
    return GoogleError(
        401, "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential.",
    )


def insufficient_scope() -> GoogleError:
    return GoogleError(403, "insufficientPermissions", "Request had insufficient authentication scopes.")


def bad_request(reason: str, message: str) -> GoogleError:
    return GoogleError(400, reason, message)


def not_found(reason: str, message: str) -> GoogleError:
    return GoogleError(404, reason, message)


@web.middleware
async def google_errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except (GoogleError, OAuthError) as exc:
        return exc.response()
