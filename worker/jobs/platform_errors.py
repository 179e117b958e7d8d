"""What a job of this area does with a failed platform call (shared by its job modules), on the
plugins' one error model (socialsync.platforms.errors): every platform's errors are
`PlatformError`s with a neutral `ErrorKind`."""

from __future__ import annotations

from typing import Any

from arq import Retry

from socialsync import lifecycle
from socialsync.context import Services
from socialsync.platforms.errors import ErrorKind, PlatformError, RateLimited, TransportError
from socialsync.platforms.registry import UnknownPlatform
from socialsync.retry import retry_for
from socialsync.store import accounts as account_store


def describe(exc: BaseException) -> dict[str, Any]:
    return exc.describe() if isinstance(exc, PlatformError) else {"kind": type(exc).__name__, "message": str(exc)}


async def _display_name(services: Services, account_id: str) -> str:
    account = await account_store.get(services.store, account_id) or {}
    try:
        return services.platforms.for_account(account).spec.display_name
    except UnknownPlatform:
        return "The platform"


async def handle(
    services: Services, ctx: dict[str, Any], exc: PlatformError | RateLimited | TransportError,
    account_id: str, *, max_tries: int,
) -> Retry | None:
    """A Retry to raise (throttle → defer, transient → backoff), or None: give up. A dead token
    moves the account to needs_reconnect through the one lifecycle path."""
    if isinstance(exc, PlatformError) and exc.kind is ErrorKind.TOKEN_INVALID:
        name = await _display_name(services, account_id)
        await lifecycle.account_needs_reconnect(
            services, account_id, f"{name} rejected the token (code {exc.code}/{exc.subcode}): {exc.message}"
        )
        return None
    attempt = int(ctx.get("job_try", 1))
    return retry_for(exc, attempt, base=services.settings.retry_backoff_base_seconds, max_tries=max_tries)
