"""Platform name -> plugin. Adding a platform adds one line to ``PLATFORMS``, nothing else here.

Plugins are named by import path (``"package.module:Class"``) so that importing the registry
imports no platform: a process builds the plugins once, from its services, with `Registry.build`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module

from socialsync.platforms.base import Capability, CapabilityUnavailable, Platform, PlatformContext

PLATFORMS: Mapping[str, str] = {
    "instagram": "socialsync.platforms.instagram.plugin:InstagramPlatform",
    "youtube": "socialsync.platforms.youtube.plugin:YouTubePlatform",
    "tiktok": "socialsync.platforms.tiktok.plugin:TikTokPlatform",
}


class UnknownPlatform(KeyError):
    """No plugin of that name (an old document, a typo in a URL): the API answers 404."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown platform {self.name!r}"


def plugin_class(name: str) -> type[Platform]:
    try:
        target = PLATFORMS[name]
    except KeyError:
        raise UnknownPlatform(name) from None
    module, _, attr = target.partition(":")
    cls = getattr(import_module(module), attr)
    if cls.spec.name != name:
        raise RuntimeError(f"{target} declares platform {cls.spec.name!r}, registered as {name!r}")
    return cls


class Registry:
    """The plugins of one process, built once (they hold no per-request state)."""

    def __init__(self, plugins: Mapping[str, Platform]) -> None:
        self._plugins = dict(plugins)
        self._by_source = {p.spec.webhook_source: p for p in self._plugins.values() if p.spec.webhook_source}

    @classmethod
    def build(cls, context: PlatformContext, names: list[str] | None = None) -> "Registry":
        return cls({name: plugin_class(name)(context) for name in (names or list(PLATFORMS))})

    def get(self, name: str) -> Platform:
        try:
            return self._plugins[name]
        except KeyError:
            raise UnknownPlatform(name) from None

    def for_account(self, account: Mapping[str, object]) -> Platform:
        """The plugin of a stored account (documents before the platform field: Instagram)."""
        from socialsync.store.migrations import platform_of  # noqa: PLC0415 - store imports platforms

        return self.get(platform_of(account))

    def for_source(self, source: str) -> Platform:
        """The plugin that owns a webhook source (``/webhooks/{source}``)."""
        try:
            return self._by_source[source]
        except KeyError:
            raise UnknownPlatform(source) from None

    def capable(self, name: str, capability: Capability) -> Platform:
        """The plugin, or `CapabilityUnavailable` when it does not declare the capability."""
        plugin = self.get(name)
        plugin.require(capability)
        return plugin

    def with_capability(self, capability: Capability) -> list[Platform]:
        return [p for p in self._plugins.values() if capability in p.spec.capabilities]

    @property
    def names(self) -> list[str]:
        return list(self._plugins)

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._plugins.values())

    def __contains__(self, name: object) -> bool:
        return name in self._plugins


__all__ = ["PLATFORMS", "CapabilityUnavailable", "Registry", "UnknownPlatform", "plugin_class"]
