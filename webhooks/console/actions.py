"""The console's actions (POST, CSRF-checked by the session middleware). Each calls the one
implementation in socialsync.operations that the REST API uses too, records who did what and
how it went in the audit log, and redirects back to the page of the thing acted on, which
lists its audit entries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from socialsync import operations
from socialsync.store import accounts as account_store
from socialsync.store import ops as ops_store
from webhooks.console.pages import _id
from webhooks.console.render import error
from webhooks.console.session import SESSION
from webhooks.keys import SERVICES


async def _act(
    request: web.Request, *, action: str, subject: str, back: str, run: Callable[[], Awaitable[str]],
) -> web.Response:
    session = request[SESSION]
    try:
        detail = await run()
        outcome = "done"
    except operations.Missing as exc:
        return error(request, 404, "not_found", str(exc))
    except operations.Refused as exc:
        outcome, detail = "refused", f"{exc.code}: {exc.message}"
    await ops_store.audit(
        request.config_dict[SERVICES].store, who=session.who, action=action, subject=subject,
        outcome=outcome, detail=detail, session=session.short, remote=request.remote,
    )
    raise web.HTTPSeeOther(back)


async def _account(request: web.Request) -> dict[str, Any]:
    doc = await account_store.get_public(request.config_dict[SERVICES].store, _id(request))
    if doc is None:
        raise operations.Missing("account")
    return doc


async def sync_account(request: web.Request) -> web.Response:
    account_id = _id(request)
    form = await request.post()
    kind = form.get("kind") if isinstance(form.get("kind"), str) else "full"
    services = request.config_dict[SERVICES]

    async def run() -> str:
        account = await _account(request)
        result, created = await operations.start_sync(services, account, str(kind), "ops")
        return f"{'started' if created else 'joined'} run {result['_id']} ({result['kind']})"

    return await _act(request, action="sync", subject=f"account:{account_id}",
                      back=f"/ops/accounts/{account_id}", run=run)


async def _post_tenant(request: web.Request, post_id: str) -> str:
    doc = await ops_store.post(request.config_dict[SERVICES].store, post_id)
    if doc is None:
        raise operations.Missing("post")
    return doc["tenant_id"]


async def cancel_post(request: web.Request) -> web.Response:
    post_id = _id(request)
    services = request.config_dict[SERVICES]

    async def run() -> str:
        doc = await operations.cancel_post(services, await _post_tenant(request, post_id), post_id)
        return f"post is {doc['state']}"

    return await _act(request, action="cancel_post", subject=f"post:{post_id}", back=f"/ops/posts/{post_id}", run=run)


async def retry_post(request: web.Request) -> web.Response:
    post_id = _id(request)
    services = request.config_dict[SERVICES]

    async def run() -> str:
        tenant = await _post_tenant(request, post_id)
        doc = await operations.retry_post(services, tenant, post_id, who=request[SESSION].who)
        return f"post is {doc['state']} again (step {doc['tick']})"

    return await _act(request, action="retry_post", subject=f"post:{post_id}", back=f"/ops/posts/{post_id}", run=run)


async def reprocess_event(request: web.Request) -> web.Response:
    event_id = _id(request)
    services = request.config_dict[SERVICES]

    async def run() -> str:
        doc = await operations.reprocess_webhook_event(services, event_id)
        return f"queued for processing (request #{doc['reprocessed']})"

    return await _act(request, action="reprocess_webhook_event", subject=f"webhook_event:{event_id}",
                      back=f"/ops/webhook-events/{event_id}", run=run)


async def resend_crm_event(request: web.Request) -> web.Response:
    event_id = _id(request)
    services = request.config_dict[SERVICES]

    async def run() -> str:
        doc = await operations.resend_crm_event(services, event_id)
        return f"delivery queued again (resend #{doc['delivery']['resends']})"

    return await _act(request, action="resend_crm_event", subject=f"crm_event:{event_id}",
                      back=f"/ops/crm-events/{event_id}", run=run)
