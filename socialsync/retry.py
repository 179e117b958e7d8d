"""How a job reacts to a failed platform call: defer, retry with backoff, or give up.

Shared by the worker's jobs and by the state machines in socialsync/platforms they drive.

One mapping for every job, on the error *kind* (code/subcode/is_transient), never message text.
"""

from __future__ import annotations

import random

from arq import Retry

from socialsync.platforms.errors import RETRYABLE_KINDS, PlatformError, RateLimited, TransportError


def backoff_seconds(
    attempt: int, base: float = 30.0, cap: float = 3600.0, *, min_share: float = 0.0
) -> float:
    """Exponential backoff with jitter: uniform in [min_share·c, c], c = min(cap, base·2^(attempt-1)).
    ``min_share`` 0 is full jitter (jobs); 0.5 keeps some spacing (CRM event deliveries)."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return ceiling * random.uniform(min_share, 1.0)  # noqa: S311


def retry_for(exc: BaseException, attempt: int, *, base: float = 30.0, max_tries: int = 6) -> Retry | None:
    """A Retry to raise for this failure, or None when retrying cannot help (or tries ran out).

    Rate limits always defer (they do not use up tries in spirit: the call never happened)."""
    if isinstance(exc, RateLimited):
        return Retry(defer=max(1.0, exc.retry_after))
    if attempt >= max_tries:
        return None
    if isinstance(exc, TransportError):
        return Retry(defer=backoff_seconds(attempt, base))
    if isinstance(exc, PlatformError) and exc.kind in RETRYABLE_KINDS:
        return Retry(defer=backoff_seconds(attempt, base))
    return None
