"""Which connect flow a URL or a ``/v1/connect`` body names, for every platform alike.

A flow is one of a platform's logins (``spec.logins``). Its name is the segment of its public
callback URL ``/oauth/{flow}/callback`` (registered in the platform's developer app) and the
``login`` kept in the OAuth state: the login's own name when a platform has several (Instagram:
``instagram`` = Instagram Login, ``facebook`` = Facebook Login), else the platform's name
(``tiktok``, ``youtube``), which is also what its connector is handed as ``login``.
"""

from __future__ import annotations

from dataclasses import dataclass

from socialsync.platforms.base import LoginSpec, Platform
from socialsync.platforms.registry import Registry


@dataclass(frozen=True)
class Flow:
    name: str          # URL segment and OAuth state ``login``
    plugin: Platform
    login: LoginSpec

    @property
    def connector_login(self) -> str:
        """The ``login`` argument of the connector's calls."""
        return self.name


def flows_of(plugin: Platform) -> list[Flow]:
    logins = plugin.spec.logins
    if len(logins) == 1:
        return [Flow(plugin.name, plugin, logins[0])]
    return [Flow(login.name, plugin, login) for login in logins]


def resolve(registry: Registry, name: str) -> Flow | None:
    """The flow of a callback URL segment, or None (no platform connects that way)."""
    for plugin in registry:
        if plugin.connect is None:
            continue
        for flow in flows_of(plugin):
            if flow.name == name:
                return flow
    return None


def choose(plugin: Platform, login: str | None) -> Flow:
    """The flow a ``/v1/connect`` body asks for: ``login`` picks one of several (default: the
    first); a platform with one login ignores it. ValueError names the logins it accepts."""
    flows = flows_of(plugin)
    if len(flows) == 1 or login is None:
        return flows[0]
    for flow in flows:
        if flow.name == login:
            return flow
    raise ValueError(f"must be one of {', '.join(f.name for f in flows)} for {plugin.name}")
