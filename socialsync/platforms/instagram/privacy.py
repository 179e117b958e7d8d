"""Meta's privacy callbacks as the Instagram plugin's `PrivacyHooks`: deauthorize and data
deletion both POST a form whose ``signed_request`` is verified against the app secrets
(PLATFORM_FACTS.md §6); the core then disconnects or erases that platform user."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from socialsync.config import Settings
from socialsync.platforms.instagram import signatures
from socialsync.platforms.records import ErasureRequest

class MetaPrivacy:
    """No ``revoke``: Meta's logins have no token revocation; the webhook unsubscribe on
    disconnect is the core's subscription job (the plugin's ``subscriptions``)."""

    deauthorize_reason = "The person removed the app on Meta (deauthorize callback)."

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def parse_callback(self, kind: Literal["deauthorize", "delete_data"], form: Mapping[str, str]) -> ErasureRequest:
        value = form.get("signed_request")
        try:
            payload = signatures.parse_signed_request(value if isinstance(value, str) else None,
                                                      signatures.app_secrets(self.settings))
        except signatures.SignedRequestError as exc:
            raise ValueError(f"signed_request rejected: {exc}") from None
        return ErasureRequest(kind=kind, platform_user_id=payload["user_id"])
