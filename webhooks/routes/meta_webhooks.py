"""Meta's webhook callback: the ``hub.*`` handshake and the signed event deliveries.

A 200 means the event is kept (ARCHITECTURE.md §4.1). In order: bounded read of the raw body
(413), signature on those exact bytes against every configured app secret (401, nothing
stored), JSON validation (400 with the reason), the raw body stored in MongoDB (503 if that
fails, so Meta retries), its processing enqueued (a drain job shared by every delivery of the
same 100 ms: the worker processes events in batches), then 200. No platform call happens here.
If the enqueue fails after the store succeeded, the answer is still 200: the event is durable
and the worker's sweeper queues a drain for it.
"""

from __future__ import annotations

import hmac
import time
import weakref
from collections import Counter as Tally
from datetime import timedelta

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from socialsync import queue
from socialsync.config import Settings
from socialsync.logs import get_logger
from socialsync.platforms.instagram import signatures
from socialsync.platforms.instagram.webhooks import KNOWN_FIELDS, Payload, changes_of
from socialsync.store import webhook_events
from webhooks.errors import ApiError
from webhooks.keys import SERVICES, SETTINGS
from webhooks.metrics import REGISTRY

log = get_logger(__name__)
routes = web.RouteTableDef()
PATH = "/webhooks/meta"
SANDBOX_VERIFY_TOKEN = "sandbox-verify-token"


class _Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "socialsync_meta_webhook_deliveries", "Meta webhook deliveries by outcome", ["outcome"],
            registry=registry,
        )
        self.changes = Counter(
            "socialsync_meta_webhook_changes", "Changes received, by field (unknown fields: other)",
            ["field"], registry=registry,
        )


_METRICS: "weakref.WeakKeyDictionary[CollectorRegistry, _Metrics]" = weakref.WeakKeyDictionary()


def metrics_of(app: web.Application) -> _Metrics:
    registry = app[REGISTRY]
    if registry not in _METRICS:
        _METRICS[registry] = _Metrics(registry)
    return _METRICS[registry]


def verify_token(settings: Settings) -> str | None:
    if settings.webhook_verify_token is not None:
        return settings.webhook_verify_token.get_secret_value()
    return SANDBOX_VERIFY_TOKEN if settings.sandbox_mode else None


@routes.get(PATH)
async def handshake(request: web.Request) -> web.Response:
    """Meta's subscription check: echo ``hub.challenge`` when the verify token matches."""
    expected = verify_token(request.app[SETTINGS])
    given = request.query.get("hub.verify_token", "")
    mode_ok = request.query.get("hub.mode") == "subscribe"
    if expected is None or not mode_ok or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(403, "verification_failed", "hub.mode or hub.verify_token is wrong.")
    return web.Response(text=request.query.get("hub.challenge", ""), content_type="text/plain")


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The raw body, refusing (413) anything larger than ``limit`` without buffering it all."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, "body_too_large", f"The body exceeds {limit} bytes.")
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise ApiError(413, "body_too_large", f"The body exceeds {limit} bytes.")
    return bytes(body)


@routes.post(PATH)
async def receive(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    services = request.app[SERVICES]
    metrics = metrics_of(request.app)
    body = await read_limited(request, settings.webhook_max_body_bytes)
    header = request.headers.get(signatures.SIGNATURE_HEADER)
    if not signatures.verify_hub_signature(header, body, signatures.app_secrets(settings)):
        metrics.deliveries.labels("bad_signature").inc()
        code = "signature_missing" if not header else "signature_invalid"
        raise ApiError(401, code, f"{signatures.SIGNATURE_HEADER} is missing or does not match the body.")
    try:
        payload = Payload.model_validate_json(body)
    except ValidationError as exc:
        metrics.deliveries.labels("invalid").inc()
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(body)"
        raise ApiError(400, "invalid_payload", f"Invalid webhook payload: {where}: {first['msg']}") from None
    fields = Tally(c.field for c in changes_of(payload))
    try:
        eid, needs_processing = await webhook_events.record(
            services.store, body, accounts=payload.account_ids(),
            fields={k.replace(".", "_").replace("$", "_"): v for k, v in fields.items()},
            ttl=timedelta(days=settings.webhook_event_ttl_days),
        )
    except PyMongoError as exc:
        metrics.deliveries.labels("store_failed").inc()
        log.error("webhook event not stored; answering 503 so Meta retries", error=type(exc).__name__)
        raise ApiError(503, "store_unavailable", "The event could not be stored; retry later.") from None
    if needs_processing:
        # One drain job per 100 ms bucket, deferred to the bucket's end (see queue.webhook_drain_job):
        # an enqueue refused because the bucket's job exists is fine, that job will process this event.
        job_id, defer = queue.webhook_drain_job(time.time())
        try:
            await queue.enqueue(services.redis, queue.WEBHOOKS_DRAIN, job_id=job_id, defer_seconds=defer)
        except Exception as exc:  # noqa: BLE001 - stored durably: the sweeper will enqueue it
            log.warning("webhook event stored but not enqueued", event_id=eid, error=type(exc).__name__)
    for field, count in fields.items():
        metrics.changes.labels(field if field in KNOWN_FIELDS else "other").inc(count)
    metrics.deliveries.labels("accepted" if needs_processing else "duplicate").inc()
    return web.json_response({"ok": True})
