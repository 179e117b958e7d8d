"""Meta's privacy callbacks: deauthorize and data deletion, both a verified ``signed_request``.

Deauthorize: every account of that platform user (any tenant) is disconnected and its token
dropped, through the same lifecycle path as a CRM disconnect. Data deletion: the request is
recorded, erasure is a worker job, and Meta gets ``{"url", "confirmation_code"}`` at once; the
person can follow the status at ``GET /data-deletion/{code}``.
"""

from __future__ import annotations

from aiohttp import web

from socialsync import lifecycle, queue
from socialsync.logs import get_logger
from socialsync.platforms.instagram import signatures
from socialsync.store import accounts as account_store
from socialsync.store import deletion_requests
from socialsync.store.deletion_requests import DeletionStatus
from webhooks.boundary import FORM_TYPES, read_form
from webhooks.errors import ApiError, not_found
from webhooks.keys import SERVICES, SETTINGS

log = get_logger(__name__)
routes = web.RouteTableDef()
DEAUTHORIZE_REASON = "The person removed the app on Meta (deauthorize callback)."


async def _signed_payload(request: web.Request) -> dict:
    if request.content_type not in FORM_TYPES:
        raise ApiError(400, "invalid_signed_request", "Send signed_request as a form field.")
    form = await read_form(request)
    value = form.get("signed_request")
    try:
        return signatures.parse_signed_request(
            value if isinstance(value, str) else None, signatures.app_secrets(request.app[SETTINGS])
        )
    except signatures.SignedRequestError as exc:
        raise ApiError(400, "invalid_signed_request", f"signed_request rejected: {exc}") from None


@routes.post("/webhooks/meta/deauthorize")
async def deauthorize(request: web.Request) -> web.Response:
    payload = await _signed_payload(request)
    services = request.app[SERVICES]
    ids = await account_store.disconnect_platform_user(services.store, payload["user_id"], DEAUTHORIZE_REASON)
    for account_id in ids:
        await lifecycle.account_disconnected(services, account_id)
    log.info("deauthorize callback", accounts=len(ids))
    return web.json_response({"ok": True, "accounts_disconnected": len(ids)})


@routes.post("/webhooks/meta/data-deletion")
async def data_deletion(request: web.Request) -> web.Response:
    payload = await _signed_payload(request)
    services = request.app[SERVICES]
    code = await deletion_requests.create(services.store, payload["user_id"])
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
