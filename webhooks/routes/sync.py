"""On-demand sync and the record of sync runs: ``POST /v1/accounts/{id}/sync`` (202 + run id; a
second request while one runs joins it) and ``GET /v1/accounts/{id}/sync-runs`` (paged)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from socialsync import operations
from socialsync.store import accounts as account_store
from socialsync.store import sync_runs
from socialsync.store.sync_runs import SyncRunOut
from webhooks.auth import tenant_of
from webhooks.cursors import next_cursor, open_cursor
from webhooks.errors import ApiError, not_found, parse_body
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, ErrorOut, json_body, parameters, path_param, request_body
from webhooks.params import PageQuery, parse_query

routes = web.RouteTableDef()


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["full", "recent", "media", "insights", "audience", "stories", "counts"] = "full"


class SyncAccepted(BaseModel):
    run_id: str
    kind: str
    status: str
    joined: bool


class SyncRunPage(BaseModel):
    data: list[SyncRunOut]
    next_cursor: str | None


async def account_of(request: web.Request) -> dict:
    doc = await account_store.get_for_tenant(
        request.app[SERVICES].store, tenant_of(request), request.match_info["account_id"]
    )
    if doc is None:
        raise not_found("account")
    return doc


@routes.post("/v1/accounts/{account_id}/sync")
async def start_sync(request: web.Request) -> web.Response:
    account = await account_of(request)
    body = await parse_body(request, SyncRequest) if request.can_read_body else SyncRequest()
    try:  # the same path as the ops console's "Sync now"
        run, created = await operations.start_sync(request.app[SERVICES], account, body.kind, "api")
    except operations.Refused as exc:
        raise ApiError(400 if exc.code == "unsupported_sync_kind" else 409, exc.code, exc.message) from None
    out = SyncAccepted(run_id=run["_id"], kind=run["kind"], status=run["status"], joined=not created)
    return web.json_response(out.model_dump(), status=202)


@routes.get("/v1/accounts/{account_id}/sync-runs")
async def list_runs(request: web.Request) -> web.Response:
    account = await account_of(request)
    q = parse_query(request, PageQuery)
    scope, limit = f"sync-runs:{account['_id']}", q.limit
    docs = await sync_runs.list_for_account(
        request.app[SERVICES].store, tenant_of(request), account["_id"], limit=limit + 1,
        after=open_cursor(request, scope, q.cursor),
    )
    page = SyncRunPage(
        data=[SyncRunOut.from_doc(d) for d in docs[:limit]],
        next_cursor=next_cursor(request, scope, docs[limit - 1]["_id"]) if len(docs) > limit else None,
    )
    return web.json_response(page.model_dump(mode="json"))


@routes.get("/v1/accounts/{account_id}/sync-runs/{run_id}")
async def get_run(request: web.Request) -> web.Response:
    account = await account_of(request)
    doc = await sync_runs.get(request.app[SERVICES].store, request.match_info["run_id"])
    if doc is None or doc["account_id"] != account["_id"] or doc["tenant_id"] != tenant_of(request):
        raise not_found("sync run")
    return web.json_response(SyncRunOut.from_doc(doc).model_dump(mode="json"))


OPENAPI_MODELS = (SyncRequest, SyncAccepted, SyncRunOut, SyncRunPage)
OPENAPI_PATHS = {
    "/v1/accounts/{account_id}/sync": {
        "post": {
            "summary": "Sync now (202 with the run id; joins the run in progress)",
            "parameters": [path_param("account_id")],
            "requestBody": {**request_body(SyncRequest), "required": False},
            "responses": {
                "202": json_body(SyncAccepted, "The run that will do it"),
                "409": json_body(ErrorOut, "account_not_active: needs reconnect or disconnected"),
                **NOT_FOUND, **ERRORS,
            },
        }
    },
    "/v1/accounts/{account_id}/sync-runs": {
        "get": {
            "summary": "The account's sync runs, newest first",
            "parameters": [path_param("account_id"), *parameters(query=PageQuery)],
            "responses": {"200": json_body(SyncRunPage, "A page of runs"), **NOT_FOUND, **ERRORS},
        }
    },
    "/v1/accounts/{account_id}/sync-runs/{run_id}": {
        "get": {
            "summary": "One sync run",
            "parameters": [path_param("account_id"), path_param("run_id")],
            "responses": {"200": json_body(SyncRunOut, "The run"), **NOT_FOUND, **ERRORS},
        }
    },
}
