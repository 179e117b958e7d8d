"""Per-account webhook subscription (PLATFORM_FACTS.md §6): ``/me/subscribed_apps``.

Instagram Login: the IG user token on graph.instagram.com; Facebook Login: the page token on
graph.facebook.com (``me`` is then the page). Meta needs ``pages_manage_metadata`` for the
latter: without it the call fails with a permission error, recorded on the account.
"""

from __future__ import annotations

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
