"""The console's pages (GET): overview, and a filtered, paged list plus a detail view for
accounts, sync runs, posts, webhook events and CRM events. All reads go through
socialsync.store.ops; nothing here talks to MongoDB."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from socialsync import headroom, operations, worker_status
from socialsync.store import ops as ops_store
from webhooks.console import charts, snapshot
from webhooks.console.render import error, page
from webhooks.keys import SERVICES
from socialsync import clock

ID = re.compile(r"^[A-Za-z0-9_:.\-]{1,120}$")
PLATFORM = re.compile(r"^[a-z0-9_]{1,32}$")
ACCOUNT_STATUSES = ("active", "needs_reconnect", "disconnected")
RUN_STATUSES = ("queued", "running", "success", "partial", "failed", "skipped")
POST_STATES = ops_store.POST_STATE_ORDER
EVENT_STATUSES = ("pending", "processed", "failed")
CRM_STATUSES = ("pending", "delivered", "failed", "no_endpoint")
PER_PAGE = 50
CHART_DAYS = 90
QUEUE_CACHE_SECONDS = 5.0


class BadFilter(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


def _filters(request: web.Request, spec: dict[str, Any]) -> dict[str, str]:
    """Query filters checked against ``spec`` (name -> allowed values, or a regex)."""
    out: dict[str, str] = {}
    for name, rule in spec.items():
        value = request.query.get(name, "")
        if not value:
            continue
        ok = rule.fullmatch(value) is not None if isinstance(rule, re.Pattern) else value in rule
        if not ok:
            raise BadFilter(name, f"{name} is not a valid value here.")
        out[name] = value
    return out


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if len(raw) > 5 or not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= ops_store.MAX_PAGE:
        raise BadFilter("page", f"page must be a whole number from 1 to {ops_store.MAX_PAGE}.")
    return int(raw)


def _handles_bad_filters(handler):  # noqa: ANN001, ANN202
    async def wrapped(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except BadFilter as exc:
            return error(request, 400, f"invalid_{exc.name}", exc.message)
    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def _id(request: web.Request) -> str:
    value = request.match_info["id"]
    if not ID.fullmatch(value):
        raise web.HTTPNotFound()
    return value


def _missing(request: web.Request, what: str) -> web.Response:
    return error(request, 404, "not_found", f"No such {what}.")


def _list(request: web.Request, template: str, result: ops_store.Page, filters: dict[str, str], **extra: Any) -> web.Response:
    def link(n: int) -> str:
        query = {**filters, "page": str(n)}
        return str(request.rel_url.with_query(query))

    pager = {
        "page": result.page,
        "prev": link(result.page - 1) if result.page > 1 else None,
        "next": link(result.page + 1) if result.has_next else None,
    }
    return page(request, template, rows=result.rows, filters=filters, pager=pager, **extra)


# --- overview ---------------------------------------------------------------------------------
async def _queues(request: web.Request) -> list[worker_status.QueueStat]:
    """Queue depth, cached for a few seconds per process (arq's listing reads every job)."""
    cache = request.app[QUEUES_CACHE]
    if cache and time.monotonic() - cache["at"] < QUEUE_CACHE_SECONDS:
        return cache["stats"]
    services = request.config_dict[SERVICES]
    stats = await worker_status.queue_stats(services.redis, worker_status.queue_names(services.settings))
    cache.update(at=time.monotonic(), stats=stats)
    return stats


QUEUES_CACHE = web.AppKey("ops_queue_cache", dict)


async def overview(request: web.Request) -> web.Response:
    services = request.config_dict[SERVICES]
    summary, rates, workers, queues = await asyncio.gather(
        snapshot.current(request.app, services),
        headroom.all_headroom(services),
        worker_status.workers(services.redis),
        _queues(request),
    )
    return page(request, "overview.html", o=summary, headroom=rates, workers=workers, queues=queues)


async def refresh_overview(request: web.Request) -> web.Response:
    """POST: recompute the overview's figures now (they are otherwise at most ~30 s old)."""
    await snapshot.compute(request.config_dict[SERVICES])
    raise web.HTTPSeeOther("/ops/")


# --- accounts -----------------------------------------------------------------------------------
@_handles_bad_filters
async def accounts(request: web.Request) -> web.Response:
    filters = _filters(request, {"tenant_id": ID, "platform": PLATFORM, "status": ACCOUNT_STATUSES})
    store = request.config_dict[SERVICES].store
    result = await ops_store.list_accounts(store, filters, page=_page_number(request), per_page=PER_PAGE)
    return _list(request, "accounts.html", result, filters, statuses=ACCOUNT_STATUSES)


def _next_token_check(account: dict[str, Any], refresh_window_days: int) -> datetime | None:
    """When the token is next looked at: the platform's own date when it set one, else the start
    of the refresh window before expiry."""
    for holder in (account, account.get("credentials") or {}):
        if isinstance(holder.get("next_check_at"), datetime):
            return holder["next_check_at"]
    expires = account.get("token_expires_at")
    return expires - timedelta(days=refresh_window_days) if isinstance(expires, datetime) else None


async def account(request: web.Request) -> web.Response:
    services = request.config_dict[SERVICES]
    store = services.store
    account_id = _id(request)
    doc = await ops_store.account(store, account_id)
    if doc is None:
        return _missing(request, "account")
    since = clock.now() - timedelta(days=CHART_DAYS)
    (series, (runs, posts), comments, audit) = await asyncio.gather(
        ops_store.metric_series(store, account_id, ("followers_count", "reach", "views"), since=since),
        ops_store.account_activity(store, account_id),
        ops_store.recent_comments(store, account_id),
        ops_store.audit_log(store, subject=f"account:{account_id}", per_page=10),
    )
    figures = [
        charts.chart("Followers", series["followers_count"], kind="line"),
        charts.chart("Daily reach", series["reach"], kind="bar"),
        charts.chart("Daily views", series["views"], kind="bar"),
    ]
    freshness = sorted((doc.get("last_sync_by_kind") or {}).items())
    return page(
        request, "account.html", a=doc, charts=[c for c in figures if c], chart_names=["Followers", "Daily reach", "Daily views"],
        runs=runs, posts=posts, comments=comments, audit=audit.rows, freshness=freshness,
        next_check=_next_token_check(doc, services.settings.token_refresh_window_days),
        sync_kinds=operations.SYNC_KINDS,
    )


# --- sync runs ----------------------------------------------------------------------------------
@_handles_bad_filters
async def sync_runs(request: web.Request) -> web.Response:
    filters = _filters(request, {"account_id": ID, "tenant_id": ID, "status": RUN_STATUSES,
                                 "kind": operations.SYNC_KINDS})
    store = request.config_dict[SERVICES].store
    result = await ops_store.list_sync_runs(store, filters, page=_page_number(request), per_page=PER_PAGE)
    return _list(request, "sync_runs.html", result, filters, statuses=RUN_STATUSES, kinds=operations.SYNC_KINDS)


async def sync_run(request: web.Request) -> web.Response:
    doc = await ops_store.sync_run(request.config_dict[SERVICES].store, _id(request))
    if doc is None:
        return _missing(request, "sync run")
    return page(request, "sync_run.html", r=doc)


# --- posts ----------------------------------------------------------------------------------------
@_handles_bad_filters
async def posts(request: web.Request) -> web.Response:
    filters = _filters(request, {"account_id": ID, "tenant_id": ID, "state": POST_STATES})
    store = request.config_dict[SERVICES].store
    result = await ops_store.list_posts(store, filters, page=_page_number(request), per_page=PER_PAGE)
    return _list(request, "posts.html", result, filters, states=POST_STATES)


async def post(request: web.Request) -> web.Response:
    store = request.config_dict[SERVICES].store
    post_id = _id(request)
    doc = await ops_store.post(store, post_id)
    if doc is None:
        return _missing(request, "post")
    audit = await ops_store.audit_log(store, subject=f"post:{post_id}", per_page=10)
    return page(request, "post.html", p=doc, audit=audit.rows, retry_refusal=operations.retry_refusal(doc),
                cancellable=doc["state"] in ("scheduled", "creating", "processing", "ready"))


# --- webhook events -----------------------------------------------------------------------------
@_handles_bad_filters
async def webhook_events(request: web.Request) -> web.Response:
    filters = _filters(request, {"status": EVENT_STATUSES, "account_id": ID})
    store = request.config_dict[SERVICES].store
    result = await ops_store.list_webhook_events(store, filters, page=_page_number(request), per_page=PER_PAGE)
    return _list(request, "webhook_events.html", result, filters, statuses=EVENT_STATUSES)


async def webhook_event(request: web.Request) -> web.Response:
    store = request.config_dict[SERVICES].store
    event_id = _id(request)
    doc = await ops_store.webhook_event(store, event_id)
    if doc is None:
        return _missing(request, "webhook event")
    audit = await ops_store.audit_log(store, subject=f"webhook_event:{event_id}", per_page=10)
    return page(request, "webhook_event.html", e=doc, audit=audit.rows)


# --- CRM events -----------------------------------------------------------------------------------
@_handles_bad_filters
async def crm_events(request: web.Request) -> web.Response:
    filters = _filters(request, {"status": CRM_STATUSES, "tenant_id": ID, "type": ID})
    store = request.config_dict[SERVICES].store
    result = await ops_store.list_crm_events(store, filters, page=_page_number(request), per_page=PER_PAGE)
    return _list(request, "crm_events.html", result, filters, statuses=CRM_STATUSES)


async def crm_event(request: web.Request) -> web.Response:
    store = request.config_dict[SERVICES].store
    event_id = _id(request)
    doc, attempts = await ops_store.crm_event(store, event_id)
    if doc is None:
        return _missing(request, "CRM event")
    audit = await ops_store.audit_log(store, subject=f"crm_event:{event_id}", per_page=10)
    return page(request, "crm_event.html", e=doc, attempts=attempts, audit=audit.rows)


# --- audit ----------------------------------------------------------------------------------------
@_handles_bad_filters
async def audit_log(request: web.Request) -> web.Response:
    store = request.config_dict[SERVICES].store
    result = await ops_store.audit_log(store, page=_page_number(request), per_page=PER_PAGE)
    return _list(request, "audit.html", result, {})
