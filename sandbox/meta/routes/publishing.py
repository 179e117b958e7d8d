"""Content publishing on both Graph hosts (PLATFORM_FACTS.md §3), and its control calls.

``POST /{ig-user-id}/media`` (containers), ``GET /{container-id}?fields=status_code,status``,
``GET /{ig-user-id}/content_publishing_limit``, ``POST /{ig-user-id}/media_publish``.
Control: ``GET/POST /_sandbox/publishing``
(processing distributions, container lifetime, quota; per account with ``account``).

The container route only matches container ids (``sandbox.publishing.CONTAINER_ID_PATTERN``),
so ``GET /{media-id}`` and ``GET /{ig-user-id}`` fall through to the read routes.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sandbox.dispatch import path_param
from sandbox.meta.access import authenticate
from sandbox.meta.accounts import InstagramAccount
from sandbox.meta.world import charge_ig_account, meta_of
from sandbox.meta.errors import GraphError, invalid_parameter, permission_missing, unsupported_request
from sandbox.meta.fields import requested_fields
from sandbox.meta.hosts import FACEBOOK_GRAPH, INSTAGRAM_GRAPH, VERSION
from sandbox.meta.publishing import CONTAINER_ID_PATTERN, Distribution, Publishing, PublishingKnobs, publishing_of
from sandbox.meta.routes.graph import reachable_node

routes = web.RouteTableDef()

HOSTS = (INSTAGRAM_GRAPH, FACEBOOK_GRAPH)
PUBLISH_SCOPE = {INSTAGRAM_GRAPH: "instagram_business_content_publish", FACEBOOK_GRAPH: "instagram_content_publish"}
BASIC_SCOPE = {INSTAGRAM_GRAPH: "instagram_business_basic", FACEBOOK_GRAPH: "instagram_basic"}
CONTAINER_FIELDS = ("id", "status_code", "status")
LIMIT_FIELDS = ("quota_usage", "config")
CAPTION_MAX = 2200


def _paths(suffix: str) -> list[str]:
    return [f"/{host}{version}/{suffix}" for host in HOSTS for version in (f"/{VERSION}", "")]


def _host(request: web.Request) -> str:
    return request.path.lstrip("/").split("/", 1)[0]


async def _params(request: web.Request) -> dict[str, str]:
    """Graph takes parameters in the query or a form body; the form wins."""
    values = {k: v for k, v in request.query.items()}
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded", "multipart/form-data",
    ):
        form = await request.post()
        values.update({k: v for k, v in form.items() if isinstance(v, str)})
    values.pop("access_token", None)
    return values


async def _account(request: web.Request, node: str, scope: dict[str, str]) -> InstagramAccount:
    """The IG account ``node`` names, when the caller's token may act for it."""
    host = _host(request)
    caller = await authenticate(request, host)
    account: InstagramAccount | None = None
    if caller.ig_account is not None:
        if node in (caller.ig_account.ig_user_id, caller.ig_account.app_scoped_id):
            account = caller.ig_account
    else:
        target = reachable_node(meta_of(request), caller, node)
        account = target if isinstance(target, InstagramAccount) else None
    if account is None:
        raise unsupported_request(request.method, node)
    charge_ig_account(request, account.ig_user_id)
    if not caller.has_scope(scope[host]):
        raise permission_missing()
    return account


def _publishing(request: web.Request) -> Publishing:
    return publishing_of(meta_of(request).state)


# --- containers -------------------------------------------------------------------------------
async def create_container(request: web.Request) -> web.Response:
    account = await _account(request, path_param(request, "node"), PUBLISH_SCOPE)
    params = await _params(request)
    publishing = _publishing(request)
    media_type = params.get("media_type", "").upper()
    caption = params.get("caption", "")
    if len(caption) > CAPTION_MAX:
        raise GraphError(36004, "The caption is too long", subcode=2207010)
    if "collaborators" in params and _host(request) == INSTAGRAM_GRAPH:
        raise invalid_parameter("(#100) collaborators is not supported with Instagram Login")
    common: dict[str, Any] = {"caption": caption, "alt_text": params.get("alt_text")}
    is_item = params.get("is_carousel_item", "").lower() == "true"
    if media_type == "CAROUSEL":
        children = [c.strip() for c in params.get("children", "").split(",") if c.strip()]
        if not 2 <= len(children) <= 10:
            raise invalid_parameter("(#100) A carousel needs 2 to 10 children", subcode=2207028)
        for child_id in children:
            child = publishing.containers.get(child_id)
            if child is None or child.ig_user_id != account.ig_user_id or not child.is_carousel_item:
                raise invalid_parameter(f"(#100) Invalid carousel child {child_id}")
            if publishing.status(child)[0] != "FINISHED":
                raise GraphError(9007, "The media is not ready for publishing, please wait for a moment",
                                 subcode=2207027)
        container = publishing.create(account.ig_user_id, "CAROUSEL", children=children, **common)
        return web.json_response({"id": container.container_id})
    if media_type not in ("", "VIDEO", "REELS", "STORIES"):
        raise invalid_parameter(f"(#100) Unsupported media_type {media_type!r}")
    if (media_type == "VIDEO" and not is_item) or (media_type == "" and "video_url" in params):
        raise invalid_parameter("(#100) media_type VIDEO is no longer supported: use REELS", subcode=2207067)
    image_url, video_url = params.get("image_url"), params.get("video_url")
    if media_type in ("REELS", "VIDEO") and not video_url:
        raise invalid_parameter("(#100) The parameter video_url is required")
    if media_type == "" and not image_url:
        raise invalid_parameter("(#100) The parameter image_url is required")
    if media_type == "STORIES" and not (image_url or video_url):
        raise invalid_parameter("(#100) The parameter image_url or video_url is required")
    kind = {"": "IMAGE", "VIDEO": "VIDEO", "REELS": "REELS", "STORIES": "STORIES"}[media_type]
    container = publishing.create(
        account.ig_user_id, kind,  # type: ignore[arg-type]
        image_url=None if video_url and kind != "IMAGE" else image_url,
        video_url=video_url if kind != "IMAGE" else None,
        is_carousel_item=is_item, **common,
    )
    return web.json_response({"id": container.container_id})


async def read_container(request: web.Request) -> web.Response:
    node = path_param(request, "container")
    container = _publishing(request).containers.get(node)
    if container is None:
        raise unsupported_request(request.method, node)
    await _account(request, container.ig_user_id, BASIC_SCOPE)
    fields = requested_fields(request, allowed=CONTAINER_FIELDS, default=("id",), node_type="ShadowIGMediaBuilder")
    status_code, status = _publishing(request).status(container)
    values = {"status_code": status_code, "status": status}
    body: dict[str, Any] = {f.name: values[f.name] for f in fields if f.name != "id"}
    body["id"] = container.container_id
    return web.json_response(body)


async def publishing_limit(request: web.Request) -> web.Response:
    account = await _account(request, path_param(request, "node"), PUBLISH_SCOPE)
    publishing = _publishing(request)
    fields = requested_fields(request, allowed=LIMIT_FIELDS, default=("quota_usage",), node_type="User")
    entry: dict[str, Any] = {}
    for f in fields:
        if f.name == "quota_usage":
            entry["quota_usage"] = publishing.quota_usage(account.ig_user_id)
        else:
            entry["config"] = {
                "quota_total": publishing.quota_total(account.ig_user_id),
                "quota_duration": publishing.knobs.quota_duration_seconds,
            }
    return web.json_response({"data": [entry]})


async def media_publish(request: web.Request) -> web.Response:
    account = await _account(request, path_param(request, "node"), PUBLISH_SCOPE)
    params = await _params(request)
    publishing = _publishing(request)
    creation_id = params.get("creation_id", "")
    container = publishing.containers.get(creation_id)
    if container is None or container.ig_user_id != account.ig_user_id or container.is_carousel_item:
        raise GraphError(24, "The requested resource does not exist", subcode=2207008)
    status_code, _ = publishing.status(container)
    if status_code == "PUBLISHED":
        raise invalid_parameter("(#100) This media has already been published")
    if status_code == "EXPIRED":
        raise GraphError(-2, "The media container has expired", subcode=2207020)
    if status_code != "FINISHED":
        raise GraphError(9007, "The media is not ready for publishing, please wait for a moment",
                         subcode=2207027)
    if publishing.quota_usage(account.ig_user_id) >= publishing.quota_total(account.ig_user_id):
        raise GraphError(9, "Application request limit reached: content publishing limit", subcode=2207042)
    media = publishing.publish(container, meta_of(request).state.media, account.username)
    return web.json_response({"id": media.media_id})


for _path in _paths("{node:\\d+}/media"):
    routes.post(_path)(create_container)
for _path in _paths("{node:\\d+}/media_publish"):
    routes.post(_path)(media_publish)
for _path in _paths("{node:\\d+}/content_publishing_limit"):
    routes.get(_path)(publishing_limit)
for _path in _paths(f"{{container:{CONTAINER_ID_PATTERN}}}"):
    routes.get(_path)(read_container)


# --- control ----------------------------------------------------------------------------------
class PublishingUpdate(BaseModel):
    """Body of ``POST /_sandbox/publishing``: only the given knobs change."""

    model_config = ConfigDict(extra="forbid")

    image_processing: Distribution | None = None
    video_processing: Distribution | None = None
    container_ttl_seconds: float | None = Field(default=None, gt=0)
    quota_total: int | None = Field(default=None, ge=0)
    quota_duration_seconds: int | None = Field(default=None, ge=1)
    seed: int | None = None
    account: str | None = Field(default=None, description="IG user id or username: quota_total for it only")


def _bad_request(message: str) -> web.HTTPBadRequest:
    body = json.dumps({"error": {"code": "invalid_body", "message": message}})
    return web.HTTPBadRequest(text=body, content_type="application/json")


def _knobs_view(publishing: Publishing) -> dict[str, Any]:
    return {**publishing.knobs.model_dump(), "quota_overrides": dict(publishing.quota_overrides)}


@routes.get("/_sandbox/publishing")
async def get_knobs(request: web.Request) -> web.Response:
    return web.json_response(_knobs_view(_publishing(request)))


@routes.post("/_sandbox/publishing")
async def set_knobs(request: web.Request) -> web.Response:
    try:
        update = PublishingUpdate.model_validate_json(await request.read())
    except ValidationError as exc:
        raise _bad_request(str(exc.errors(include_url=False))) from None
    sandbox = meta_of(request)
    publishing = publishing_of(sandbox.state)
    changes = update.model_dump(exclude_unset=True, exclude={"account"})
    if update.account is not None:
        account = sandbox.state.find_ig_account(update.account)
        if account is None or set(changes) - {"quota_total"}:
            raise _bad_request("with account, only quota_total can be set (for a known account)")
        if update.quota_total is not None:
            publishing.quota_overrides[account.ig_user_id] = update.quota_total
    else:
        publishing.configure(PublishingKnobs.model_validate({**publishing.knobs.model_dump(), **changes}))
    return web.json_response(_knobs_view(publishing))


@routes.get("/_sandbox/containers/{container_id}")
async def container_detail(request: web.Request) -> web.Response:
    """A container as the platform sees it (tests: how many containers a post used)."""
    publishing = _publishing(request)
    container = publishing.containers.get(request.match_info["container_id"])
    if container is None:
        raise web.HTTPNotFound(text='{"error":{"code":"not_found","message":"no such container"}}',
                               content_type="application/json")
    status_code, status = publishing.status(container)
    return web.json_response({
        "id": container.container_id, "ig_user_id": container.ig_user_id, "kind": container.kind,
        "status_code": status_code, "status": status, "children": container.children,
        "published_media_id": container.published_media_id,
    })
