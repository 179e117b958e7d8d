"""privacy.erase_user: Meta's data-deletion request, carried out across every tenant.

Everything stored about the platform user's accounts goes (`socialsync.store.erasure` says
what that is); the request's status page then says ``completed``. Re-running is harmless:
there is nothing left to find.
"""

from __future__ import annotations

from typing import Any

from arq import func
from arq.cron import CronJob
from arq.worker import Function

from socialsync import queue
from socialsync.config import Settings
from socialsync.context import Services
from socialsync.logs import get_logger
from socialsync.store import deletion_requests, erasure

log = get_logger(__name__)


async def erase_user(ctx: dict[str, Any], code: str) -> dict[str, int] | str:
    services: Services = ctx["services"]
    request = await deletion_requests.get(services.store, code)
    if request is None:
        return "missing"
    erased = await erasure.erase_platform_user(services.store, request["platform_user_id"])
    await deletion_requests.complete(services.store, code, erased)
    log.info("data deletion completed", code=code, **{k.replace(".", "_"): v for k, v in erased.items()})
    return erased


def functions(_settings: Settings) -> list[Function]:
    return [func(erase_user, name=queue.PRIVACY_ERASE_USER, max_tries=10)]


def cron_jobs(_settings: Settings) -> list[CronJob]:
    return []
