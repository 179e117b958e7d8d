"""Per-account webhook subscription (PLATFORM_FACTS.md §6): ``/me/subscribed_apps``, as the
plugin's `Subscriptions` part (the core's ``webhooks.subscribe`` / ``webhooks.unsubscribe`` jobs
call it after a connect / disconnect and retry it).

Instagram Login: the IG user token on graph.instagram.com; Facebook Login: the page token on
graph.facebook.com (``me`` is then the page). Meta needs ``pages_manage_metadata`` for the
latter: without it the call fails with a permission error, recorded on the account.
"""

from __future__ import annotations

from typing import Any

from socialsync.platforms.base import AccountRef, SubscriptionState
from socialsync.platforms.instagram.access import AccountAccess
from socialsync.platforms.instagram.client import GraphClient


async def subscribe(graph: GraphClient, access: AccountAccess, fields: list[str]) -> None:
    await graph.post_form(
        access.url("me/subscribed_apps"), {"subscribed_fields": ",".join(fields)},
        token=access.token, account_id=access.ig_user_id,
    )


async def unsubscribe(graph: GraphClient, access: AccountAccess) -> None:
    await graph.request("DELETE", access.url("me/subscribed_apps"), token=access.token, account_id=access.ig_user_id)


async def subscribed_fields(graph: GraphClient, access: AccountAccess) -> list[str]:
    body = await graph.get(access.url("me/subscribed_apps"), token=access.token, account_id=access.ig_user_id)
    fields: list[str] = []
    for app in body.get("data", []):
        fields += app.get("subscribed_fields", [])
    return fields


class MetaSubscriptions:
    """The app's subscription to an account's changes (``webhook_subscribed_fields``)."""

    def __init__(self, context: Any) -> None:
        self.context = context

    @property
    def fields(self) -> list[str]:
        return list(self.context.settings.webhook_subscribed_fields)

    def _call(self, account: AccountRef) -> tuple[GraphClient, AccountAccess]:
        from socialsync.platforms.instagram.plugin import graph_of  # noqa: PLC0415 - plugin imports this

        settings = self.context.settings
        host = settings.ig_graph if account.login == "instagram" else settings.fb_graph
        access = AccountAccess(
            account_id=account.id, tenant_id=account.tenant_id, ig_user_id=account.external_id,
            login=account.login, base=f"{host}/{settings.graph_version}", token=account.credentials.access_token,
        )
        return graph_of(self.context), access

    async def subscribe(self, account: AccountRef) -> SubscriptionState:
        fields = self.fields
        await subscribe(*self._call(account), fields)
        return SubscriptionState("subscribed", fields)

    async def unsubscribe(self, account: AccountRef) -> SubscriptionState:
        await unsubscribe(*self._call(account))
        return SubscriptionState("unsubscribed")
