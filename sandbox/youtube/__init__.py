"""The YouTube / Google part of the sandbox (PLATFORM_FACTS_TIKTOK_YOUTUBE.md §6-§10).

One aiohttp sub-app per mirrored host, over the shared clock, faults, stats and request log;
the YouTube state lives on the shared ``Sandbox`` (``sandbox.platforms["youtube"]``) and is
rebuilt by ``POST /_sandbox/reset``. Control routes: ``sandbox/youtube/control.py``.
"""

from __future__ import annotations

from aiohttp import web

from sandbox.context import Sandbox
from sandbox.youtube import analytics, control, data_api, hub, oauth, upload
from sandbox.youtube.access import PLATFORM, api_faults_middleware
from sandbox.youtube.errors import google_errors_middleware
from sandbox.youtube.seed import seed_youtube
from sandbox.youtube.state import YouTubeState

ACCOUNTS = "accounts.google.com"
OAUTH2 = "oauth2.googleapis.com"
API = "www.googleapis.com"
ANALYTICS = "youtubeanalytics.googleapis.com"
HUB = "pubsubhubbub.appspot.com"
HOSTS: tuple[str, ...] = (ACCOUNTS, OAUTH2, API, ANALYTICS, HUB)

_ROUTES = {
    ACCOUNTS: (oauth.consent_routes,),
    OAUTH2: (oauth.token_routes,),
    API: (data_api.routes, upload.routes),
    ANALYTICS: (analytics.routes,),
    HUB: (hub.routes,),
}


def fresh_state(clock: object) -> YouTubeState:
    state = YouTubeState(clock)  # type: ignore[arg-type]
    seed_youtube(state)
    return state


def mount(root: web.Application, sandbox: Sandbox) -> None:
    """Add the YouTube hosts as sub-apps of ``root`` and the control routes."""
    sandbox.register(PLATFORM, lambda sb: fresh_state(sb.clock))
    for host in HOSTS:
        sub = web.Application(middlewares=[api_faults_middleware, google_errors_middleware])
        for table in _ROUTES[host]:
            sub.add_routes(table)
        root.add_subapp("/" + host, sub)
    root.add_routes(control.routes)
