"""Calling the Graph API *as* a connected account: its token, its host, its IG user id."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from socialsync.config import Settings
from socialsync.crypto import TokenCipher
from socialsync.platforms.errors import AccountUnavailable  # noqa: F401 - re-exported


@dataclass(frozen=True)
class AccountAccess:
    account_id: str  # ours
    tenant_id: str
    ig_user_id: str  # Meta's
    login: str  # "instagram" | "facebook"
    base: str  # host + version, e.g. https://graph.instagram.com/v24.0
    token: str = field(repr=False)

    @property
    def external_id(self) -> str:
        """The platform's id of the account (the core's name for it)."""
        return self.ig_user_id

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"


def access_for(account: dict[str, Any], settings: Settings, cipher: TokenCipher) -> AccountAccess:
    """Everything needed to call the API for this account document (decrypts its token)."""
    if account.get("status") != "active" or not account.get("token"):
        raise AccountUnavailable(
            f"account {account.get('_id')} is {account.get('status')}: {account.get('status_reason') or 'no token'}"
        )
    host = settings.ig_graph if account["login"] == "instagram" else settings.fb_graph
    return AccountAccess(
        account_id=account["_id"],
        tenant_id=account["tenant_id"],
        ig_user_id=account["external_id"],
        login=account["login"],
        base=f"{host}/{settings.graph_version}",
        token=cipher.decrypt(account["token"]["ciphertext"]),
    )
