"""Paths of the sandbox: ``https://HOST/PATH`` is served at ``http://SANDBOX/HOST/PATH``.

Each platform package mounts one sub-app per host it mirrors under ``/HOST``
(socialsync.config.sandbox_base); the control API lives under ``/_sandbox/``.
"""

from __future__ import annotations

CONTROL_PREFIX = "/_sandbox/"


def host_of(path: str) -> str:
    """The mirrored host a sandbox path belongs to ("" for the control API and aliases)."""
    first = path.lstrip("/").split("/", 1)[0]
    return first if "." in first else ""


def is_control(path: str) -> bool:
    """The control API and the index page: not platform traffic (not counted, never faulted)."""
    return path == "/" or path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/")
