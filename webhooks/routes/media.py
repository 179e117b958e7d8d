"""The CRM's read of synced media: ``GET /v1/accounts/{id}/media`` (paged, sortable, insights)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync.store import media as media_store
from socialsync.store.media import MediaOut
from webhooks.cursors import next_cursor, open_cursor
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, json_body, parameters, path_param
from webhooks.params import Flag, PageQuery, parse_query
from webhooks.routes.sync import account_of

routes = web.RouteTableDef()

# sort value → (field, direction). Ties break on the document id: a stable cursor.
SORTS = {
    "-timestamp": ("timestamp", -1), "timestamp": ("timestamp", 1),
    "-like_count": ("like_count", -1), "-comments_count": ("comments_count", -1),
}


class MediaQuery(PageQuery):
    sort: Literal["-timestamp", "timestamp", "-like_count", "-comments_count"] = Field(
        default="-timestamp", description="Order (default -timestamp).")
    product_type: Literal["FEED", "REELS", "STORY", "feed", "reels", "story"] | None = Field(
        default=None, description="FEED, REELS or STORY")
    include_deleted: Flag = Field(default=False, description="Include media deleted on the platform.")


class MediaPage(BaseModel):
    data: list[MediaOut]
    next_cursor: str | None


@routes.get("/v1/accounts/{account_id}/media")
async def list_media(request: web.Request) -> web.Response:
    account = await account_of(request)
    q = parse_query(request, MediaQuery)
    limit, (field, direction) = q.limit, SORTS[q.sort]
    scope = f"media:{account['_id']}:{q.sort}"  # a cursor is only valid for the order it was made in
    query: dict[str, Any] = {"account_id": account["_id"], "tenant_id": account["tenant_id"]}
    if not q.include_deleted:
        query["deleted"] = False
    if q.product_type:
        query["media_product_type"] = q.product_type.upper()
    if (sealed := open_cursor(request, scope, q.cursor, lambda v: _after(v, field))) is not None:
        value, doc_id = sealed
        op = "$lt" if direction < 0 else "$gt"
        query["$or"] = [{field: {op: value}}, {field: value, "_id": {"$gt": doc_id}}]
    docs = await media_store.page(request.app[SERVICES].store, query, field, direction, limit + 1)
    page = MediaPage(
        data=[MediaOut.from_doc(d) for d in docs[:limit]],
        next_cursor=_next(request, scope, docs[limit - 1], field) if len(docs) > limit else None,
    )
    return web.json_response(page.model_dump(mode="json"))


def _after(sealed: Any, field: str) -> tuple[Any, str]:
    value, doc_id = sealed
    if field == "timestamp" and value is not None:
        value = datetime.fromisoformat(value)
    return value, str(doc_id)


def _next(request: web.Request, scope: str, last: dict[str, Any], field: str) -> str:
    value = last.get(field)
    return next_cursor(request, scope, [value.isoformat() if isinstance(value, datetime) else value, last["_id"]])


OPENAPI_MODELS = (MediaOut, MediaPage)
OPENAPI_PATHS = {
    "/v1/accounts/{account_id}/media": {
        "get": {
            "summary": "Synced media with insights and engagement rate, paged",
            "parameters": [path_param("account_id"), *parameters(query=MediaQuery)],
            "responses": {"200": json_body(MediaPage, "A page of media"), **NOT_FOUND, **ERRORS},
        }
    },
}
