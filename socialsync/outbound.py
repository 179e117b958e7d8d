"""Where socialsync may send requests on a tenant's behalf (CRM callback URLs): an SSRF guard.

A tenant chooses the URL that the worker POSTs events to, so without a guard it could point the
worker at the metadata service, Redis, MongoDB or anything else on the private network. Checks:
- at registration (``check_url``): http(s) only, no credentials in the URL, and a literal IP
  address or ``localhost`` must be a public address;
- at every delivery (``post``): the host is resolved once, *every* address must be public, and
  the connection goes to one of those vetted addresses (the URL's host stays in ``Host`` and in
  TLS SNI/certificate checks), so a DNS answer that changes between check and connect
  (rebinding) cannot reach a private host. Redirects are never followed.
"Public" judges IPv6 forms that embed an IPv4 address by that address (NAT64 ``64:ff9b::/96`` and
``64:ff9b:1::/48``, 6to4 ``2002::/16``, Teredo ``2001::/32``, IPv4-mapped, -compatible and
-translated) and refuses unique-local, link-local, site-local and multicast addresses.
A refusal never says what a name resolved to (the delivery log is the tenant's to read).
Private targets are allowed only when ``CRM_EVENT_ALLOW_PRIVATE_TARGETS`` is true, which is the
default in sandbox mode (a CRM on localhost during development); the address is pinned then too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from socialsync.config import Settings

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain"})
IPv6 = ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_COMPATIBLE = ipaddress.ip_network("::/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_NOT_PUBLIC_V6 = tuple(ipaddress.ip_network(n) for n in ("fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8"))

# host, port -> the addresses it resolves to (injectable for tests).
Resolver = Callable[[str, int], Awaitable[list[str]]]


class DestinationRefused(ValueError):
    """The URL may not be called by socialsync (a private or malformed destination)."""


def allow_private(settings: Settings) -> bool:
    if settings.crm_event_allow_private_targets is not None:
        return settings.crm_event_allow_private_targets
    return settings.sandbox_mode


def embedded_ipv4(ip: IPv6) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (empty when it is not such a form)."""
    packed = ip.packed
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _TRANSLATED or ip in _NAT64 or ip in _COMPATIBLE:
        return [ipaddress.IPv4Address(packed[12:])]
    if ip in _NAT64_LOCAL:  # RFC 6052 with a /48 prefix: bits 48-63 and 72-87 (and /96 style)
        return [ipaddress.IPv4Address(packed[6:8] + packed[9:11]), ipaddress.IPv4Address(packed[12:])]
    if ip in _SIX_TO_FOUR:
        return [ipaddress.IPv4Address(packed[2:6])]
    if ip in _TEREDO:
        server, client = ip.teredo  # type: ignore[misc]  # in 2001::/32, so not None
        return [server, client]
    return []


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, IPv6):
        inner = embedded_ipv4(ip)
        if inner:
            return all(is_public(str(v4)) for v4 in inner)
        if any(ip in net for net in _NOT_PUBLIC_V6):
            return False
    return ip.is_global and not ip.is_multicast


_is_public = is_public  # the former private name


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
    if not is_public(str(literal)):
        raise DestinationRefused(f"{host} is not a public address.")


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def vetted_addresses(url: str, settings: Settings, resolve: Resolver = system_resolver) -> list[str]:
    """Resolve the URL's host once; every address must be public (unless private targets are
    allowed). The answer is what the connection must use."""
    check_url(url, settings)
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = await resolve(host, port)
    except (OSError, UnicodeError):
        raise DestinationRefused(f"{host} does not resolve.") from None
    if not addresses:
        raise DestinationRefused(f"{host} does not resolve.")
    if not allow_private(settings) and not all(is_public(a) for a in addresses):
        raise DestinationRefused(f"{host} resolves to a non-public address.")
    return addresses


async def check_destination(url: str, settings: Settings) -> None:
    """Delivery-time check alone (``post`` does it and pins the answer)."""
    await vetted_addresses(url, settings)


def _pinned(url: str, address: str) -> tuple[str, str, dict[str, str]]:
    """The URL with its host replaced by ``address``, the Host header, and the TLS extensions."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    original = parts.hostname or ""
    host_header = f"[{original}]" if ":" in original else original
    if parts.port:
        host_header += f":{parts.port}"
    extensions = {"sni_hostname": original} if parts.scheme == "https" else {}
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header, extensions


async def post(
    client: httpx.AsyncClient, url: str, settings: Settings, *, content: bytes,
    headers: Mapping[str, str], timeout: float, resolve: Resolver = system_resolver,
) -> httpx.Response:
    """POST to ``url`` through a vetted, pinned address (see the module docstring). Raises
    ``DestinationRefused`` or an ``httpx.HTTPError``; a redirect is returned, never followed."""
    addresses = await vetted_addresses(url, settings, resolve)
    last: httpx.ConnectError | None = None
    for address in addresses[:4]:
        target, host_header, extensions = _pinned(url, address)
        try:
            return await client.post(
                target, content=content, headers={**headers, "Host": host_header}, timeout=timeout,
                extensions=extensions, follow_redirects=False,
            )
        except httpx.ConnectError as exc:  # try the next vetted address (e.g. ::1, then 127.0.0.1)
            last = exc
    assert last is not None
    raise last
