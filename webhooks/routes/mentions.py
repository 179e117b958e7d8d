"""``GET /v1/accounts/{id}/mentions``: the stored mentions of an account (paged, tenant-scoped):
who mentioned it, on which media or comment, and when."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from socialsync.store import accounts as account_store
from socialsync.store import mentions as mention_store
from socialsync.store.mentions import MentionOut, MentionUser
from webhooks.auth import tenant_of
from webhooks.errors import ApiError, not_found
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, json_body, parameters, path_param
from webhooks.params import PageQuery, parse_query

routes = web.RouteTableDef()


class MentionPage(BaseModel):
    data: list[MentionOut]
    next_cursor: str | None


@routes.get("/v1/accounts/{account_id}/mentions")
async def list_mentions(request: web.Request) -> web.Response:
    store = request.app[SERVICES].store
    account = await account_store.get_for_tenant(store, tenant_of(request), request.match_info["account_id"])
    if account is None:
        raise not_found("account")
    q = parse_query(request, PageQuery)
    try:
        docs, next_cursor = await mention_store.list_for_account(store, account["_id"], limit=q.limit, cursor=q.cursor)
    except mention_store.BadCursor:
        raise ApiError(400, "invalid_cursor", "cursor is not a next_cursor this API returned.") from None
    page = MentionPage(data=[MentionOut.from_doc(d) for d in docs], next_cursor=next_cursor)
    return web.json_response(page.model_dump(mode="json"))


OPENAPI_MODELS = (MentionUser, MentionOut, MentionPage)
OPENAPI_PATHS = {
    "/v1/accounts/{account_id}/mentions": {
        "get": {
            "summary": "Where the account was mentioned (comments and captions), newest first",
            "parameters": [path_param("account_id"), *parameters(query=PageQuery)],
            "responses": {"200": json_body(MentionPage, "A page of mentions"), **NOT_FOUND, **ERRORS},
        }
    },
}
