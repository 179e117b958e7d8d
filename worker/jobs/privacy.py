"""privacy.erase_user: Meta's data-deletion request, carried out across every tenant.

Everything stored about the platform user's accounts goes: the accounts themselves, their
media, comments, mentions, metrics, audience, sync runs, publish jobs, moderation actions, CRM
events about them and the raw webhook events that named them. Collections owned by other areas
are erased by ``account_id`` (their documents carry it); the request's status page then says
``completed``. Re-running is harmless: there is nothing left to find.
"""

from __future__ import annotations

from typing import Any

from arq import func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import events, queue
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.store import actions, comments, deletion_requests, webhook_events

log = get_logger(__name__)
# Collections whose documents name the account in ``account_id``.
BY_ACCOUNT_ID = (
    "media", "metrics", "audience", "sync_runs", "publish_jobs", comments.COLLECTION,
    comments.MENTIONS, actions.COLLECTION, "comment_backfill",
)


async def erase_platform_user(services: Services, platform_user_id: str) -> dict[str, int]:
    store = services.store
    accounts = [
        a async for a in store.accounts.find(
            {"platform_user_id": platform_user_id}, {"_id": 1, "external_id": 1}
        )
    ]
    ids = [a["_id"] for a in accounts]
    ig_ids = sorted({a["external_id"] for a in accounts})
    erased: dict[str, int] = {}
    if ids:
        for name in BY_ACCOUNT_ID:
            erased[name] = (await store[name].delete_many({"account_id": {"$in": ids}})).deleted_count
        erased[events.COLLECTION] = (
            await store[events.COLLECTION].delete_many({"data.account_id": {"$in": ids}})
        ).deleted_count
    if ig_ids:
        # Raw events naming one of these IG accounts (and, for media documents keyed by owner,
        # anything else that names the IG id).
        still_owned = {
            a["external_id"] async for a in store.accounts.find(
                {"external_id": {"$in": ig_ids}, "platform_user_id": {"$ne": platform_user_id}},
                {"external_id": 1},
            )
        }
        gone = [i for i in ig_ids if i not in still_owned]  # another person's connection keeps them
        erased[webhook_events.COLLECTION] = (
            await store[webhook_events.COLLECTION].delete_many({"accounts": {"$in": gone}})
        ).deleted_count if gone else 0
    erased["accounts"] = (await store.accounts.delete_many({"_id": {"$in": ids}})).deleted_count if ids else 0
    return erased


async def erase_user(ctx: dict[str, Any], code: str) -> dict[str, int] | str:
    services: Services = ctx["services"]
    request = await deletion_requests.get(services.store, code)
    if request is None:
        return "missing"
    erased = await erase_platform_user(services, request["platform_user_id"])
    await deletion_requests.complete(services.store, code, erased)
    log.info("data deletion completed", code=code, **{k.replace(".", "_"): v for k, v in erased.items()})
    return erased


def functions(_settings: Settings) -> list[Function]:
    return [func(erase_user, name=queue.PRIVACY_ERASE_USER, max_tries=10)]


def cron_jobs(_settings: Settings) -> list[CronJob]:
    return []
