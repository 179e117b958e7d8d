"""Structured JSON logs (structlog) that never carry a token or a secret.

One redactor for every logger (structlog and stdlib alike, aiohttp's access log included: all
go through ``_redact_processor``). Redacted: any field, query/form parameter, JSON member or
header whose name contains secret/token/key/password (``hub.verify_token``, ``api_key``,
``client_secret``, ``Authorization``…) or is ``code``, ``state`` or ``signed_request``; and any
string that looks like a Meta token, one of our API keys or a bearer credential. So a careless
``log.info("calling", url=url)`` cannot leak a token either.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from typing import Any, TextIO

import structlog

from socialsync.config import Settings

REDACTED = "[redacted]"
# A name says "secret" when it contains one of these words, or is one of the OAuth names (and
# the platforms' own: each spec's ``secret_names``).
SECRET_WORDS = ("secret", "token", "key", "password", "passwd", "authorization", "signed_request", "cookie")
SECRET_NAMES = frozenset({"code", "state", "api_key", "access_token", "client_secret", "input_token",
                          "refresh_token"})
# Structured log fields named like this carry a secret. ``code`` and ``state`` are redacted as
# parameters (query strings, forms, headers) only: as field names they are error codes and
# post states, which operators need.
_FIELD_SAFE = frozenset({"code", "state", "key_count", "idempotency_key_conflict"})

_NAME = r"[A-Za-z0-9_.\-\[\]%]+"
# name=value in query strings and forms, wherever it appears in a string.
_PARAM = re.compile(rf"(?P<pre>(?:^|(?<=[?&;\s\"'(,{{])))(?P<name>{_NAME})=(?P<value>[^&\s\"';,)]*)")
# "name": "value" (JSON) and Name: value (an HTTP header line).
_JSON_PAIR = re.compile(rf'(?P<name>"{_NAME}"\s*:\s*)"(?P<value>[^"\\]*)"')
_HEADER = re.compile(r"(?im)^(?P<name>[A-Za-z0-9_.\-]+)(?P<sep>:[ \t]*)(?P<value>.+)$")
# Our API keys, webhook secrets, bearer values (+ the platforms' token shapes: `_token_shapes`).
_OWN_TOKEN_SHAPES = (r"\bssk_[A-Za-z0-9_\-]{16,}", r"\bwhsec_[A-Za-z0-9_\-]{16,}",
                     r"(?i:bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}")


@functools.cache
def _platform_secrets() -> tuple[frozenset[str], tuple[str, ...]]:
    """(secret parameter names, token-shape patterns) every registered platform's spec declares.
    Read once, when the first text is redacted (the plugins import this module)."""
    from socialsync.platforms.registry import PLATFORMS, plugin_class  # noqa: PLC0415

    names: set[str] = set()
    shapes: list[str] = []
    for name in PLATFORMS:
        spec = plugin_class(name).spec  # a plugin that cannot load fails loudly: secrets must not leak
        names.update(spec.secret_names)
        shapes.extend(spec.secret_shapes)
    return frozenset(names), tuple(shapes)


@functools.cache
def _token_shapes() -> re.Pattern[str]:
    return re.compile("|".join((*_platform_secrets()[1], *_OWN_TOKEN_SHAPES)))


def is_secret_name(name: str) -> bool:
    """True for a parameter, header or field name that carries a secret."""
    low = name.lower().replace("%2e", ".").replace("%5f", "_").replace("-", "_").strip("\"' ")
    return low in SECRET_NAMES or low in _platform_secrets()[0] or any(word in low for word in SECRET_WORDS)


def _param(match: re.Match[str]) -> str:
    if is_secret_name(match["name"]) and match["value"]:
        return f"{match['pre']}{match['name']}={REDACTED}"
    return match[0]


def redact_text(text: str) -> str:
    text = _PARAM.sub(_param, text)
    text = _JSON_PAIR.sub(
        lambda m: f'{m["name"]}"{REDACTED}"' if is_secret_name(m["name"].split(":")[0]) else m[0], text
    )
    if ":" in text and "\n" in text:  # a block of header lines
        text = _HEADER.sub(
            lambda m: f"{m['name']}{m['sep']}{REDACTED}" if is_secret_name(m["name"]) else m[0], text
        )
    return _token_shapes().sub(REDACTED, text)


def is_secret_field(key: str) -> bool:
    return key.lower() not in _FIELD_SAFE and is_secret_name(key)


def redact(value: Any, key: str | None = None) -> Any:
    if key is not None and is_secret_field(key):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if hasattr(value, "items") and callable(value.items):  # headers, MultiDicts
        return {str(k): redact(v, str(k)) for k, v in value.items()}
    return value


def _redact_processor(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if k in ("timestamp", "level") else redact(v, k)) for k, v in event.items()}


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.format_exc_info,
    _redact_processor,
]


def log_handler(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """A handler rendering stdlib and structlog records as redacted JSON (or console) lines."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.log_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        foreign_pre_chain=_SHARED,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    return handler


def configure_logging(settings: Settings) -> None:
    """Route stdlib and structlog records through one redacting renderer on stderr."""
    level = getattr(logging, settings.log_level.upper(), logging.INFO)
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    root = logging.getLogger()
    root.handlers[:] = [log_handler(settings)]
    root.setLevel(level)
    # httpx logs every request URL at INFO; ours are redacted anyway, but keep them out.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)


def announce_mode(settings: Settings) -> None:
    """A process's loud notice of the platforms it emulates, decided per platform
    (``settings.sandboxed_platforms``: no app credentials in its block, or forced)."""
    names = settings.sandboxed_platforms
    if names:
        get_logger('socialsync').warning(
            f"SANDBOX MODE for {', '.join(names)}: no app credentials are configured for them "
            "(or SOCIALSYNC_SANDBOX forces it); their calls go to the emulator. Set each "
            "platform's app credentials for real accounts (README).",
            platforms=names, sandbox_url=settings.sandbox_base_url,
        )
