"""Helpers for the ops console tests: a logged-in HTTP client and the CSRF token of a page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from tests.conftest import ADMIN_TOKEN, Env

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HTML = {"Accept": "text/html"}


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


@asynccontextmanager
async def operator(env: Env, name: str = "Dana") -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client logged in to the console (cookies kept, redirects not followed)."""
    async with httpx.AsyncClient(base_url=env.url, timeout=15, headers=HTML) as client:
        r = await client.post("/ops/login", data={"token": ADMIN_TOKEN, "name": name, "next": "/ops/"})
        assert r.status_code == 303, r.text
        yield client


async def page_csrf(client: httpx.AsyncClient, path: str) -> tuple[httpx.Response, str]:
    r = await client.get(path)
    assert r.status_code == 200, r.text
    return r, csrf_of(r.text)
