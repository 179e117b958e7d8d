"""Moved to :mod:`socialsync.crm_events` (outbox, ledger, delivery, signing).

Kept as an alias so existing ``from socialsync import events`` imports keep working; new code
imports ``socialsync.crm_events``.
"""

from socialsync.crm_events import *  # noqa: F403
from socialsync.crm_events import __all__  # noqa: F401
