"""Jinja2 rendering for the console, autoescaped everywhere.

Why Jinja2 with ``autoescape=True`` (not string formatting, not a front-end build): every value
the console shows comes from outside (captions, comments, usernames, platform error messages,
webhook bodies), and autoescaping makes escaping the default for all of them, in text and in
attributes, including inside the inline SVG charts. Nothing is marked safe except markup the
templates themselves write.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from webhooks.errors import error_response
from socialsync import clock

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.ChainableUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
SECURITY_HEADERS = {
    # No script at all; styles only from our own stylesheet; forms post only to us.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _dt(value: Any) -> str:
    if not isinstance(value, datetime):
        return "—" if value is None else str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ago(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        seconds = (clock.now() - value).total_seconds()
    elif isinstance(value, int | float):
        seconds = float(value)
    else:
        return "—"
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            text = f"{seconds / size:.0f} {unit}"
            break
    else:
        text = f"{seconds:.0f} s"
    return f"in {text}" if future else f"{text} ago"


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() or abs(value) >= 100 else f"{value:,.1f}"
    return str(value)


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


ENV.filters.update(dt=_dt, ago=_ago, num=_num, pretty=_pretty)


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    from webhooks.console.session import SESSION  # noqa: PLC0415

    session = request.get(SESSION)
    body = ENV.get_template(template).render(
        session=session, csrf=session.csrf if session else "", path=request.path, **context
    )
    return web.Response(text=body, status=status, content_type="text/html", headers=SECURITY_HEADERS)


def wants_html(request: web.Request) -> bool:
    return "text/html" in request.headers.get("Accept", "")


def error(request: web.Request, status: int, code: str, message: str) -> web.Response:
    """A 4xx the console's way: an HTML page for a browser, the API's JSON shape otherwise."""
    if wants_html(request):
        return page(request, "error.html", status=status, code=code, message=message)
    response = error_response(status, code, message)
    response.headers.update(SECURITY_HEADERS)
    return response
