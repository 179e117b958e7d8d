"""The tenant's callback URL for CRM events, and the log of deliveries to it.

``PUT`` registers or changes it; the signing secret is returned only when it is created (first
registration, or ``"rotate_secret": true``) and is never readable afterwards.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from socialsync import events, outbound
from socialsync.events import DeliveryOut
from socialsync.store import webhook_endpoints
from webhooks.auth import tenant_of
from webhooks.cursors import next_cursor, open_cursor
from webhooks.errors import ApiError, not_found, parse_body
from webhooks.keys import SERVICES
from webhooks.openapi import ERRORS, NOT_FOUND, json_body, parameters, request_body
from webhooks.params import PageQuery, parse_query

routes = web.RouteTableDef()
PATH = "/v1/webhook-endpoint"


EVENT_NAMES = ("*", *events.EVENT_TYPES)


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: AnyHttpUrl
    events: list[str] = Field(
        default_factory=lambda: ["*"], min_length=1, description="Event types, or ['*'] for all.",
        json_schema_extra={"items": {"type": "string", "enum": list(EVENT_NAMES)}},  # what _known checks
    )
    rotate_secret: bool = False

    @field_validator("events")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e != "*" and e not in events.EVENT_TYPES]
        if unknown:
            raise ValueError(f"unknown event types: {', '.join(unknown)}")
        if not value:
            raise ValueError("at least one event type (or '*')")
        return sorted(set(value))


class EndpointOut(BaseModel):
    url: str
    events: list[str]
    secret: str | None = Field(default=None, description="Only when created or rotated by this call.")
    secret_created_at: datetime
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any], secret: str | None = None) -> "EndpointOut":
        return cls(secret=secret, **{k: v for k, v in doc.items() if k in cls.model_fields and k != "secret"})


class DeliveryPage(BaseModel):
    data: list[DeliveryOut]
    next_cursor: str | None


@routes.put(PATH)
async def put_endpoint(request: web.Request) -> web.Response:
    body = await parse_body(request, EndpointIn)
    services = request.app[SERVICES]
    try:
        outbound.check_url(str(body.url), services.settings)
    except outbound.DestinationRefused as exc:
        raise ApiError(400, "endpoint_url_not_allowed", f"This callback URL is not allowed: {exc}") from None
    doc, secret = await webhook_endpoints.put(
        services.store, services.cipher, tenant_of(request), url=str(body.url), events=body.events,
        rotate=body.rotate_secret,
    )
    return web.json_response(EndpointOut.from_doc(doc, secret).model_dump(mode="json"))


@routes.get(PATH)
async def get_endpoint(request: web.Request) -> web.Response:
    doc = await webhook_endpoints.get(request.app[SERVICES].store, tenant_of(request))
    if doc is None:
        raise not_found("webhook endpoint")
    return web.json_response(EndpointOut.from_doc(doc).model_dump(mode="json"))


@routes.delete(PATH)
async def delete_endpoint(request: web.Request) -> web.Response:
    if not await webhook_endpoints.delete(request.app[SERVICES].store, tenant_of(request)):
        raise not_found("webhook endpoint")
    return web.Response(status=204)


@routes.get(f"{PATH}/deliveries")
async def deliveries(request: web.Request) -> web.Response:
    q = parse_query(request, PageQuery)
    scope, limit = f"deliveries:{tenant_of(request)}", q.limit
    docs = await events.list_deliveries(
        request.app[SERVICES].store, tenant_of(request), limit=limit + 1,
        cursor=open_cursor(request, scope, q.cursor, lambda v: (datetime.fromisoformat(v[0]), str(v[1]))),
    )
    following = None
    if len(docs) > limit:
        last = docs[limit - 1]
        following = next_cursor(request, scope, [last["at"].isoformat(), last["_id"]])
    page = DeliveryPage(data=[DeliveryOut.from_doc(d) for d in docs[:limit]], next_cursor=following)
    return web.json_response(page.model_dump(mode="json"))


OPENAPI_MODELS = (EndpointIn, EndpointOut, DeliveryOut, DeliveryPage)
OPENAPI_PATHS = {
    PATH: {
        "put": {
            "summary": "Register (or change) the callback URL for CRM events",
            "requestBody": request_body(EndpointIn),
            "responses": {"200": json_body(EndpointOut, "The endpoint; `secret` only when created or rotated"), **ERRORS},
        },
        "get": {
            "summary": "The registered callback URL (never the secret)",
            "responses": {"200": json_body(EndpointOut, "The endpoint"), **NOT_FOUND, **ERRORS},
        },
        "delete": {
            "summary": "Stop sending events",
            "responses": {"204": {"description": "Removed"}, **NOT_FOUND, **ERRORS},
        },
    },
    f"{PATH}/deliveries": {
        "get": {
            "summary": "Delivery attempts, newest first",
            "parameters": parameters(query=PageQuery),
            "responses": {"200": json_body(DeliveryPage, "A page of delivery attempts"), **ERRORS},
        }
    },
}
