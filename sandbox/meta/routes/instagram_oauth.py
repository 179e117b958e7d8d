"""Instagram API with Instagram Login: authorize page, code exchange, long-lived tokens.

PLATFORM_FACTS.md §1a. The code exchange answers in api.instagram.com's flat error shape; the
token endpoints on graph.instagram.com answer Graph errors.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.meta.access import check_token
from sandbox.meta.world import note_account, meta_of
from sandbox.meta.errors import GraphError, InstagramOAuthError, invalid_parameter
from sandbox.meta.hosts import INSTAGRAM_API, INSTAGRAM_GRAPH, INSTAGRAM_WWW, VERSION
from sandbox.meta.routes.consent import ConsentChoice, Subject, answer_consent, error_page, valid_redirect_uri
from sandbox.meta.tokens import TokenKind
from sandbox.meta.config import MetaConfig

routes = web.RouteTableDef()


@routes.get(f"/{INSTAGRAM_WWW}/oauth/authorize")
@routes.get(f"/{INSTAGRAM_API}/oauth/authorize")
@routes.get("/oauth/authorize")
async def authorize(request: web.Request) -> web.Response:
    """The authorization window; ``sandbox_decision`` answers it without a browser."""
    sandbox = meta_of(request)
    query = request.query
    if query.get("client_id") != MetaConfig.of(sandbox.config).ig_client_id:
        return error_page("Invalid Request", "Invalid platform app: unknown client_id.")
    redirect_uri = query.get("redirect_uri", "")
    if not valid_redirect_uri(redirect_uri):
        return error_page(
            "Invalid Request", "Invalid redirect_uri: an absolute http(s) URL is required."
        )
    if query.get("response_type") != "code":
        return error_page("Invalid Request", "response_type must be 'code'.")

    def find(key: str) -> Subject | None:
        account = sandbox.state.find_instagram_login_account(key)
        return Subject(account.ig_user_id, account.username) if account else None

    return answer_consent(
        request,
        flow="instagram",
        platform="Instagram",
        client_id=MetaConfig.of(sandbox.config).ig_client_id,
        choices=lambda: [
            ConsentChoice(a.username, f"@{a.username} - {a.name} ({a.account_type})")
            for a in sandbox.state.instagram_login_accounts()
        ],
        find=find,
        deny_params={
            "error": "access_denied",
            "error_reason": "user_denied",
            "error_description": "The user denied your request.",
        },
        unknown_account="sandbox_account names no Instagram Login account.",
    )


@routes.post(f"/{INSTAGRAM_API}/oauth/access_token")
async def exchange_code(request: web.Request) -> web.Response:
    """Authorization code → short-lived token (1 h). Single use, bound to app + redirect URI."""
    sandbox = meta_of(request)
    config = MetaConfig.of(sandbox.config)
    form = await request.post()
    fields: dict[str, str] = {k: v for k, v in form.items() if isinstance(v, str)}
    for name in ("client_id", "client_secret", "grant_type", "redirect_uri", "code"):
        if not fields.get(name):
            raise InstagramOAuthError(f"Missing required field {name}")
    if fields["client_id"] != config.ig_client_id:
        raise InstagramOAuthError("Invalid platform app")
    if fields["client_secret"] != config.ig_client_secret:
        raise InstagramOAuthError("Error validating client secret.")
    if fields["grant_type"] != "authorization_code":
        raise InstagramOAuthError("Invalid grant_type: authorization_code is required")

    code = sandbox.state.codes.get(fields["code"])
    if code is None or code.flow != "instagram" or code.client_id != fields["client_id"]:
        raise InstagramOAuthError("Invalid authorization code")
    note_account(request, code.subject_id)
    if code.used:
        raise InstagramOAuthError("This authorization code has been used")
    if sandbox.clock.now() >= code.issued_at + config.code_ttl_seconds:
        raise InstagramOAuthError("This authorization code has expired")
    if code.redirect_uri != fields["redirect_uri"]:
        raise InstagramOAuthError(
            "Error validating verification code. Please make sure your redirect_uri is "
            "identical to the one you used in the OAuth dialog request"
        )
    code.used = True

    account = sandbox.state.ig_accounts[code.subject_id]
    token = sandbox.state.issue_token(
        TokenKind.IG_SHORT,
        subject_id=account.ig_user_id,
        login_username=code.login_username,
        scopes=code.scopes,
        declined=code.declined,
        ttl_seconds=config.ig_short_token_ttl_seconds,
    )
    grant: dict[str, Any] = {
        "access_token": token.value,
        # A JSON number, as Meta sends it: clients must turn ids into strings themselves.
        "user_id": int(account.app_scoped_id),
        "permissions": ",".join(code.scopes),
    }
    if account.token_response_style == "wrapped":
        return web.json_response({"data": [grant]})
    return web.json_response(grant)


@routes.get(f"/{INSTAGRAM_GRAPH}/{VERSION}/access_token")
@routes.get(f"/{INSTAGRAM_GRAPH}/access_token")
async def exchange_for_long_lived(request: web.Request) -> web.Response:
    """Short-lived → long-lived (60 days). Needs the app secret: server side only."""
    sandbox = meta_of(request)
    query = request.query
    if query.get("grant_type") != "ig_exchange_token":
        raise invalid_parameter("Unsupported grant_type: expected ig_exchange_token")
    if not query.get("client_secret"):
        raise invalid_parameter("Missing client_secret parameter.")
    if query["client_secret"] != MetaConfig.of(sandbox.config).ig_client_secret:
        raise invalid_parameter("Error validating client secret.")
    if not query.get("access_token"):
        raise invalid_parameter("Missing access_token parameter.")
    short = check_token(request, query["access_token"], INSTAGRAM_GRAPH)
    note_account(request, short.subject_id)
    if short.kind is not TokenKind.IG_SHORT:
        raise invalid_parameter(
            "Only a short-lived access token can be exchanged for a long-lived one."
        )
    long_lived = sandbox.state.issue_token(
        TokenKind.IG_LONG,
        subject_id=short.subject_id,
        login_username=short.login_username,
        scopes=short.scopes,
        declined=short.declined,
        ttl_seconds=MetaConfig.of(sandbox.config).long_token_ttl_seconds,
    )
    return _bearer(long_lived.value, MetaConfig.of(sandbox.config).long_token_ttl_seconds)


@routes.get(f"/{INSTAGRAM_GRAPH}/{VERSION}/refresh_access_token")
@routes.get(f"/{INSTAGRAM_GRAPH}/refresh_access_token")
async def refresh(request: web.Request) -> web.Response:
    """Long-lived → new long-lived; only once 24 h old and before expiry. The old one dies."""
    sandbox = meta_of(request)
    query = request.query
    if query.get("grant_type") != "ig_refresh_token":
        raise invalid_parameter("Unsupported grant_type: expected ig_refresh_token")
    if not query.get("access_token"):
        raise invalid_parameter("Missing access_token parameter.")
    old = check_token(request, query["access_token"], INSTAGRAM_GRAPH)
    note_account(request, old.subject_id)
    if old.kind is not TokenKind.IG_LONG:
        raise invalid_parameter("Only a long-lived access token can be refreshed.")
    age = sandbox.clock.now() - old.issued_at
    if age < MetaConfig.of(sandbox.config).refresh_min_age_seconds:
        raise GraphError(
            100,
            "The access token cannot be refreshed yet: it must be at least 24 hours old "
            f"(it is {int(age)} seconds old).",
        )
    new = sandbox.state.issue_token(
        TokenKind.IG_LONG,
        subject_id=old.subject_id,
        login_username=old.login_username,
        scopes=old.scopes,
        declined=old.declined,
        ttl_seconds=MetaConfig.of(sandbox.config).long_token_ttl_seconds,
    )
    old.replaced = True
    return _bearer(new.value, MetaConfig.of(sandbox.config).long_token_ttl_seconds)


def _bearer(value: str, expires_in: int) -> web.Response:
    return web.json_response(
        {"access_token": value, "token_type": "bearer", "expires_in": expires_in}
    )
