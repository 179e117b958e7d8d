"""The real hosts the sandbox mirrors, each under a path prefix named after it.

``https://HOST/PATH`` is served at ``http://SANDBOX/HOST/PATH`` (socialsync.config.sandbox_base).
"""

from __future__ import annotations

INSTAGRAM_WWW = "www.instagram.com"
INSTAGRAM_API = "api.instagram.com"
INSTAGRAM_GRAPH = "graph.instagram.com"
FACEBOOK_WWW = "www.facebook.com"
FACEBOOK_GRAPH = "graph.facebook.com"
CDN = "scontent.cdninstagram.com"

GRAPH_HOSTS = frozenset({INSTAGRAM_GRAPH, FACEBOOK_GRAPH})
CONTROL_PREFIX = "/_sandbox/"

# Route pattern of the optional Graph version segment ("v24.0").
VERSION = "{version:v\\d+\\.\\d+}"


def host_of(path: str) -> str:
    """The mirrored host a sandbox path belongs to ("" for the control API and aliases)."""
    first = path.lstrip("/").split("/", 1)[0]
    return first if "." in first else ""


def is_control(path: str) -> bool:
    """The control API and the index page: not platform traffic (not counted, never faulted)."""
    return path == "/" or path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/")
