"""Graph API reads of users, pages and Instagram accounts on both Graph hosts.

graph.instagram.com (Instagram Login token): ``/me`` and ``/{ig-user-id}``.
graph.facebook.com (Facebook Login user or page token): ``/me``, ``/me/accounts``,
``/me/permissions`` and ``/{id}`` for an IG business account, a page, or the user.
Calls about one IG account are charged to its Business Use Case budget.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aiohttp import web

from sandbox.dispatch import path_param
from sandbox.meta.access import Caller, authenticate
from sandbox.meta.accounts import FacebookPage, FacebookUser, InstagramAccount
from sandbox.meta.world import Meta, charge_ig_account, meta_of
from sandbox.meta.errors import GraphError, invalid_parameter, unsupported_request
from sandbox.meta.fields import FieldRequest, check_subfields, requested_fields
from sandbox.meta.hosts import CDN, FACEBOOK_GRAPH, INSTAGRAM_GRAPH, VERSION
from sandbox.meta.tokens import TokenKind

routes = web.RouteTableDef()

# Fields each node type answers (anything else: code 100 for the whole request).
IG_LOGIN_USER_FIELDS = (
    "id",
    "user_id",
    "username",
    "name",
    "account_type",
    "profile_picture_url",
    "followers_count",
    "follows_count",
    "media_count",
    "biography",
    "website",
)
FB_IG_USER_FIELDS = (
    "id",
    "username",
    "name",
    "biography",
    "website",
    "profile_picture_url",
    "followers_count",
    "follows_count",
    "media_count",
)
PAGE_FIELDS = ("id", "name", "category", "tasks", "access_token", "instagram_business_account")
USER_FIELDS = ("id", "name")
# What /me/accounts returns without `fields`, as Graph does.
ACCOUNTS_DEFAULT_FIELDS = ("access_token", "category", "name", "id", "tasks")
ACCOUNTS_PAGE_SIZE = 25


# --- graph.instagram.com ----------------------------------------------------------------------
@routes.get(f"/{INSTAGRAM_GRAPH}/{VERSION}/me")
@routes.get(f"/{INSTAGRAM_GRAPH}/me")
async def ig_me(request: web.Request) -> web.Response:
    """The logged-in professional account; ``id`` is the app-scoped id."""
    caller = await authenticate(request, INSTAGRAM_GRAPH)
    account = _ig_login_account(caller)
    caller.require_scope("instagram_business_basic")
    charge_ig_account(request, account.ig_user_id)
    fields = requested_fields(
        request, allowed=IG_LOGIN_USER_FIELDS, default=("id",), node_type="User"
    )
    return web.json_response(ig_user_node(request, account, fields, node_id=account.app_scoped_id))


# ``/{node}`` routes are in routes/nodes.py, which sends users and pages here.
async def ig_node(request: web.Request) -> web.Response:
    """The logged-in account by its IG user id (or app-scoped id); anything else is 100/33."""
    caller = await authenticate(request, INSTAGRAM_GRAPH)
    account = _ig_login_account(caller)
    node = path_param(request, "node")
    if node not in (account.ig_user_id, account.app_scoped_id):
        raise unsupported_request(request.method, node)
    caller.require_scope("instagram_business_basic")
    charge_ig_account(request, account.ig_user_id)
    fields = requested_fields(
        request, allowed=IG_LOGIN_USER_FIELDS, default=("id",), node_type="User"
    )
    return web.json_response(ig_user_node(request, account, fields, node_id=node))


def _ig_login_account(caller: Caller) -> InstagramAccount:
    if caller.ig_account is None:  # authenticate() only lets Instagram tokens reach here
        raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
    return caller.ig_account


# --- graph.facebook.com -----------------------------------------------------------------------
@routes.get(f"/{FACEBOOK_GRAPH}/{VERSION}/me")
@routes.get(f"/{FACEBOOK_GRAPH}/me")
async def fb_me(request: web.Request) -> web.Response:
    """The user (user token) or the page (page token): the cheap validity check."""
    caller = await authenticate(request, FACEBOOK_GRAPH)
    sandbox = meta_of(request)
    if caller.page is not None:
        return web.json_response(_page_node(request, sandbox, caller, caller.page))
    assert caller.fb_user is not None
    return web.json_response(_user_node(request, caller.fb_user))


@routes.get(f"/{FACEBOOK_GRAPH}/{VERSION}/me/accounts")
@routes.get(f"/{FACEBOOK_GRAPH}/me/accounts")
async def fb_me_accounts(request: web.Request) -> web.Response:
    """The pages the user administers, each with a page token; cursor paged."""
    caller = await authenticate(request, FACEBOOK_GRAPH)
    if caller.page is not None:
        raise GraphError(
            100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)"
        )
    assert caller.fb_user is not None
    sandbox = meta_of(request)
    fields = requested_fields(
        request, allowed=PAGE_FIELDS, default=ACCOUNTS_DEFAULT_FIELDS, node_type="Page"
    )
    # Without pages_show_list Graph answers an empty list rather than an error.
    pages = sandbox.state.pages_of(caller.fb_user) if caller.has_scope("pages_show_list") else []

    limit = _int_param(request, "limit", ACCOUNTS_PAGE_SIZE, 1, 100)
    start = 0
    if "after" in request.query:
        after_id = _decode_cursor(request.query["after"])
        ids = [p.page_id for p in pages]
        start = ids.index(after_id) + 1 if after_id in ids else len(ids)
    window = pages[start : start + limit]
    body: dict[str, Any] = {
        "data": [_page_entry(request, sandbox, caller, page, fields) for page in window]
    }
    if window:
        paging: dict[str, Any] = {
            "cursors": {
                "before": _encode_cursor(window[0].page_id),
                "after": _encode_cursor(window[-1].page_id),
            }
        }
        if start + limit < len(pages):
            paging["next"] = str(request.url.update_query(after=_encode_cursor(window[-1].page_id)))
        body["paging"] = paging
    return web.json_response(body)


@routes.get(f"/{FACEBOOK_GRAPH}/{VERSION}/me/permissions")
@routes.get(f"/{FACEBOOK_GRAPH}/me/permissions")
async def fb_me_permissions(request: web.Request) -> web.Response:
    """Granted and declined scopes of the login behind the token."""
    caller = await authenticate(request, FACEBOOK_GRAPH)
    token = caller.token
    data = [{"permission": "public_profile", "status": "granted"}]
    data += [{"permission": p, "status": "granted"} for p in token.scopes if p != "public_profile"]
    data += [{"permission": p, "status": "declined"} for p in token.declined]
    return web.json_response({"data": data})


async def fb_node(request: web.Request) -> web.Response:
    """An IG business account, a page, or the user - when the token may see it."""
    caller = await authenticate(request, FACEBOOK_GRAPH)
    sandbox = meta_of(request)
    node = path_param(request, "node")
    target = reachable_node(sandbox, caller, node)
    if target is None:
        raise unsupported_request(request.method, node)
    if isinstance(target, InstagramAccount):
        caller.require_scope("instagram_basic")
        charge_ig_account(request, target.ig_user_id)
        fields = requested_fields(
            request, allowed=FB_IG_USER_FIELDS, default=("id",), node_type="IGUser"
        )
        return web.json_response(ig_user_node(request, target, fields, node_id=target.ig_user_id))
    if isinstance(target, FacebookPage):
        return web.json_response(_page_node(request, sandbox, caller, target))
    return web.json_response(_user_node(request, target))


def reachable_node(
    sandbox: Meta, caller: Caller, node_id: str
) -> InstagramAccount | FacebookPage | FacebookUser | None:
    """What ``node_id`` is, if this Facebook Login caller may read it."""
    state = sandbox.state
    if caller.page is not None:
        pages = [caller.page]
    else:
        assert caller.fb_user is not None
        if node_id == caller.fb_user.user_id:
            return caller.fb_user
        pages = state.pages_of(caller.fb_user)
    for page in pages:
        if page.page_id == node_id:
            return page
        if page.ig_user_id == node_id:
            return state.ig_accounts.get(node_id)
    return None


# --- node rendering ---------------------------------------------------------------------------
def ig_user_node(
    request: web.Request, account: InstagramAccount, fields: list[FieldRequest], *, node_id: str
) -> dict[str, Any]:
    """An IG user with exactly the requested fields plus ``id``; ids are strings."""
    values: dict[str, Any] = {
        "user_id": account.ig_user_id,
        "username": account.username,
        "name": account.name,
        "account_type": account.account_type,
        "profile_picture_url": profile_picture_url(request, account),
        "followers_count": account.followers_count,
        "follows_count": account.follows_count,
        "media_count": account.media_count,
        "biography": account.biography,
        "website": account.website,
    }
    body: dict[str, Any] = {}
    for field in fields:
        if field.name != "id":
            body[field.name] = values[field.name]
    body["id"] = node_id
    return body


def profile_picture_url(request: web.Request, account: InstagramAccount) -> str:
    """Served by the sandbox itself (routes/cdn.py), so nothing leaves the machine."""
    return f"{request.url.origin()}/{CDN}/sandbox/profile/{account.ig_user_id}.png"


def _user_node(request: web.Request, user: FacebookUser) -> dict[str, Any]:
    fields = requested_fields(
        request, allowed=USER_FIELDS, default=("id", "name"), node_type="User"
    )
    values = {"id": user.user_id, "name": user.name}
    body = {f.name: values[f.name] for f in fields if f.name != "id"}
    body["id"] = user.user_id
    return body


def _page_node(
    request: web.Request, sandbox: Meta, caller: Caller, page: FacebookPage
) -> dict[str, Any]:
    fields = requested_fields(
        request, allowed=PAGE_FIELDS, default=("id", "name"), node_type="Page"
    )
    return _page_entry(request, sandbox, caller, page, fields)


def _page_entry(
    request: web.Request,
    sandbox: Meta,
    caller: Caller,
    page: FacebookPage,
    fields: list[FieldRequest],
) -> dict[str, Any]:
    """A page with the requested fields; ``instagram_business_account`` only when linked."""
    entry: dict[str, Any] = {}
    for field in fields:
        name = field.name
        if name == "id":
            entry["id"] = page.page_id
        elif name == "name":
            entry["name"] = page.name
        elif name == "category":
            entry["category"] = page.category
        elif name == "tasks":
            entry["tasks"] = list(page.tasks)
        elif name == "access_token":
            entry["access_token"] = page_token_for(sandbox, caller, page)
        elif name == "instagram_business_account" and page.ig_user_id is not None:
            entry["instagram_business_account"] = _linked_ig(
                request, sandbox, page.ig_user_id, field
            )
    entry.setdefault("id", page.page_id)  # Graph always includes a node's id
    return entry


def _linked_ig(
    request: web.Request, sandbox: Meta, ig_user_id: str, field: FieldRequest
) -> dict[str, Any]:
    if not field.subfields:
        return {"id": ig_user_id}
    check_subfields(field, FB_IG_USER_FIELDS, "IGUser")
    account = sandbox.state.ig_accounts[ig_user_id]
    return ig_user_node(
        request, account, [FieldRequest(n) for n in field.subfields], node_id=ig_user_id
    )


def page_token_for(sandbox: Meta, caller: Caller, page: FacebookPage) -> str:
    """A page token; it never expires when derived from a long-lived user token."""
    token = caller.token
    if token.kind is TokenKind.FB_PAGE:
        return token.value
    assert caller.fb_user is not None
    now = sandbox.clock.now()
    ttl = (
        None
        if token.kind is TokenKind.FB_USER_LONG or token.expires_at is None
        else token.expires_at - now
    )
    page_token = sandbox.state.issue_token(
        TokenKind.FB_PAGE,
        subject_id=page.page_id,
        login_username=token.login_username,
        scopes=token.scopes,
        declined=token.declined,
        ttl_seconds=ttl,
        fb_user_id=caller.fb_user.user_id,
    )
    return page_token.value


# --- helpers ----------------------------------------------------------------------------------
def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_parameter(f"(#100) Param {name} must be an integer") from None
    return max(low, min(high, value))


def _encode_cursor(page_id: str) -> str:
    return base64.urlsafe_b64encode(f"page:{page_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise invalid_parameter("(#100) Invalid cursor") from None
    kind, _, page_id = raw.partition(":")
    if kind != "page" or not page_id:
        raise invalid_parameter("(#100) Invalid cursor")
    return page_id
