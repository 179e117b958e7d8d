"""API errors: always ``{"error": {"code", "message"}}`` with a specific code per case."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from socialsync.logs import get_logger

log = get_logger(__name__)
M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def error_response(status: int, code: str, message: str, **details: Any) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return web.json_response({"error": body}, status=status)


def not_found(what: str = "resource") -> ApiError:
    # Another tenant's id looks exactly like an unknown one (ARCHITECTURE.md §4.6).
    return ApiError(404, "not_found", f"No such {what}.")


async def parse_body(request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model``: read within the size and time bounds, checked by
    ``webhooks.boundary.strict_json`` (encoding, numbers, keys, depth), then validated."""
    from webhooks.boundary import declared_charset, read_body, strict_json  # noqa: PLC0415 - cycle

    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as application/json.")
    declared_charset(request)
    raw = await read_body(request)
    strict_json(raw)
    try:
        return model.model_validate_json(raw, strict=True)  # no "1" for 1, no 0 for false: what the spec says
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
            for e in exc.errors(include_url=False, include_input=False)
        ]
        first = problems[0] if problems else {"field": "(body)", "problem": "invalid"}
        raise ApiError(
            400, "invalid_body", f"Invalid request body: {first['field']}: {first['problem']}",
            problems=problems,
        ) from None


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large", 415: "unsupported_media_type"}


@web.middleware
async def error_middleware(request: web.Request, handler):  # noqa: ANN001, ANN201
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, **exc.details)
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "body_too_large", "The request body is too large.")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = HTTP_CODES.get(exc.status, "http_error")
        response = error_response(exc.status, code, exc.reason)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error", path=request.path, method=request.method)
        return error_response(500, "internal_error", "Something went wrong on our side; it was logged.")
