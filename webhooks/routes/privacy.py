"""A platform's privacy callbacks (Meta's: deauthorize and data deletion), verified by its plugin.

``POST /webhooks/{source}/deauthorize`` and ``/webhooks/{source}/data-deletion`` are served for a
platform whose spec says ``privacy_callbacks`` (its ``privacy.parse_callback`` verifies the form:
Meta's ``signed_request``). Deauthorize: every account of that platform user (any tenant) is
disconnected and its token dropped, through the same lifecycle path as a CRM disconnect. Data
deletion: the request is recorded, erasure is a worker job, and the platform gets ``{"url",
"confirmation_code"}`` at once; the person can follow the status at ``GET /data-deletion/{code}``.
"""

from __future__ import annotations

from typing import Literal

from aiohttp import web

from socialsync import lifecycle, queue
from socialsync.logs import get_logger
from socialsync.platforms.base import Platform
from socialsync.platforms.records import ErasureRequest
from socialsync.platforms.registry import UnknownPlatform
from socialsync.store import accounts as account_store
from socialsync.store import deletion_requests
from socialsync.store.deletion_requests import DeletionStatus
from webhooks.boundary import FORM_TYPES, read_form
from webhooks.errors import ApiError, not_found
from webhooks.keys import SERVICES, SETTINGS

log = get_logger(__name__)
routes = web.RouteTableDef()


def _plugin(request: web.Request) -> Platform:
    source = request.match_info["source"]
    try:
        plugin = request.app[SERVICES].platforms.for_source(source)
    except UnknownPlatform:
        plugin = None
    if plugin is None or not plugin.spec.privacy_callbacks or plugin.privacy is None:
        raise ApiError(404, "not_found", f"{source!r} sends no privacy callbacks.")
    return plugin


async def _verified(request: web.Request, kind: Literal["deauthorize", "delete_data"]
                    ) -> tuple[Platform, ErasureRequest]:
    plugin = _plugin(request)
    assert plugin.privacy is not None
    if request.content_type not in FORM_TYPES:
        raise ApiError(400, "invalid_signed_request", "Send the callback's fields as a form field (signed_request).")
    form = await read_form(request)
    try:
        return plugin, plugin.privacy.parse_callback(kind, {k: v for k, v in form.items() if isinstance(v, str)})
    except ValueError as exc:
        raise ApiError(400, "invalid_signed_request", str(exc)) from None


@routes.post("/webhooks/{source}/deauthorize")
async def deauthorize(request: web.Request) -> web.Response:
    plugin, erasure = await _verified(request, "deauthorize")
    services = request.app[SERVICES]
    reason = getattr(plugin.privacy, "deauthorize_reason", None) or (
        f"The person removed the app on {plugin.spec.display_name} (deauthorize callback).")
    ids = await account_store.disconnect_platform_user(services.store, erasure.platform_user_id, reason)
    for account_id in ids:
        await lifecycle.account_disconnected(services, account_id)
    log.info("deauthorize callback", accounts=len(ids))
    return web.json_response({"ok": True, "accounts_disconnected": len(ids)})


@routes.post("/webhooks/{source}/data-deletion")
async def data_deletion(request: web.Request) -> web.Response:
    _, erasure = await _verified(request, "delete_data")
    services = request.app[SERVICES]
    code = await deletion_requests.create(services.store, erasure.platform_user_id)
    await queue.enqueue(services.redis, queue.PRIVACY_ERASE_USER, code, job_id=queue.erase_user_job_id(code))
    url = f"{request.app[SETTINGS].public_base}/data-deletion/{code}"
    return web.json_response({"url": url, "confirmation_code": code})


@routes.get("/data-deletion/{code}")
async def deletion_status(request: web.Request) -> web.Response:
    doc = await deletion_requests.get(request.app[SERVICES].store, request.match_info["code"])
    if doc is None:
        raise not_found("deletion request")
    status = DeletionStatus(
        confirmation_code=doc["_id"], status=doc["status"], requested_at=doc["requested_at"],
        completed_at=doc.get("completed_at"),
    )
    return web.json_response(status.model_dump(mode="json"))
