"""Admin API: tenant creation (guarded by SOCIALSYNC_ADMIN_TOKEN in webhooks.auth)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync.tenants import create_tenant
from webhooks.errors import parse_body
from webhooks.openapi import ERRORS, json_body, request_body
from webhooks.keys import SERVICES

routes = web.RouteTableDef()


class TenantIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class TenantCreated(BaseModel):
    id: str
    name: str
    api_key: str = Field(description="Shown once; store it in the CRM's secrets.")


@routes.post("/v1/admin/tenants")
async def create(request: web.Request) -> web.Response:
    body = await parse_body(request, TenantIn)
    tenant = await create_tenant(request.app[SERVICES].store, body.name.strip())
    return web.json_response(TenantCreated(**tenant.model_dump()).model_dump(), status=201)


OPENAPI_MODELS = (TenantIn, TenantCreated)
OPENAPI_PATHS = {
    "/v1/admin/tenants": {
        "post": {
            "summary": "Create a tenant and its API key (needs the admin token)",
            "requestBody": request_body(TenantIn),
            "responses": {"201": json_body(TenantCreated, "The tenant and its key, shown once"), **ERRORS},
        }
    }
}
