"""The Meta hosts the sandbox mirrors, each a sub-app under a path prefix named after it."""

from __future__ import annotations

from sandbox.hosts import host_of

INSTAGRAM_WWW = "www.instagram.com"
INSTAGRAM_API = "api.instagram.com"
INSTAGRAM_GRAPH = "graph.instagram.com"
FACEBOOK_WWW = "www.facebook.com"
FACEBOOK_GRAPH = "graph.facebook.com"
CDN = "scontent.cdninstagram.com"

HOSTS = (INSTAGRAM_WWW, INSTAGRAM_API, INSTAGRAM_GRAPH, FACEBOOK_WWW, FACEBOOK_GRAPH, CDN)
GRAPH_HOSTS = frozenset({INSTAGRAM_GRAPH, FACEBOOK_GRAPH})

# Route pattern of the optional Graph version segment ("v24.0").
VERSION = "{version:v\\d+\\.\\d+}"

__all__ = ["CDN", "FACEBOOK_GRAPH", "FACEBOOK_WWW", "GRAPH_HOSTS", "HOSTS", "INSTAGRAM_API",
           "INSTAGRAM_GRAPH", "INSTAGRAM_WWW", "VERSION", "host_of"]
