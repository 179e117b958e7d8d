"""The OpenAPI 3.1 description of the CRM API, built from the same pydantic models the routes use.

Each route module describes its own paths: ``OPENAPI_PATHS`` (path → operations) and the models
they reference in ``OPENAPI_MODELS``; this module only gathers them (see webhooks.app).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType
from typing import Any

from aiohttp import web
from pydantic import BaseModel

routes = web.RouteTableDef()
SPEC = web.AppKey("openapi_spec", dict)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorBody


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def json_body(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(model)}}}


def request_body(model: type[BaseModel]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(model)}}}


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def query_param(name: str, schema: dict[str, Any] | None = None, description: str = "") -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema or {"type": "string"}, "description": description}


ERRORS = {
    "400": json_body(ErrorOut, "Invalid input; `error.code` says which rule."),
    "401": json_body(ErrorOut, "Missing or unknown API key."),
}
NOT_FOUND = {"404": json_body(ErrorOut, "No such resource (or another tenant's)")}


def build_spec(modules: Iterable[ModuleType]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    models: list[type[BaseModel]] = [ErrorOut]
    for module in modules:
        for path, ops in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(ops)
        models += list(getattr(module, "OPENAPI_MODELS", ()))
    schemas: dict[str, Any] = {}
    for model in models:
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
        "paths": dict(sorted(paths.items())),
    }


@routes.get("/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(request.app[SPEC])
