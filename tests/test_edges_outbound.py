"""Issue 11 §3: CRM callbacks reach only public addresses, through the address that was checked.

The pinned connection is shown against a real HTTP server on loopback: the callback's host name
exists in no DNS, only the injected resolver knows it, so a request that arrives at all went to
the vetted address, and it arrives with the original Host header."""

from __future__ import annotations

import httpx
import pytest
from aiohttp import web

from socialsync import outbound
from socialsync.config import Settings
from socialsync.crypto import generate_key
from tests.conftest import serve


def _settings(allow_private: bool) -> Settings:
    return Settings(token_keys=generate_key(), sandbox=True, crm_event_allow_private_targets=allow_private)  # type: ignore[arg-type]


REFUSED = [
    "127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "::",
    "::ffff:127.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped
    "::ffff:0:a00:1",  # IPv4-translated (SIIT) 10.0.0.1
    "::127.0.0.1", "::a9fe:a9fe",  # IPv4-compatible
    "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1",  # NAT64 well-known prefix → 169.254.169.254, 127.0.0.1
    "64:ff9b:1:a9fe:a9:fe00::", "64:ff9b:1::a00:1",  # NAT64 local-use prefix (/48 and /96 positions)
    "2002:a9fe:a9fe::1", "2002:7f00:1::",  # 6to4
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    "fd12:3456::1", "fc00::1",  # unique-local
    "fe80::1", "fec0::1",  # link-local, site-local
    "ff02::1", "ff0e::1", "224.0.0.1",  # multicast
]
PUBLIC = ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_forms_are_refused(address: str) -> None:
    assert not outbound.is_public(address)
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(outbound.DestinationRefused):
        outbound.check_url(f"https://{host}/hooks", _settings(False))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_forms_are_allowed(address: str) -> None:
    assert outbound.is_public(address)


class Receiver:
    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.hosts.append(request.headers.get("Host", ""))
        if request.path == "/redirect":
            raise web.HTTPFound("http://169.254.169.254/latest/meta-data")
        return web.json_response({"ok": True})


async def test_delivery_connects_to_the_vetted_address_once_resolved() -> None:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner, url = await serve(app)
    port = int(url.rsplit(":", 1)[1])
    calls: list[str] = []

    async def resolver(host: str, _port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]  # then "rebinds": nothing asks again

    try:
        async with httpx.AsyncClient() as client:
            r = await outbound.post(client, f"http://crm.invalid:{port}/hooks", _settings(True), content=b"{}",
                                    headers={"Content-Type": "application/json"}, timeout=5, resolve=resolver)
            assert r.status_code == 200 and receiver.hosts == [f"crm.invalid:{port}"] and calls == ["crm.invalid"]
            # a redirect is answered as it is, never followed (not even to a public address)
            r = await outbound.post(client, f"http://crm.invalid:{port}/redirect", _settings(True), content=b"{}",
                                    headers={}, timeout=5, resolve=resolver)
            assert r.status_code == 302 and len(receiver.hosts) == 2

            # outside sandbox mode the same name is refused before any connection, and the
            # refusal does not say what the name resolved to
            async def private(host: str, _port: int) -> list[str]:
                return ["8.8.8.8", "10.20.30.40"]

            with pytest.raises(outbound.DestinationRefused) as refused:
                await outbound.post(client, f"http://crm.invalid:{port}/hooks", _settings(False), content=b"{}",
                                    headers={}, timeout=5, resolve=private)
            assert "10.20.30.40" not in str(refused.value) and "8.8.8.8" not in str(refused.value)
            assert len(receiver.hosts) == 2
    finally:
        await runner.cleanup()


def test_pinned_request_keeps_host_and_sni() -> None:
    target, host, extensions = outbound._pinned("https://crm.example.com:8443/a?b=1", "2606:4700::1")
    assert target == "https://[2606:4700::1]:8443/a?b=1"
    assert host == "crm.example.com:8443" and extensions == {"sni_hostname": "crm.example.com"}
