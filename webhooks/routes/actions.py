"""The outcome of a moderation action: ``GET /v1/actions/{id}``."""

from __future__ import annotations

from aiohttp import web

from socialsync.store import actions as action_store
from socialsync.store.actions import ActionError, ActionOut
from webhooks.auth import tenant_of
from webhooks.errors import not_found
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, json_body, path_param

routes = web.RouteTableDef()


@routes.get("/v1/actions/{action_id}")
async def get_action(request: web.Request) -> web.Response:
    doc = await action_store.get_for_tenant(
        request.app[SERVICES].store, tenant_of(request), request.match_info["action_id"]
    )
    if doc is None:
        raise not_found("action")
    return web.json_response(ActionOut.from_doc(doc).model_dump(mode="json"))


OPENAPI_MODELS = (ActionOut, ActionError)
OPENAPI_PATHS = {
    "/v1/actions/{action_id}": {
        "get": {
            "summary": "A moderation action: pending, succeeded (with result) or failed (with error)",
            "parameters": [path_param("action_id")],
            "responses": {"200": json_body(ActionOut, "The action"), **NOT_FOUND, **ERRORS},
        }
    }
}
