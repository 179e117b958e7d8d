"""MongoDB access: one module per collection family; indexes are created at start-up.

`Store` is passed explicitly (web app state, worker context); there is no module-level client.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from socialsync.config import Settings


# Modules owning collections; each has `async def ensure_indexes(store)`. Add new ones here.
INDEX_OWNERS = (
    "socialsync.store.tenants",
    "socialsync.store.accounts",
    "socialsync.crm_events",
    "socialsync.store.webhook_events",
    "socialsync.store.comments",
    "socialsync.store.actions",
    "socialsync.store.webhook_endpoints",
    "socialsync.store.deletion_requests",
    "socialsync.store.posts",
    "socialsync.store.media",
    "socialsync.store.metrics",
    "socialsync.store.audience",
    "socialsync.store.sync_runs",
    "socialsync.store.ops",
)


@dataclass
class Store:
    client: AsyncMongoClient
    db: AsyncDatabase

    @property
    def tenants(self):  # noqa: ANN201 - AsyncCollection
        return self.db["tenants"]

    @property
    def api_keys(self):  # noqa: ANN201
        return self.db["api_keys"]

    @property
    def accounts(self):  # noqa: ANN201
        return self.db["accounts"]

    def __getitem__(self, name: str):  # noqa: ANN204 - any other collection, by name
        return self.db[name]

    async def ping(self) -> None:
        await self.db.command("ping")

    async def close(self) -> None:
        await self.client.close()


async def ensure_indexes(store: Store) -> None:
    """Create every index; idempotent, safe to run from many replicas at once."""
    from socialsync.store import INDEX_OWNERS  # noqa: PLC0415

    for module_name in INDEX_OWNERS:
        module = importlib.import_module(module_name)
        await module.ensure_indexes(store)


async def open_store(settings: Settings, *, create_indexes: bool = True) -> Store:
    client: AsyncMongoClient = AsyncMongoClient(
        settings.mongodb_dsn,
        tz_aware=True,
        serverSelectionTimeoutMS=3000,
        connectTimeoutMS=3000,
        appname="socialsync",
    )
    store = Store(client=client, db=client[settings.mongodb_db])
    if create_indexes:
        from socialsync.store.migrations import migrate  # noqa: PLC0415

        await ensure_indexes(store)
        await migrate(store)
    return store
