"""``GET /v1/events``: the tenant's CRM events in ledger order, for pulling beside the push.

A CRM keeps the ``seq`` of the last event it handled and asks for ``after=<seq>``; the events
are the same payloads the push delivers. ``wait=<s>`` (up to 20) long-polls: with nothing above
``after`` the answer comes when something is numbered, or after ``wait`` seconds. Events appear
here once a worker has numbered them (``crm_events.ledger``), normally within half a second. ``after_expired`` says that events above ``after`` were
dropped by retention before the CRM pulled them (``retained_after`` is where the ledger starts).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync.crm_events import ledger
from webhooks.auth import tenant_of
from webhooks.errors import ApiError
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, json_body, query_param
from webhooks.routes.accounts import page_limit

routes = web.RouteTableDef()
PATH = "/v1/events"
MAX_LIMIT = 1000
MAX_SEQ = 2**62
MAX_WAIT_SECONDS = 20
POLL_SECONDS = 0.25


class LedgerEvent(BaseModel):
    seq: int = Field(description="Per-tenant, strictly increasing; gaps only where events were erased.")
    id: str
    type: str
    created_at: str
    data: dict[str, Any]


class LedgerPage(BaseModel):
    data: list[LedgerEvent]
    next_after: int = Field(description="Pass as `after` to get the next page.")
    has_more: bool
    after_expired: bool = Field(description="Events above `after` were dropped by retention unseen.")
    retained_after: int = Field(description="The ledger holds the events numbered above this.")


def _after(request: web.Request) -> int:
    raw = request.query.get("after", "0")
    if not raw.isdigit() or int(raw) > MAX_SEQ:
        raise ApiError(400, "invalid_after", "after must be a non-negative integer (a `seq` this API returned).")
    return int(raw)


def _wait(request: web.Request) -> float:
    raw = request.query.get("wait", "0")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_WAIT_SECONDS:  # also NaN
        raise ApiError(400, "invalid_wait", f"wait must be a number of seconds from 0 to {MAX_WAIT_SECONDS}.")
    return value


@routes.get(PATH)
async def list_events(request: web.Request) -> web.Response:
    after = _after(request)
    limit = page_limit(request, default=100, maximum=MAX_LIMIT)
    services = request.app[SERVICES]
    tenant_id = tenant_of(request)
    wait = _wait(request)
    deadline = time.monotonic() + wait
    while True:
        docs, pruned_through, _last = await ledger.read_after(services.store, tenant_id, after, limit)
        if docs or time.monotonic() >= deadline:
            break
        await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
    data = [ledger.payload(d) for d in docs[:limit]]
    body = {
        "data": data,
        "next_after": data[-1]["seq"] if data else after,
        "has_more": len(docs) > limit,
        "after_expired": after < pruned_through,
        "retained_after": pruned_through,
    }
    return web.json_response(body)


OPENAPI_MODELS = (LedgerEvent, LedgerPage)
OPENAPI_PATHS = {
    PATH: {
        "get": {
            "summary": "CRM events in ledger order (pull; the same payloads as the push)",
            "parameters": [
                query_param("after", {"type": "integer", "minimum": 0}, "Return events with a larger `seq` (default 0)."),
                query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "Page size (default 100)."),
                query_param("wait", {"type": "number", "minimum": 0, "maximum": MAX_WAIT_SECONDS}, "Long-poll: seconds to wait for an event when there is none (default 0)."),
            ],
            "responses": {"200": json_body(LedgerPage, "A page of events, oldest first"), **ERRORS},
        }
    },
}
