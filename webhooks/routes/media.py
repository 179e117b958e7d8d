"""The CRM's read of synced media: ``GET /v1/accounts/{id}/media`` (paged, sortable, insights)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from socialsync.store import media as media_store
from socialsync.store.media import MediaOut
from webhooks.errors import ApiError
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, json_body, path_param, query_param
from webhooks.routes.accounts import PAGING, page_limit
from webhooks.routes.sync import account_of

routes = web.RouteTableDef()

# sort value → (field, direction). Ties break on the document id: a stable cursor.
SORTS = {
    "-timestamp": ("timestamp", -1), "timestamp": ("timestamp", 1),
    "-like_count": ("like_count", -1), "-comments_count": ("comments_count", -1),
}


class MediaPage(BaseModel):
    data: list[MediaOut]
    next_cursor: str | None


def encode_cursor(value: Any, doc_id: str) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value, doc_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, field: str) -> tuple[Any, str]:
    try:
        value, doc_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if field == "timestamp":
            value = datetime.fromisoformat(value)
        return value, str(doc_id)
    except (ValueError, TypeError):
        raise ApiError(400, "invalid_cursor", "cursor is not one this API returned.") from None


@routes.get("/v1/accounts/{account_id}/media")
async def list_media(request: web.Request) -> web.Response:
    account = await account_of(request)
    limit = page_limit(request)
    sort = request.query.get("sort", "-timestamp")
    if sort not in SORTS:
        raise ApiError(400, "invalid_sort", f"sort must be one of {', '.join(SORTS)}.")
    field, direction = SORTS[sort]
    query: dict[str, Any] = {"account_id": account["_id"], "tenant_id": account["tenant_id"]}
    if request.query.get("include_deleted", "false").lower() != "true":
        query["deleted"] = False
    if product := request.query.get("product_type"):
        query["media_product_type"] = product.upper()
    if cursor := request.query.get("cursor"):
        value, doc_id = decode_cursor(cursor, field)
        op = "$lt" if direction < 0 else "$gt"
        query["$or"] = [{field: {op: value}}, {field: value, "_id": {"$gt": doc_id}}]
    docs = [d async for d in request.app[SERVICES].store[media_store.COLLECTION]
            .find(query).sort([(field, direction), ("_id", 1)]).limit(limit + 1)]
    page = MediaPage(
        data=[MediaOut.from_doc(d) for d in docs[:limit]],
        next_cursor=encode_cursor(docs[limit - 1].get(field), docs[limit - 1]["_id"]) if len(docs) > limit else None,
    )
    return web.json_response(page.model_dump(mode="json"))


OPENAPI_MODELS = (MediaOut, MediaPage)
OPENAPI_PATHS = {
    "/v1/accounts/{account_id}/media": {
        "get": {
            "summary": "Synced media with insights and engagement rate, paged",
            "parameters": [
                path_param("account_id"), *PAGING,
                query_param("sort", {"type": "string", "enum": list(SORTS)}, "Order (default -timestamp)."),
                query_param("product_type", description="FEED, REELS or STORY"),
                query_param("include_deleted", {"type": "boolean"}, "Include media deleted on Instagram."),
            ],
            "responses": {"200": json_body(MediaPage, "A page of media"), **NOT_FOUND, **ERRORS},
        }
    },
}
