"""The shared control API under ``/_sandbox/``: clock, faults, stats, request log, publish log,
reset, health, and the index page. Platform-specific control routes live in each platform
package (Meta's: ``sandbox/meta/routes/control.py``; others under ``/_sandbox/<platform>/``).
"""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from sandbox.context import Sandbox, sandbox_of
from sandbox.control_api import control_error, int_query, parse_body
from sandbox.faults import FaultSpec

routes = web.RouteTableDef()


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    advance_seconds: float = Field(ge=0)


@routes.get("/")
async def index(request: web.Request) -> web.Response:
    """What a person opening the sandbox URL sees: each platform's logins and where things are."""
    sandbox = sandbox_of(request)
    sections = "".join(section(sandbox) for section in sandbox.index_sections)
    platforms = html.escape(", ".join(sandbox.platforms))
    body = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>socialsync sandbox</title></head><body>
<h1>socialsync platform sandbox</h1>
<p>Emulates the platforms socialsync talks to ({platforms}): real <code>https://HOST/PATH</code>
is served here at <code>/HOST/PATH</code>.</p>
{sections}
<p>Control API (JSON): <a href="/_sandbox/stats">/_sandbox/stats</a>,
<a href="/_sandbox/requests">/_sandbox/requests</a>, <a href="/_sandbox/published">/_sandbox/published</a>,
<a href="/_sandbox/clock">/_sandbox/clock</a>, <a href="/_sandbox/faults">/_sandbox/faults</a>
(see sandbox/README.md for every route).</p></body></html>"""
    return web.Response(text=body, content_type="text/html")


@routes.get("/_sandbox/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@routes.get("/_sandbox/platforms")
async def platforms(request: web.Request) -> web.Response:
    """The mounted platforms and the hosts each mirrors."""
    sandbox = sandbox_of(request)
    hosts: dict[str, list[str]] = {name: [] for name in sandbox.platforms}
    for host, name in sandbox.host_platform.items():
        hosts.setdefault(name, []).append(host)
    return web.json_response({"platforms": [{"name": n, "hosts": h} for n, h in hosts.items()]})


@routes.get("/_sandbox/clock")
async def get_clock(request: web.Request) -> web.Response:
    return web.json_response(_clock(sandbox_of(request)))


@routes.post("/_sandbox/clock")
async def advance_clock(request: web.Request) -> web.Response:
    """Move the sandbox clock forward: ages codes, tokens and rate-limit windows everywhere."""
    sandbox = sandbox_of(request)
    body = await parse_body(request, ClockAdvance)
    sandbox.clock.advance(body.advance_seconds)
    return web.json_response(_clock(sandbox))


def _clock(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "now": sandbox.clock.now(),
        "iso": sandbox.clock.iso(),
        "offset_seconds": sandbox.clock.offset,
    }


@routes.post("/_sandbox/faults")
async def add_fault(request: web.Request) -> web.Response:
    spec = await parse_body(request, FaultSpec)
    fault = sandbox_of(request).faults.add(spec)
    return web.json_response({"id": fault.id}, status=201)


@routes.get("/_sandbox/faults")
async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": [f.public() for f in sandbox_of(request).faults.list()]})


@routes.delete("/_sandbox/faults")
async def clear_faults(request: web.Request) -> web.Response:
    sandbox_of(request).faults.clear()
    return web.json_response({"ok": True})


@routes.delete("/_sandbox/faults/{fault_id}")
async def delete_fault(request: web.Request) -> web.Response:
    if not sandbox_of(request).faults.remove(request.match_info["fault_id"]):
        raise control_error(404, "not_found", "no such fault")
    return web.json_response({"ok": True})


@routes.get("/_sandbox/stats")
async def stats(request: web.Request) -> web.Response:
    """``{total, by_endpoint, by_account}``: every platform, or one with ``?platform=``."""
    return web.json_response(sandbox_of(request).stats.summary(request.query.get("platform")))


@routes.get("/_sandbox/requests")
async def requests_log(request: web.Request) -> web.Response:
    """The request log, newest last (``?platform=`` filters); secrets in queries shown as ``***``."""
    limit = int_query(request, "limit", 100)
    platform = request.query.get("platform")
    return web.json_response(
        {"requests": sandbox_of(request).stats.recent(limit, platform=platform)}
    )


@routes.get("/_sandbox/published")
async def published_log(request: web.Request) -> web.Response:
    """Every post that went live, oldest first; ``?platform=`` and ``?account=`` filter."""
    sandbox = sandbox_of(request)
    records = sandbox.published.records(
        platform=request.query.get("platform"), account=request.query.get("account")
    )
    return web.json_response({"published": [r.public(sandbox.clock) for r in records]})


@routes.post("/_sandbox/reset")
async def reset(request: web.Request) -> web.Response:
    """Back to the seeded state: clock, faults, stats, publish log and every platform's state."""
    sandbox_of(request).reset()
    return web.json_response({"ok": True})
