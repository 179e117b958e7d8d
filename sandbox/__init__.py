"""Emulator of the platform APIs socialsync talks to: shared parts plus one package per
platform (``sandbox/meta/``: Instagram / Facebook Login and the Graph API; see README.md).

Real ``https://HOST/PATH`` is served at ``http://127.0.0.1:PORT/HOST/PATH``; the control API
lives under ``/_sandbox/``. See ``sandbox.app.build_sandbox_app``.
"""

from sandbox.app import SANDBOX_KEY, Sandbox, build_sandbox_app
from sandbox.config import SandboxConfig

__all__ = ["SANDBOX_KEY", "Sandbox", "SandboxConfig", "build_sandbox_app"]
