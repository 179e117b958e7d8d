"""Bearer API keys for /v1 routes (tenant-scoped) and the admin token for /v1/admin."""

from __future__ import annotations

import hmac

from aiohttp import web

from socialsync.store.tenants import tenant_for_key
from webhooks.errors import ApiError
from webhooks.keys import SERVICES, SETTINGS, TENANT_ID

PUBLIC_V1 = frozenset({"/v1/openapi.json"})


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


@web.middleware
async def auth_middleware(request: web.Request, handler):  # noqa: ANN001, ANN201
    path = request.path
    if not path.startswith("/v1/") or path in PUBLIC_V1:
        return await handler(request)
    token = _bearer(request)
    if path.startswith("/v1/admin/"):
        admin = request.app[SETTINGS].admin_token
        if admin is None:
            raise ApiError(403, "admin_disabled", "Set SOCIALSYNC_ADMIN_TOKEN to use the admin API.")
        if not token or not hmac.compare_digest(token.encode(), admin.get_secret_value().encode()):
            raise ApiError(401, "unauthorized", "A valid admin token is required (Authorization: Bearer).")
        return await handler(request)
    if not token:
        raise ApiError(401, "unauthorized", "Missing API key: send Authorization: Bearer <api key>.")
    tenant_id = await tenant_for_key(request.app[SERVICES].store, token)
    if tenant_id is None:
        raise ApiError(401, "unauthorized", "Unknown API key.")
    request[TENANT_ID] = tenant_id
    return await handler(request)


def tenant_of(request: web.Request) -> str:
    return request[TENANT_ID]
