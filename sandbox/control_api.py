"""Plumbing of the control API (``/_sandbox/...``), shared by the core and every platform.

JSON in and out, ``{"error": {"code", "message"}}`` on a bad call, no auth, loopback callers
only (unless ``SandboxConfig.control_remote_access``). Control calls are never counted in the
stats nor hit by faults (``sandbox.hosts.is_control``).
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import BaseModel, ValidationError

from sandbox.context import sandbox_of

Model = TypeVar("Model", bound=BaseModel)

_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
}


def control_error(status: int, code: str, message: str) -> web.HTTPException:
    body = json.dumps({"error": {"code": code, "message": message}})
    return _ERRORS[status](text=body, content_type="application/json")


async def json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise control_error(400, "invalid_json", "the body must be a JSON object") from None


async def parse_body(request: web.Request, model: type[Model]) -> Model:
    try:
        return model.model_validate(await json_body(request))
    except ValidationError as exc:
        raise control_error(400, "invalid_body", describe(exc)) from None


def describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )


def int_query(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, str(default)))
    except ValueError:
        raise control_error(400, f"invalid_{name}", f"{name} must be an integer") from None


@web.middleware
async def local_only_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The control API is for the machine the sandbox runs on."""
    guarded = request.path.startswith("/_sandbox")
    remote_ok = sandbox_of(request).config.control_remote_access or _is_loopback(request.remote)
    if guarded and not remote_ok:
        raise control_error(403, "forbidden", "the control API only answers local callers")
    return await handler(request)


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return True  # unix socket / in-process test server
    try:
        return ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False
