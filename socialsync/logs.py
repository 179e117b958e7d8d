"""Structured JSON logs (structlog) that never carry a token or a secret.

Redaction is by key name (``access_token``, ``client_secret``, ``code``…) at any depth, and by
value for strings that look like Meta tokens or that sit in a URL query, so a careless
``log.info("calling", url=url)`` cannot leak a token either.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog

from socialsync.config import Settings

REDACTED = "[redacted]"
SECRET_KEYS = frozenset(
    {
        "access_token", "refresh_token", "token", "client_secret", "app_secret",
        "fb_exchange_token", "api_key", "authorization", "password", "secret", "signed_request",
        "token_keys", "admin_token", "input_token", "page_token",
    }
)
# Query parameters carrying secrets, wherever they appear in a string.
_QUERY_SECRET = re.compile(
    r"(\b(?:access_token|client_secret|code|state|fb_exchange_token|input_token|refresh_token)=)[^&\s\"']+"
)
# Meta token shapes (IG-login "IGAA…/IGQ…", Facebook "EAA…") and bearer headers.
_TOKEN_SHAPES = re.compile(r"\b(?:IGAA|IGQV|EAA)[A-Za-z0-9_\-]{16,}|(?i:bearer)\s+[A-Za-z0-9._\-]{12,}")


def redact_text(text: str) -> str:
    text = _QUERY_SECRET.sub(r"\1" + REDACTED, text)
    return _TOKEN_SHAPES.sub(REDACTED, text)


def redact(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SECRET_KEYS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
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
    if settings.sandbox_mode:
        get_logger('socialsync').warning(
            "SANDBOX MODE: no Meta app credentials are set, every platform call goes to the "
            "emulator; set SOCIALSYNC_INSTAGRAM_APP_ID/SECRET or SOCIALSYNC_META_APP_ID/SECRET "
            "for real accounts",
            sandbox_url=settings.sandbox_base_url,
        )
