"""The seeded world: a fixed set of accounts every test and local run starts from.

Ids are fixed so tests, fixtures and docs can name them. Covers the cases a client must handle:
a plain and a "wrapped" Instagram Login account, a Facebook user with one linked page, one with
several pages (one without Instagram), and one with no Instagram at all.
"""

from __future__ import annotations

from sandbox.meta.accounts import FacebookPage, FacebookUser, InstagramAccount
from sandbox.meta.state import SandboxState

SANDBOX_CREATOR_ID = "17841400000000101"
SANDBOX_NEWBIE_ID = "17841400000000102"
SINGLE_BRAND_IG_ID = "17841400000000111"
BRAND_A_IG_ID = "17841400000000112"
BRAND_B_IG_ID = "17841400000000113"
FB_SINGLE_ID = "10000000000000201"
FB_MULTI_ID = "10000000000000202"
FB_NOIG_ID = "10000000000000203"
SINGLE_PAGE_ID = "20000000000000301"
BRAND_A_PAGE_ID = "20000000000000302"
BRAND_B_PAGE_ID = "20000000000000303"
NO_IG_PAGE_ID = "20000000000000304"
LONELY_PAGE_ID = "20000000000000305"


def seed(state: SandboxState) -> None:
    """Populate an empty state with the seeded accounts."""
    state.add_instagram_account(
        InstagramAccount(
            ig_user_id=SANDBOX_CREATOR_ID,
            username="sandbox_creator",
            name="Sandbox Creator",
            account_type="BUSINESS",
            followers_count=12500,
            follows_count=310,
            media_count=0,
            biography="Testing socialsync against the sandbox.",
            website="https://example.com/creator",
        )
    )
    state.add_instagram_account(
        InstagramAccount(
            ig_user_id=SANDBOX_NEWBIE_ID,
            username="sandbox_newbie",
            name="Sandbox Newbie",
            account_type="MEDIA_CREATOR",
            followers_count=40,
            follows_count=85,
            media_count=0,
            token_response_style="wrapped",
        )
    )

    _fb_user(
        FacebookUser(user_id=FB_SINGLE_ID, username="fb_single", name="Fiona Single"),
        [
            (
                FacebookPage(SINGLE_PAGE_ID, "Single Brand Page", FB_SINGLE_ID, SINGLE_BRAND_IG_ID),
                InstagramAccount(
                    ig_user_id=SINGLE_BRAND_IG_ID,
                    username="single_brand",
                    name="Single Brand",
                    followers_count=8200,
                    follows_count=120,
                    biography="The one brand of fb_single.",
                    website="https://example.com/single",
                ),
            )
        ],
        state,
    )
    _fb_user(
        FacebookUser(user_id=FB_MULTI_ID, username="fb_multi", name="Marco Multi"),
        [
            (
                FacebookPage(BRAND_A_PAGE_ID, "Brand A", FB_MULTI_ID, BRAND_A_IG_ID),
                InstagramAccount(
                    ig_user_id=BRAND_A_IG_ID,
                    username="brand_a",
                    name="Brand A",
                    followers_count=54000,
                    follows_count=410,
                    biography="Brand A official.",
                    website="https://example.com/a",
                ),
            ),
            (
                FacebookPage(BRAND_B_PAGE_ID, "Brand B", FB_MULTI_ID, BRAND_B_IG_ID),
                InstagramAccount(
                    ig_user_id=BRAND_B_IG_ID,
                    username="brand_b",
                    name="Brand B",
                    account_type="MEDIA_CREATOR",
                    followers_count=2300,
                    follows_count=95,
                    biography="Brand B, creator account.",
                ),
            ),
            (FacebookPage(NO_IG_PAGE_ID, "No IG Page", FB_MULTI_ID), None),
        ],
        state,
    )
    _fb_user(
        FacebookUser(user_id=FB_NOIG_ID, username="fb_noig", name="Nora NoIG"),
        [(FacebookPage(LONELY_PAGE_ID, "Lonely Page", FB_NOIG_ID), None)],
        state,
    )


def _fb_user(
    user: FacebookUser,
    pages: list[tuple[FacebookPage, InstagramAccount | None]],
    state: SandboxState,
) -> None:
    for page, ig in pages:
        if ig is not None:
            ig.instagram_login = False
            ig.page_id = page.page_id
            state.add_instagram_account(ig)
    state.add_fb_user(user, [page for page, _ in pages])
