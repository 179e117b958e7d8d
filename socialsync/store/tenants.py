"""Tenants (the CRM's customers) and their API keys, stored as SHA-256 hashes.

API keys are 256-bit random strings, so a fast hash is enough: nothing to brute-force.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from pydantic import BaseModel

from socialsync.store import Store
from socialsync import clock

KEY_PREFIX = "ssk_"


class NewTenant(BaseModel):
    id: str
    name: str
    api_key: str


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


async def ensure_indexes(store: Store) -> None:
    await store.api_keys.create_index("tenant_id")


async def create_tenant(store: Store, name: str) -> NewTenant:
    tenant_id = "ten_" + secrets.token_hex(8)
    api_key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    await store.tenants.insert_one({"_id": tenant_id, "name": name, "created_at": now})
    await store.api_keys.insert_one(
        {"_id": hash_api_key(api_key), "tenant_id": tenant_id, "hint": api_key[:8], "created_at": now}
    )
    return NewTenant(id=tenant_id, name=name, api_key=api_key)


async def tenant_for_key(store: Store, api_key: str) -> str | None:
    """The tenant id owning this API key, or None."""
    doc = await store.api_keys.find_one({"_id": hash_api_key(api_key)}, {"tenant_id": 1})
    return doc["tenant_id"] if doc else None
