"""The OpenAPI 3.1 description of the CRM API, built from the same pydantic models the routes use.

Each route module describes its own paths: ``OPENAPI_PATHS`` (path → operations) and the models
they reference in ``OPENAPI_MODELS``; this module only gathers them (see webhooks.app).
"""

from __future__ import annotations

import copy
import functools
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


from webhooks.params import path_param  # noqa: E402,F401 - re-exported for route modules


def _param_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A model property's schema as an OpenAPI parameter schema (``X | None`` → ``X``)."""
    prop = {k: v for k, v in prop.items() if k != "title"}
    options = prop.pop("anyOf", None)
    if options:
        concrete = [o for o in options if o.get("type") != "null"]
        prop = {**(concrete[0] if len(concrete) == 1 else {"anyOf": concrete}), **prop}
    if prop.get("default") is None:
        prop.pop("default", None)
    return prop


def model_params(model: type[BaseModel], where: str) -> list[dict[str, Any]]:
    """The OpenAPI parameters of a query/path/header model (webhooks.params parses the same)."""
    props = model.model_json_schema(by_alias=True)["properties"]
    out = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        schema = _param_schema(props[key])
        param = {"name": key, "in": where, "required": where == "path" or info.is_required(), "schema": schema}
        if description := schema.pop("description", None):
            param["description"] = description
        out.append(param)
    return out


def parameters(
    *, path: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
    headers: type[BaseModel] | None = None,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for model, where in ((path, "path"), (query, "query"), (headers, "header")):
        if model is not None:
            out += model_params(model, where)
    return out


ERRORS = {
    "400": json_body(ErrorOut, "Invalid input; `error.code` says which rule (`invalid_<parameter>`, "
                     "`invalid_cursor`, `invalid_encoding`, `invalid_body`…)."),
    "401": json_body(ErrorOut, "Missing or unknown API key."),
}
NOT_FOUND = {"404": json_body(ErrorOut, "No such resource (or another tenant's)")}


def build_spec(modules: Iterable[ModuleType]) -> dict[str, Any]:
    """The OpenAPI document of these route modules (a copy: generating the schemas of every model
    takes ~0.5 s, so it is done once per process and set of modules)."""
    return copy.deepcopy(_build_spec(tuple(modules)))


@functools.cache
def _build_spec(modules: tuple[ModuleType, ...]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    models: list[type[BaseModel]] = [ErrorOut]
    for module in modules:
        for path, ops in getattr(module, "OPENAPI_PATHS", {}).items():
            paths.setdefault(path, {}).update(ops)
        models += list(getattr(module, "OPENAPI_MODELS", ()))
    for ops in paths.values():
        for op in ops.values():
            if "requestBody" in op:  # parse_body's own answers, on every route with a body
                op["responses"].setdefault("413", json_body(ErrorOut, "body_too_large"))
                op["responses"].setdefault("415", json_body(ErrorOut, "unsupported_media_type: send application/json"))
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
            '`{"error": {"code", "message"}}`. Strings must not contain NUL (U+0000); JSON numbers '
            "must be finite and integers fit in 64 bits; object keys must not start with `$` or "
            "contain `.`; nesting is at most 32 levels; text is UTF-8.",
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
