"""The CRM's view of connected accounts: list, read, disconnect. Never a token."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from socialsync import clock, lifecycle
from socialsync.store import accounts as account_store
from socialsync.platforms.registry import UnknownPlatform
from socialsync.store.accounts import AccountOut
from socialsync.sync.freshness import freshness
from socialsync.sync.schedule import scheduled_kinds
from webhooks.auth import tenant_of
from webhooks.cursors import next_cursor, open_cursor
from webhooks.errors import not_found
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, json_body, parameters, path_param
from webhooks.params import PageQuery, parse_query

routes = web.RouteTableDef()


class AccountPage(BaseModel):
    data: list[AccountOut]
    next_cursor: str | None


def _out(request: web.Request, doc: dict[str, Any]) -> AccountOut:
    """The account with its sync freshness (per kind: last run, next scheduled run)."""
    services = request.app[SERVICES]
    try:
        kinds = scheduled_kinds(services.platforms.for_account(doc))
    except UnknownPlatform:  # a platform this process does not serve: no schedule to tell
        kinds = ()
    block = freshness(services.settings, doc, kinds, clock.now())
    return AccountOut.from_doc(doc, sync={k: v.model_dump(mode="json") for k, v in block.items()})


@routes.get("/v1/accounts")
async def list_accounts(request: web.Request) -> web.Response:
    q = parse_query(request, PageQuery)
    scope, limit = f"accounts:{tenant_of(request)}", q.limit
    docs = await account_store.list_for_tenant(
        request.app[SERVICES].store, tenant_of(request), limit=limit + 1,
        after=open_cursor(request, scope, q.cursor),
    )
    page = AccountPage(
        data=[_out(request, d) for d in docs[:limit]],
        next_cursor=next_cursor(request, scope, docs[limit - 1]["_id"]) if len(docs) > limit else None,
    )
    return web.json_response(page.model_dump(mode="json"))


@routes.get("/v1/accounts/{account_id}")
async def get_account(request: web.Request) -> web.Response:
    doc = await account_store.get_for_tenant(
        request.app[SERVICES].store, tenant_of(request), request.match_info["account_id"]
    )
    if doc is None:
        raise not_found("account")
    return web.json_response(_out(request, doc).model_dump(mode="json"))


@routes.delete("/v1/accounts/{account_id}")
async def disconnect_account(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    before = await account_store.get_for_tenant(
        services.store, tenant_of(request), request.match_info["account_id"]
    )
    if before is None:
        raise not_found("account")
    doc = await account_store.disconnect(services.store, tenant_of(request), request.match_info["account_id"])
    if doc is None:  # already disconnected (or by a concurrent request): same answer, nothing new
        current = await account_store.get_for_tenant(services.store, tenant_of(request), before["_id"])
        if current is None:
            raise not_found("account")
        return web.json_response(_out(request, current).model_dump(mode="json"))
    dropped = (before.get("token") or {}).get("ciphertext")
    await lifecycle.account_disconnected(services, doc["_id"], dropped)
    return web.json_response(_out(request, doc).model_dump(mode="json"))


OPENAPI_MODELS = (AccountOut, AccountPage)
PAGING = parameters(query=PageQuery)
OPENAPI_PATHS = {
    "/v1/accounts": {
        "get": {
            "summary": "List connected accounts",
            "parameters": PAGING,
            "responses": {"200": json_body(AccountPage, "A page of accounts"), **ERRORS},
        }
    },
    "/v1/accounts/{account_id}": {
        "get": {
            "summary": "Read one account (never a token)",
            "parameters": [path_param("account_id")],
            "responses": {"200": json_body(AccountOut, "The account"), **NOT_FOUND, **ERRORS},
        },
        "delete": {
            "summary": "Disconnect: drop tokens, keep history (again: the same answer, nothing new)",
            "parameters": [path_param("account_id")],
            "responses": {"200": json_body(AccountOut, "The disconnected account"), **NOT_FOUND, **ERRORS},
        },
    },
}
