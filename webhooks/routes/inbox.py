"""Platform webhook callbacks of every source, ``/webhooks/{source}`` (Meta, TikTok, YouTube…):
the handshake and the signed deliveries, into the one inbox (``webhook_events``).

The platform plugin that owns the source (`Registry.for_source`) answers the handshake, checks
the signature and splits a delivery into changes; this module only does what every source
shares. A 200 means the event is kept (ARCHITECTURE.md §4.1). In order: bounded read of the raw
body (413), signature on those exact bytes (401, nothing stored), the envelope parsed (400 with
the reason when even that fails), the raw body stored in MongoDB with every change that cannot
be applied and its reason (503 if the store fails, so the platform retries), its processing
enqueued (a drain job shared by every delivery of the same 100 ms: the worker processes events
in batches), then 200. A bad change never costs the good ones their 200 (issue 11 §2). No
platform call happens here. If the enqueue fails after the store succeeded, the answer is still
200: the event is durable and the worker's sweeper queues a drain for it.

(The module keeps its old name so the route list in webhooks/app.py stays as it is.)
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import Counter as Tally
from datetime import timedelta

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter
from pymongo.errors import PyMongoError

from socialsync import queue
from socialsync.logs import get_logger
from socialsync.platforms.base import Change, InboundRequest, Platform
from socialsync.platforms.registry import UnknownPlatform
from socialsync.store import webhook_events
from socialsync.store.migrations import LEGACY_SOURCE
from webhooks.errors import ApiError, not_found
from webhooks.keys import SERVICES, SETTINGS
from webhooks.metrics import REGISTRY

log = get_logger(__name__)
routes = web.RouteTableDef()


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        # Meta's two counters keep their names (dashboards); other sources count in the generic ones.
        self.deliveries = Counter(
            "socialsync_meta_webhook_deliveries", "Meta webhook deliveries by outcome", ["outcome"],
            registry=registry,
        )
        self.changes = Counter(
            "socialsync_meta_webhook_changes", "Changes received, by field (unknown fields: other)",
            ["field"], registry=registry,
        )
        self.source_deliveries = Counter(
            "socialsync_webhook_deliveries", "Webhook deliveries by source and outcome",
            ["source", "outcome"], registry=registry,
        )
        self.rejected = Counter(
            "socialsync_webhook_changes_rejected",
            "Changes of acknowledged deliveries that cannot be applied, by source and reason",
            ["source", "reason"], registry=registry,
        )

    def delivery(self, source: str, outcome: str) -> None:
        self.source_deliveries.labels(source, outcome).inc()
        if source == LEGACY_SOURCE:  # the previous release's per-outcome counter, kept for dashboards
            self.deliveries.labels(outcome).inc()


_METRICS: "weakref.WeakKeyDictionary[CollectorRegistry, _Metrics]" = weakref.WeakKeyDictionary()


def metrics_of(app: web.Application) -> _Metrics:
    registry = app[REGISTRY]
    if registry not in _METRICS:
        _METRICS[registry] = _Metrics(registry)
    return _METRICS[registry]


def _plugin(request: web.Request) -> Platform:
    try:
        plugin = request.app[SERVICES].platforms.for_source(request.match_info["source"])
    except UnknownPlatform:
        raise not_found("webhook source") from None
    if plugin.inbound is None:
        raise not_found("webhook source")
    return plugin


def _inbound_request(request: web.Request, body: bytes = b"") -> InboundRequest:
    params = {k: v for k, v in request.match_info.items() if k != "source"}
    return InboundRequest(method=request.method, query=dict(request.query), headers=request.headers,
                          body=body, path_params=params)


async def handshake(request: web.Request) -> web.Response:
    """The platform's subscription check (Meta ``hub.challenge``, WebSub's challenge)."""
    plugin = _plugin(request)
    assert plugin.inbound is not None
    answer = plugin.inbound.handshake(_inbound_request(request))
    if answer.status >= 400:
        raise ApiError(answer.status, "verification_failed", answer.body)
    return web.Response(text=answer.body, status=answer.status, content_type=answer.content_type)


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything larger than ``limit`` without buffering it all."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "body_too_large", f"The body exceeds {limit} bytes.")
    body = bytearray()
    timeout = request.app[SETTINGS].body_read_timeout_seconds
    try:
        async with asyncio.timeout(timeout):  # a trickling client does not hold the handler
            async for chunk in request.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > limit:
                    raise ApiError(413, "body_too_large", f"The body exceeds {limit} bytes.")
    except TimeoutError:
        raise ApiError(408, "body_timeout", f"The body did not arrive within {timeout:g} s.") from None
    return bytes(body)


def _safe_key(name: str | None) -> str:
    """A field name as a MongoDB key (counts per field): no NUL, no leading $, no dots."""
    name = (name or "unknown").replace("\x00", "_").replace(".", "_").replace("$", "_")
    return name or "unknown"


async def receive(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    services = request.app[SERVICES]
    metrics = metrics_of(request.app)
    plugin = _plugin(request)
    assert plugin.inbound is not None
    source = request.match_info["source"]
    body = await read_limited(request, settings.webhook_max_body_bytes)
    inbound = _inbound_request(request, body)
    if not plugin.inbound.verify(inbound, services.clock.now()):
        metrics.delivery(source, "bad_signature")
        if plugin.spec.webhook_bad_signature == "drop":
            # WebSub: a subscriber answers 2xx to a delivery it cannot verify, and discards it.
            log.warning("webhook delivery with a bad signature dropped", source=source)
            return web.json_response({"ok": True, "dropped": True}, status=202)
        header = plugin.spec.webhook_signature_header or f"{plugin.name}-signature"
        code = "signature_missing" if not request.headers.get(header) else "signature_invalid"
        raise ApiError(401, code, f"{header} is missing, stale or does not match the body.")
    try:
        changes = plugin.inbound.normalize(body)
    except ValueError as exc:  # the envelope itself: nothing of it can ever be applied
        metrics.delivery(source, "invalid")
        raise ApiError(400, "invalid_payload", str(exc)[:500]) from None
    fields = Tally(_safe_key(c.field) for c in changes if isinstance(c, Change))
    rejected = [
        {"index": c.index, "reason": c.reason, "field": _safe_key(c.field) if c.field else None}
        for c in changes if not isinstance(c, Change)
    ]
    accounts = sorted({c.account_key for c in changes if c.account_key})
    try:
        eid, needs_processing = await webhook_events.record(
            services.store, body, accounts=accounts, fields=dict(fields), rejected=rejected, source=source,
            ttl=timedelta(days=settings.webhook_event_ttl_days), now=services.clock.now(),
        )
    except (PyMongoError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            metrics.delivery(source, "invalid")
            raise ApiError(400, "invalid_payload", "The body is not UTF-8.") from None
        metrics.delivery(source, "store_failed")
        log.error("webhook event not stored; answering 503 so the platform retries", error=type(exc).__name__)
        raise ApiError(503, "store_unavailable", "The event could not be stored; retry later.") from None
    if needs_processing:
        # One drain job per 100 ms bucket, deferred to the bucket's end (see queue.webhook_drain_job):
        # an enqueue refused because the bucket's job exists is fine, that job will process this event.
        job_id, defer = queue.webhook_drain_job(time.time())
        try:
            await queue.enqueue(services.redis, queue.WEBHOOKS_DRAIN, job_id=job_id, defer_seconds=defer)
        except Exception as exc:  # noqa: BLE001 - stored durably: the sweeper will enqueue it
            log.warning("webhook event stored but not enqueued", event_id=eid, error=type(exc).__name__)
    if source == LEGACY_SOURCE:  # the previous release's per-field counter
        by_label = Tally("other" if c.kind == "other" else _safe_key(c.field) for c in changes if isinstance(c, Change))
        for label, count in by_label.items():
            metrics.changes.labels(label).inc(count)
    for item in rejected:
        metrics.rejected.labels(source, item["reason"]).inc()
    metrics.delivery(source, "accepted" if needs_processing else "duplicate")
    return web.json_response({"ok": True})


# A key segment (YouTube's per-channel WebSub callback token, ``<channel>.<mac>``) is long, so it
# never shadows a fixed route such as /webhooks/meta/deauthorize; the plugin reads it as
# ``InboundRequest.path_params["key"]``.
KEYED = "/webhooks/{source}/{key:[A-Za-z0-9_.-]{20,200}}"
routes.get("/webhooks/{source}")(handshake)
routes.post("/webhooks/{source}")(receive)
routes.get(KEYED)(handshake)
routes.post(KEYED)(receive)
