"""Instagram API with Facebook Login: the dialog, code exchange, long-lived user tokens.

PLATFORM_FACTS.md §1b. Every failure answers in the Graph error shape: code 100 (with Meta's
36007/36008/36009 subcodes for expired / mismatched / used codes), 190 for bad tokens.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.meta.access import check_token
from sandbox.meta.world import note_account, meta_of
from sandbox.meta.errors import invalid_parameter
from sandbox.meta.hosts import FACEBOOK_GRAPH, FACEBOOK_WWW, VERSION
from sandbox.meta.routes.consent import ConsentChoice, Subject, answer_consent, error_page, valid_redirect_uri
from sandbox.meta.tokens import TokenKind
from sandbox.meta.config import MetaConfig

routes = web.RouteTableDef()


@routes.get(f"/{FACEBOOK_WWW}/{VERSION}/dialog/oauth")
@routes.get(f"/{FACEBOOK_WWW}/dialog/oauth")
async def dialog(request: web.Request) -> web.Response:
    """The login dialog; ``sandbox_decision`` answers it without a browser."""
    sandbox = meta_of(request)
    query = request.query
    if query.get("client_id") != MetaConfig.of(sandbox.config).meta_client_id:
        return error_page(
            "Invalid App ID", "The provided app ID does not look like a valid app ID."
        )
    redirect_uri = query.get("redirect_uri", "")
    if not valid_redirect_uri(redirect_uri):
        return error_page("URL Blocked", "redirect_uri must be an absolute http(s) URL.")
    if query.get("response_type", "code") != "code":
        return error_page("Unsupported", "The sandbox only supports response_type=code.")

    def find(key: str) -> Subject | None:
        user = sandbox.state.find_fb_user(key)
        return Subject(user.user_id, user.username) if user else None

    return answer_consent(
        request,
        flow="facebook",
        platform="Facebook",
        client_id=MetaConfig.of(sandbox.config).meta_client_id,
        choices=lambda: [
            ConsentChoice(
                u.username,
                f"{u.name} ({u.username}) - pages: "
                + (", ".join(p.name for p in sandbox.state.pages_of(u)) or "none"),
            )
            for u in sandbox.state.fb_users.values()
        ],
        find=find,
        deny_params={
            "error": "access_denied",
            "error_code": "200",
            "error_description": "Permissions error",
            "error_reason": "user_denied",
        },
        unknown_account="sandbox_account names no Facebook user.",
    )


@routes.get(f"/{FACEBOOK_GRAPH}/{VERSION}/oauth/access_token")
@routes.get(f"/{FACEBOOK_GRAPH}/oauth/access_token")
async def access_token(request: web.Request) -> web.Response:
    """Code → short-lived user token, or (fb_exchange_token) → long-lived user token."""
    sandbox = meta_of(request)
    config = MetaConfig.of(sandbox.config)
    query = request.query
    if not query.get("client_id"):
        raise invalid_parameter("Missing client_id parameter.")
    if query["client_id"] != config.meta_client_id:
        raise invalid_parameter("Error validating application. Invalid application ID.")
    if not query.get("client_secret"):
        raise invalid_parameter("Missing client_secret parameter.")
    if query["client_secret"] != config.meta_client_secret:
        raise invalid_parameter("Error validating client secret.")

    grant_type = query.get("grant_type")
    if grant_type == "fb_exchange_token":
        if not query.get("fb_exchange_token"):
            raise invalid_parameter("Missing fb_exchange_token parameter.")
        short = check_token(request, query["fb_exchange_token"], FACEBOOK_GRAPH)
        note_account(request, short.subject_id)
        if not short.kind.is_user_token:
            raise invalid_parameter("fb_exchange_token must be a user access token.")
        long_lived = sandbox.state.issue_token(
            TokenKind.FB_USER_LONG,
            subject_id=short.subject_id,
            login_username=short.login_username,
            scopes=short.scopes,
            declined=short.declined,
            ttl_seconds=config.long_token_ttl_seconds,
        )
        return _bearer(long_lived.value, config.long_token_ttl_seconds)
    if grant_type not in (None, "authorization_code"):
        raise invalid_parameter(f"Unsupported grant_type: {grant_type}")

    if not query.get("redirect_uri"):
        raise invalid_parameter("Missing redirect_uri parameter.")
    if not query.get("code"):
        raise invalid_parameter("Missing code parameter.")
    code = sandbox.state.codes.get(query["code"])
    if code is None or code.flow != "facebook" or code.client_id != query["client_id"]:
        raise invalid_parameter("Invalid verification code format.")
    note_account(request, code.subject_id)
    if code.used:
        raise invalid_parameter("This authorization code has been used.", subcode=36009)
    if sandbox.clock.now() >= code.issued_at + config.code_ttl_seconds:
        raise invalid_parameter("This authorization code has expired.", subcode=36007)
    if code.redirect_uri != query["redirect_uri"]:
        raise invalid_parameter(
            "Error validating verification code. Please make sure your redirect_uri is "
            "identical to the one you used in the OAuth dialog request",
            subcode=36008,
        )
    code.used = True
    token = sandbox.state.issue_token(
        TokenKind.FB_USER_SHORT,
        subject_id=code.subject_id,
        login_username=code.login_username,
        scopes=code.scopes,
        declined=code.declined,
        ttl_seconds=config.fb_short_token_ttl_seconds,
    )
    return _bearer(token.value, config.fb_short_token_ttl_seconds)


def _bearer(value: str, expires_in: int) -> web.Response:
    return web.json_response(
        {"access_token": value, "token_type": "bearer", "expires_in": expires_in}
    )
