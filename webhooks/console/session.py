"""Console access: a login form for the admin token, then a server-side session in Redis.

- The cookie holds only a random session id (HttpOnly, SameSite=Strict, Secure when the public
  URL is https, Max-Age = ``ops_session_minutes``); Redis keeps the session under the id's
  SHA-256, with the same expiry, so a stolen Redis dump holds no usable cookie.
- Every POST (each action, and logout) must carry the session's CSRF token as the form field
  ``csrf``; a POST without a session or with a wrong token is refused (403) before any handler.
- A GET without a session is redirected to the login page. With no admin token configured the
  console is off and every page says so.
- Failed logins are counted per client address; after ``MAX_FAILED_LOGINS`` in the window the
  form answers 429 until it passes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from aiohttp import web

from webhooks.console.render import error, page
from webhooks.keys import SERVICES, SETTINGS

COOKIE = "socialsync_ops"
SESSION_PREFIX = "ops:session:"
FAILED_PREFIX = "ops:login-failed:"
MAX_FAILED_LOGINS = 10
FAILED_WINDOW_SECONDS = 900
PUBLIC = frozenset({"/ops/login", "/ops/static/console.css"})


@dataclass
class OpsSession:
    key: str  # the Redis key (hash of the cookie value)
    who: str
    csrf: str
    created_at: float

    @property
    def short(self) -> str:
        return self.key[-8:]


SESSION = web.RequestKey("ops_session", OpsSession)


def _key(cookie: str) -> str:
    return SESSION_PREFIX + hashlib.sha256(cookie.encode()).hexdigest()


def admin_token(settings) -> bytes | None:  # noqa: ANN001 - Settings
    """The configured admin token; None when unset or empty (an empty one must not open it)."""
    token = settings.admin_token.get_secret_value() if settings.admin_token is not None else ""
    return token.encode() or None


def _remote(request: web.Request) -> str:
    return request.remote or "unknown"


async def load(request: web.Request) -> OpsSession | None:
    cookie = request.cookies.get(COOKIE)
    if not cookie or len(cookie) > 200:
        return None
    key = _key(cookie)
    raw = await request.config_dict[SERVICES].redis.get(key)
    if raw is None:
        return None
    data = json.loads(raw)
    return OpsSession(key=key, who=data["who"], csrf=data["csrf"], created_at=data["created_at"])


def _safe_next(raw: str | None) -> str:
    """Only a path inside the console: never another host (no open redirect)."""
    if not raw or not raw.startswith("/ops") or raw.startswith("//") or "\\" in raw:
        return "/ops"
    parts = urlsplit(raw)
    return "/ops" if parts.scheme or parts.netloc else raw


@web.middleware
async def session_middleware(request: web.Request, handler):  # noqa: ANN001, ANN201
    settings = request.config_dict[SETTINGS]
    if not admin_token(settings):
        if request.path == "/ops/static/console.css":
            return await handler(request)
        return error(request, 403, "console_disabled",
                     "The ops console is off: set SOCIALSYNC_ADMIN_TOKEN to turn it on.")
    if request.path in PUBLIC:
        return await handler(request)
    session = await load(request)
    if session is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(f"/ops/login?next={quote(request.path_qs, safe='')}")
        return error(request, 403, "no_session", "Log in to the console first.")
    if request.method not in ("GET", "HEAD"):
        form = await request.post()
        sent = form.get("csrf")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            return error(request, 403, "csrf_failed", "The form's CSRF token is missing or wrong: reload the page.")
    request[SESSION] = session
    return await handler(request)


async def login_form(request: web.Request) -> web.Response:
    return page(request, "login.html", next=_safe_next(request.query.get("next")), problem=None)


async def login(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    redis = request.config_dict[SERVICES].redis
    form = await request.post()
    nxt = _safe_next(form.get("next") if isinstance(form.get("next"), str) else None)
    failed_key = FAILED_PREFIX + _remote(request)
    failures = int(await redis.get(failed_key) or 0)
    if failures >= MAX_FAILED_LOGINS:
        return page(request, "login.html", status=429, next=nxt,
                    problem="Too many failed logins from this address: wait a few minutes.")
    token = form.get("token")
    name = form.get("name")
    who = (name.strip() if isinstance(name, str) else "")[:60] or "operator"
    admin = admin_token(settings)
    if admin is None or not isinstance(token, str) or not token or not hmac.compare_digest(token.encode(), admin):
        pipe = redis.pipeline(transaction=False)
        pipe.incr(failed_key)
        pipe.expire(failed_key, FAILED_WINDOW_SECONDS)
        await pipe.execute()
        return page(request, "login.html", status=401, next=nxt, problem="That is not the admin token.")
    cookie = secrets.token_urlsafe(32)
    ttl = settings.ops_session_minutes * 60
    session = {"who": who, "csrf": secrets.token_urlsafe(32), "created_at": time.time()}
    await redis.set(_key(cookie), json.dumps(session), ex=ttl)
    response = web.HTTPSeeOther(nxt)
    response.set_cookie(
        COOKIE, cookie, max_age=ttl, path="/ops", httponly=True, samesite="Strict",
        secure=settings.public_base.startswith("https://"),
    )
    raise response


async def logout(request: web.Request) -> web.Response:
    await request.config_dict[SERVICES].redis.delete(request[SESSION].key)
    response = web.HTTPSeeOther("/ops/login")
    response.del_cookie(COOKIE, path="/ops")
    raise response
