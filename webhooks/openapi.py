"""The OpenAPI 3.1 description of the CRM API, built from the same pydantic models the routes use."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel

from socialsync.store.accounts import AccountOut
from webhooks.routes.accounts import AccountPage
from webhooks.routes.admin import TenantCreated, TenantIn
from webhooks.routes.connect import ConnectIn, ConnectOut

routes = web.RouteTableDef()


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


MODELS: list[type[BaseModel]] = [
    ConnectIn, ConnectOut, AccountOut, AccountPage, TenantIn, TenantCreated, ErrorOut,
]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


ERRORS = {
    "400": _json(ErrorOut, "Invalid input; `error.code` says which rule."),
    "401": _json(ErrorOut, "Missing or unknown API key."),
}
ACCOUNT_ID = [{"name": "account_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def build_spec() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "socialsync CRM API",
            "version": "1",
            "description": "Connect creators' social accounts and read what socialsync keeps. "
            "Every /v1 route takes `Authorization: Bearer <api key>`; errors are "
            '`{"error": {"code", "message"}}`.',
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/v1/connect": {
                "post": {
                    "summary": "Create a connect link (OAuth authorize URL, valid 10 minutes)",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(ConnectIn)}}},
                    "responses": {"201": _json(ConnectOut, "The link"), **ERRORS},
                }
            },
            "/v1/accounts": {
                "get": {
                    "summary": "List connected accounts",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {"200": _json(AccountPage, "A page of accounts"), **ERRORS},
                }
            },
            "/v1/accounts/{account_id}": {
                "get": {
                    "summary": "Read one account",
                    "parameters": ACCOUNT_ID,
                    "responses": {"200": _json(AccountOut, "The account"), "404": _json(ErrorOut, "No such account"), **ERRORS},
                },
                "delete": {
                    "summary": "Disconnect: drop tokens, keep history",
                    "parameters": ACCOUNT_ID,
                    "responses": {"200": _json(AccountOut, "The disconnected account"), "404": _json(ErrorOut, "No such account"), **ERRORS},
                },
            },
            "/v1/admin/tenants": {
                "post": {
                    "summary": "Create a tenant and its API key (admin token)",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(TenantIn)}}},
                    "responses": {"201": _json(TenantCreated, "The tenant and its key, shown once"), **ERRORS},
                }
            },
        },
    }


@routes.get("/v1/openapi.json")
async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(build_spec())
