"""Facebook Login's page choice: the pages offered to the person, kept until they pick one.

A Facebook-Login user with several Pages that carry an Instagram professional account is shown
a choice (the core's generic choice page, ``/oauth/facebook/select``): the connector's `Choice`
(connect.py). Until they pick, the core keeps the offer in Redis under the same OAuth state
value (``socialsync.oauth_state`` pending slot, single use, the state's TTL) as
``{"state": <the OAuth state>, **pending}``, the page tokens inside encrypted.

That JSON is the one the previous release wrote (``{"state", "granted_scopes", "fb_user_id",
"pages": [{"page_id", "page_name", "ig_user_id", "page_token_ciphertext"}]}`` under
``oauth:pending:<state>``), so a choice begun before an upgrade is still completed after it.
"""

from __future__ import annotations

from pydantic import BaseModel

from socialsync.oauth_state import OAuthState


class PendingPage(BaseModel):
    page_id: str
    page_name: str | None
    ig_user_id: str
    page_token_ciphertext: str


class PendingSelection(BaseModel):
    """A Facebook-Login flow waiting for the person to choose a page."""

    state: OAuthState
    granted_scopes: list[str]
    fb_user_id: str | None
    pages: list[PendingPage]
