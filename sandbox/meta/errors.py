"""Errors the way Meta sends them, and the middleware that renders them.

Handlers raise; ``errors_middleware`` turns the exception into Meta's body shape, so every route
fails the same way and a client's error classifier (code / error_subcode / is_transient, never
the message) sees what production would send (PLATFORM_FACTS.md §5).
"""

from __future__ import annotations

import secrets
import string

from aiohttp import web
from aiohttp.typedefs import Handler

from sandbox.faults import FaultSpec
from sandbox.meta.hosts import GRAPH_HOSTS, host_of

_TRACE_ALPHABET = string.ascii_letters + string.digits + "_-"


def fbtrace_id() -> str:
    """Meta attaches a random trace id to every error."""
    return "A" + "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(22))


class GraphError(Exception):
    """A Graph API error: HTTP 400 (by default) with ``{"error": {...}}``."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        type: str = "OAuthException",
        is_transient: bool | None = None,
        status: int = 400,
        error_user_title: str | None = None,
        error_user_msg: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.subcode = subcode
        self.type = type
        self.is_transient = is_transient
        self.status = status
        self.error_user_title = error_user_title
        self.error_user_msg = error_user_msg

    def body(self) -> dict[str, object]:
        error: dict[str, object] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        if self.error_user_title is not None:
            error["error_user_title"] = self.error_user_title
        if self.error_user_msg is not None:
            error["error_user_msg"] = self.error_user_msg
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}

    def response(self) -> web.Response:
        # Meta names the failure in a header too; harmless and occasionally logged by clients.
        headers = {"WWW-Authenticate": f'OAuth "Facebook Platform" "{_www_auth_kind(self)}"'}
        return web.json_response(self.body(), status=self.status, headers=headers)


def _www_auth_kind(error: GraphError) -> str:
    return "invalid_token" if error.code == 190 else "invalid_request"


class InstagramOAuthError(Exception):
    """api.instagram.com's own flat error shape for the code exchange."""

    def __init__(
        self, message: str, *, code: int = 400, error_type: str = "OAuthException"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.error_type = error_type

    def response(self) -> web.Response:
        body = {"error_type": self.error_type, "code": self.code, "error_message": self.message}
        return web.json_response(body, status=self.code)


# --- the common ones --------------------------------------------------------------------------
def invalid_token() -> GraphError:
    return GraphError(190, "Invalid OAuth access token - Cannot parse access token")


def expired_token(expired_at: str, now: str) -> GraphError:
    return GraphError(
        190,
        f"Error validating access token: Session has expired on {expired_at}. "
        f"The current time is {now}.",
        subcode=463,
    )


def revoked_token() -> GraphError:
    return GraphError(
        190,
        "Error validating access token: The session has been invalidated because the user "
        "changed their password or Facebook has changed the session for security reasons.",
        subcode=460,
    )


def missing_token() -> GraphError:
    return GraphError(
        2500, "An active access token must be used to query information about the current user."
    )


def invalid_parameter(message: str, *, subcode: int | None = None) -> GraphError:
    return GraphError(100, message, subcode=subcode)


def unsupported_request(method: str, node: str) -> GraphError:
    return GraphError(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{node}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation.",
        subcode=33,
        type="GraphMethodException",
    )


def permission_missing() -> GraphError:
    return GraphError(10, "(#10) Application does not have permission for this action")


def transient_server_error(status: int) -> GraphError:
    return GraphError(
        2,
        "An unexpected error has occurred. Please retry your request later.",
        is_transient=True,
        status=status,
    )


# --- injected faults ----------------------------------------------------------------------------
def fault_response(spec: FaultSpec) -> web.Response:
    """An injected fault in Graph's shape: the rule's ``error`` (``code``, ``message`` and Meta's
    ``error_subcode``, ``type``, ``is_transient``, ``error_user_title``, ``error_user_msg``), or
    a transient code 2 with the rule's status when it only gives a status."""
    if spec.error is None:
        return transient_server_error(spec.status or 500).response()
    extra = spec.error.extras()
    code = spec.error.code
    return GraphError(
        int(code) if isinstance(code, str) and code.isdigit() else code,  # type: ignore[arg-type]
        spec.error.message,
        subcode=extra.get("error_subcode"),
        type=extra.get("type", "OAuthException"),
        is_transient=extra.get("is_transient"),
        status=spec.status or 400,
        error_user_title=extra.get("error_user_title"),
        error_user_msg=extra.get("error_user_msg"),
    ).response()


# --- middleware -------------------------------------------------------------------------------
@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render raised platform errors; unknown Graph paths answer like Graph (100/33)."""
    try:
        return await handler(request)
    except (GraphError, InstagramOAuthError) as exc:
        return exc.response()
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed):
        if host_of(request.path) in GRAPH_HOSTS:
            node = request.path.rstrip("/").rsplit("/", 1)[-1]
            return unsupported_request(request.method, node).response()
        raise
