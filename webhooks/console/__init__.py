"""The ops console at ``/ops``: server-rendered pages (no JavaScript, no front-end build) for
the people who run socialsync, mounted by webhooks/app.py as a sub-application.

Modules: session (login, cookie, CSRF), pages (GET views), actions (POST, audited), charts
(SVG geometry), render (Jinja2, autoescaped). Reads go through socialsync.store.ops; actions
through socialsync.operations, the same functions the REST API calls.
"""

from __future__ import annotations

from aiohttp import web

from webhooks.console import actions, pages, session, snapshot
from webhooks.console.render import SECURITY_HEADERS, STATIC

CSS = (STATIC / "console.css").read_bytes()


async def _css(_request: web.Request) -> web.Response:
    return web.Response(body=CSS, content_type="text/css", headers={"Cache-Control": "max-age=300"})


def build_console() -> web.Application:
    """The /ops sub-application (mounted with ``app.add_subapp("/ops", build_console())``)."""
    app = web.Application(middlewares=[session.session_middleware])
    app[pages.QUEUES_CACHE] = {}
    app[snapshot.TASKS] = set()
    app.on_cleanup.append(snapshot.cancel_refreshes)
    r = app.router
    r.add_get("/static/console.css", _css)
    r.add_get("/login", session.login_form)
    r.add_post("/login", session.login)
    r.add_post("/logout", session.logout)
    r.add_get("", pages.overview)
    r.add_get("/", pages.overview)
    r.add_post("/overview/refresh", pages.refresh_overview)
    r.add_get("/accounts", pages.accounts)
    r.add_get("/accounts/{id}", pages.account)
    r.add_post("/accounts/{id}/sync", actions.sync_account)
    r.add_get("/sync-runs", pages.sync_runs)
    r.add_get("/sync-runs/{id}", pages.sync_run)
    r.add_get("/posts", pages.posts)
    r.add_get("/posts/{id}", pages.post)
    r.add_post("/posts/{id}/cancel", actions.cancel_post)
    r.add_post("/posts/{id}/retry", actions.retry_post)
    r.add_get("/webhook-events", pages.webhook_events)
    r.add_get("/webhook-events/{id}", pages.webhook_event)
    r.add_post("/webhook-events/{id}/reprocess", actions.reprocess_event)
    r.add_get("/crm-events", pages.crm_events)
    r.add_get("/crm-events/{id}", pages.crm_event)
    r.add_post("/crm-events/{id}/resend", actions.resend_crm_event)
    r.add_get("/audit", pages.audit_log)
    return app


__all__ = ["SECURITY_HEADERS", "build_console"]
