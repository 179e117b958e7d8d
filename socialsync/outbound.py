"""Where socialsync may send requests on a tenant's behalf (CRM callback URLs): an SSRF guard.

A tenant chooses the URL that the worker POSTs events to, so without a guard it could point the
worker at the metadata service, Redis, MongoDB or anything else on the private network. Checks:
- at registration: http(s) only, no credentials in the URL, and a literal IP address or
  ``localhost`` must be a public address;
- at every delivery: the host is resolved and *every* address must be public (a name that later
  resolves to a private address is refused then).
Private targets are allowed only when ``CRM_EVENT_ALLOW_PRIVATE_TARGETS`` is true, which is the
default in sandbox mode (a CRM on localhost during development).

Not covered: a DNS answer that changes between this check and httpx's own resolution a moment
later (rebinding); pinning the checked address in the transport would close that.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from socialsync.config import Settings

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})


class DestinationRefused(ValueError):
    """The URL may not be called by socialsync (a private or malformed destination)."""


def allow_private(settings: Settings) -> bool:
    if settings.crm_event_allow_private_targets is not None:
        return settings.crm_event_allow_private_targets
    return settings.sandbox_mode


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, settings: Settings) -> None:
    """Registration-time checks (no DNS: the name may not resolve yet)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused("The URL must be an absolute http(s) URL.")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("The URL must not carry credentials.")
    if allow_private(settings):
        return
    host = parts.hostname.lower()
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        raise DestinationRefused("The URL points at this machine; use a public address.")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return
    if not _is_public(str(literal)):
        raise DestinationRefused(f"{host} is not a public address.")


async def check_destination(url: str, settings: Settings) -> None:
    """Delivery-time check: every address the host resolves to must be public."""
    check_url(url, settings)
    if allow_private(settings):
        return
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DestinationRefused(f"{parts.hostname} does not resolve ({exc.strerror}).") from None
    private = sorted({info[4][0] for info in infos if not _is_public(info[4][0])})
    if private:
        raise DestinationRefused(f"{parts.hostname} resolves to a non-public address ({', '.join(private)}).")
