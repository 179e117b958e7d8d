"""CRM events: the outbox (``outbox``), the per-tenant ledger with sequence numbers and
retention (``ledger``), the signed push (``delivery``, ``signing``).

``created_at``-ordered push with retries and ``seq``-ordered pull (``GET /v1/events``) serve the
same payloads. This package's public names are re-exported here; import them from here.
"""

from __future__ import annotations

from socialsync.crm_events import delivery, ledger, outbox
from socialsync.crm_events.delivery import (
    BACKOFF_CAP_SECONDS,
    DELIVERIES,
    DELIVERY_LOG_TTL,
    DeliveryOut,
    DeliveryOutcome,
    backoff_seconds,
    deliver,
    list_deliveries,
)
from socialsync.crm_events.outbox import (
    COLLECTION,
    EVENT_TYPES,
    EventIn,
    emit,
    emit_account_event,
    event_id,
    record_many,
    wants,
)
from socialsync.crm_events.signing import SIGNATURE_HEADER, sign, verify
from socialsync.store import Store


async def ensure_indexes(store: Store) -> None:
    await outbox.ensure_indexes(store)
    await ledger.ensure_indexes(store)
    await delivery.ensure_indexes(store)


__all__ = [
    "BACKOFF_CAP_SECONDS", "COLLECTION", "DELIVERIES", "DELIVERY_LOG_TTL", "EVENT_TYPES", "SIGNATURE_HEADER",
    "DeliveryOut", "DeliveryOutcome", "EventIn", "backoff_seconds", "deliver", "emit", "emit_account_event",
    "ensure_indexes", "event_id", "ledger", "list_deliveries", "record_many", "sign", "verify", "wants",
]
