"""return_url checks: only URLs under a configured allow-list, so connect links cannot be used
as open redirects (``javascript:``, ``//evil.example``, ``https://allowed.example@evil`` …)."""

from __future__ import annotations

from urllib.parse import urlsplit


def _origin(url: str) -> tuple[str, str, int | None, str] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    default = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname.lower(), port or default, parts.path or "/"


def is_allowed_return_url(url: str, allowlist: list[str]) -> bool:
    if not url or len(url) > 2048 or any(c in url for c in "\\\r\n\t ") or url.startswith("//"):
        return False
    target = _origin(url)
    if target is None:
        return False
    for allowed in allowlist:
        rule = _origin(allowed)
        if rule is None:
            continue
        same_origin = target[:3] == rule[:3]
        # A rule with a port-less http://localhost allows any port on that host.
        loose_port = urlsplit(allowed).port is None and rule[1] in ("localhost", "127.0.0.1")
        if (same_origin or (loose_port and target[:2] == rule[:2])) and target[3].startswith(
            rule[3].rstrip("/") or "/"
        ):
            return True
    return False
