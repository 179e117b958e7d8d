"""The process's platform plugins, built once from its services (``plugins_of(services)``).

Until the core drives every platform through the interface (issue 8), the platforms that
plug in only through it (TikTok first) are served by the platform-neutral drivers beside this
module: ``platform_accounts`` (store), ``platform_inbound``, and the routes in
``webhooks/routes/platform_*.py``. Instagram keeps its own paths meanwhile. Sync and tokens are
the core's for every platform (``socialsync/sync/``, ``socialsync/tokens.py``).
"""

from __future__ import annotations

from typing import Any

from socialsync.platforms.base import Platform
from socialsync.platforms.registry import Registry

# Platforms served by the interface-only drivers (Instagram still has its own routes/jobs).
INTERFACE_PLATFORMS = ("tiktok", "youtube")


def plugins_of(services: Any) -> Registry:
    """The registry of this process (cached on the services object)."""
    registry = getattr(services, "_plugins", None)
    if registry is None:
        registry = Registry.build(services, list(INTERFACE_PLATFORMS))
        services._plugins = registry
    return registry


def plugin_for(services: Any, platform: str) -> Platform:
    return plugins_of(services).get(platform)


def is_interface_platform(platform: str | None) -> bool:
    return platform in INTERFACE_PLATFORMS
