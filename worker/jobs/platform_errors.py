"""What a job of this area does with a failed platform call (shared by its job modules)."""

from __future__ import annotations

from typing import Any

from arq import Retry

from socialsync import lifecycle
from socialsync.context import Services
from socialsync.platforms.instagram.errors import ErrorKind, GraphError, RateLimited, TransportError
from socialsync.retry import retry_for


def describe(exc: BaseException) -> dict[str, Any]:
    return exc.describe() if isinstance(exc, GraphError) else {"kind": type(exc).__name__, "message": str(exc)}


async def handle(
    services: Services, ctx: dict[str, Any], exc: GraphError | RateLimited | TransportError,
    account_id: str, *, max_tries: int,
) -> Retry | None:
    """A Retry to raise (throttle → defer, transient → backoff), or None: give up. A dead token
    (190) moves the account to needs_reconnect through the one lifecycle path."""
    if isinstance(exc, GraphError) and exc.kind is ErrorKind.TOKEN_INVALID:
        await lifecycle.account_needs_reconnect(
            services, account_id, f"Meta rejected the token (code {exc.code}/{exc.subcode}): {exc.message}"
        )
        return None
    attempt = int(ctx.get("job_try", 1))
    return retry_for(exc, attempt, base=services.settings.retry_backoff_base_seconds, max_tries=max_tries)
