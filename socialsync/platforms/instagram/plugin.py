"""Instagram as a platform plugin (socialsync.platforms.base): spec, errors, rates, connect (both
login flows), tokens, sync, publish, inbound, privacy, webhook subscriptions, comment reads."""

from __future__ import annotations

from typing import Any

from socialsync.platforms.base import Capability, LoginSpec, Platform, PlatformContext, PlatformSpec
from socialsync.platforms.instagram.client import GraphClient
from socialsync.platforms.instagram.comment_reads import InstagramCommentReads
from socialsync.platforms.instagram.connect import InstagramConnect
from socialsync.platforms.instagram.errors import ERRORS
from socialsync.platforms.instagram.inbound import MetaInbound
from socialsync.platforms.instagram.publish import InstagramPublisher
from socialsync.platforms.instagram.publish_validation import PostRequest
from socialsync.platforms.instagram.privacy import MetaPrivacy
from socialsync.platforms.instagram.subscriptions import MetaSubscriptions
from socialsync.platforms.instagram.settings import (
    FACEBOOK_LOGIN_REQUIRED, FACEBOOK_LOGIN_SCOPES, INSTAGRAM_LOGIN_REQUIRED, INSTAGRAM_LOGIN_SCOPES,
)
from socialsync.platforms.instagram.sync import STAGES, InstagramSync
from socialsync.platforms.instagram.tokens import InstagramTokens
from socialsync.platforms.instagram.limits import BUDGET_SCOPE_PREFIXES, FACEBOOK_GRAPH_HOST, INSTAGRAM_GRAPH_HOST, POLICY

SPEC = PlatformSpec(
    name="instagram",
    display_name="Instagram",
    credentials_hint=("SOCIALSYNC_INSTAGRAM_APP_ID + SOCIALSYNC_INSTAGRAM_APP_SECRET (Instagram Login) "
                      "or SOCIALSYNC_META_APP_ID + SOCIALSYNC_META_APP_SECRET (Facebook Login)"),
    post_product_types=("FEED", "REELS"),
    budget_scope_prefixes=BUDGET_SCOPE_PREFIXES,
    account_top_fields=("page_id", "page_name", "insights_unavailable_before"),
    # Meta's webhook verify token, token exchange and signed requests; IG-login tokens
    # ("IGAA…", "IGQV…") and Facebook ones ("EAA…").
    secret_names=frozenset({"hub.verify_token", "fb_exchange_token", "signed_request"}),
    secret_shapes=(r"\b(?:IGAA|IGQV|EAA)[A-Za-z0-9_\-]{16,}",),
    hosts=("www.instagram.com", "api.instagram.com", INSTAGRAM_GRAPH_HOST, "www.facebook.com", FACEBOOK_GRAPH_HOST),
    logins=(
        LoginSpec(
            name="instagram",
            authorize_url="https://www.instagram.com/oauth/authorize",
            token_url="https://api.instagram.com/oauth/access_token",
            scopes=INSTAGRAM_LOGIN_SCOPES,
            required_scopes=INSTAGRAM_LOGIN_REQUIRED,
        ),
        LoginSpec(
            name="facebook",
            authorize_url="https://www.facebook.com/dialog/oauth",
            token_url="https://graph.facebook.com/oauth/access_token",
            scopes=FACEBOOK_LOGIN_SCOPES,
            required_scopes=FACEBOOK_LOGIN_REQUIRED,
            chooses_account=True,
            choice_field="page_id",
            choice_title="Choose a Page",
            choice_prompt="Several of your Facebook Pages have an Instagram professional account. Pick one.",
        ),
    ),
    capabilities=frozenset(Capability),
    sync_kinds=STAGES,
    webhook_source="meta",
    webhook_signature_header="X-Hub-Signature-256",
    privacy_callbacks=True,
)


class InstagramPlatform(Platform):
    spec = SPEC
    post_request_model = PostRequest  # checked strictly at the API boundary (the OpenAPI body)

    def __init__(self, context: PlatformContext) -> None:
        super().__init__(context)
        self.errors = ERRORS
        self.rates = POLICY
        self.connect = InstagramConnect(context)
        self.subscriptions = MetaSubscriptions(context)
        self.inbound = MetaInbound(context.settings)
        self.sync = InstagramSync(context)
        self.tokens = InstagramTokens(context)
        self.privacy = MetaPrivacy(context.settings)
        self.publish = InstagramPublisher(context)
        # the core's comment backfill and mention look-ups (socialsync/comments/backfill.py)
        self.comment_reads = InstagramCommentReads(context)
        # comments.perform_action: a stored action, at most once towards Meta (moderation.py)
        from socialsync.platforms.instagram.moderation import InstagramActionModeration  # noqa: PLC0415 - it imports graph_of

        self.action_moderation = InstagramActionModeration()

    @property
    def graph(self) -> GraphClient:
        """A Graph client whose every call passes the rate-limit governor (ARCHITECTURE §4.4)."""
        return GraphClient(self.context.http, governor=self.context.governor)


def graph_of(services: Any) -> GraphClient:
    """The governed Graph client of a process: its Instagram plugin's (``services.platforms``)."""
    plugin: InstagramPlatform = services.platforms.get(SPEC.name)
    return plugin.graph
