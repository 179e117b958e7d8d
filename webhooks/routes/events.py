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
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, Field

from socialsync.crm_events import ledger
from webhooks.auth import tenant_of
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, json_body, parameters
from webhooks.params import AsciiInt, QueryModel, parse_query

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


class EventQuery(QueryModel):
    """invalid_after / invalid_limit / invalid_wait (webhooks.params names the codes)."""

    after: Annotated[int, Field(ge=0, le=MAX_SEQ, description="Return events with a larger `seq` (default 0)."),
                     AsciiInt] = 0
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT, description="Page size (default 100)."), AsciiInt] = 100
    wait: Annotated[float, Field(ge=0, le=MAX_WAIT_SECONDS, allow_inf_nan=False,
                                 description="Long-poll: seconds to wait for an event when there is none (default 0).")] = 0.0


@routes.get(PATH)
async def list_events(request: web.Request) -> web.Response:
    q = parse_query(request, EventQuery)
    after, limit, wait = q.after, q.limit, q.wait
    services = request.app[SERVICES]
    tenant_id = tenant_of(request)
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
            "parameters": parameters(query=EventQuery),
            "responses": {"200": json_body(LedgerPage, "A page of events, oldest first"), **ERRORS},
        }
    },
}
