"""The service reads time from the injectable clock (socialsync.clock), never datetime.now():
with a ManualClock installed, everything a request writes is stamped with the manual time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from socialsync import clock
from socialsync.clock import ManualClock
from socialsync.store import posts as post_store
from tests.conftest import Env
from tests.publish_helpers import BODIES, connected, post

# A moment the real clock cannot produce during the test, so any datetime.now() left shows.
MOMENT = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def manual() -> Iterator[ManualClock]:
    fixed = ManualClock(MOMENT)
    previous = clock.use(fixed)
    try:
        yield fixed
    finally:
        clock.use(previous)


def test_services_clock_is_the_process_clock(manual: ManualClock) -> None:
    from socialsync.context import Services  # noqa: PLC0415

    assert Services.__dataclass_fields__["clock"].default.now() == MOMENT
    manual.advance(90)
    assert clock.now() == MOMENT + timedelta(seconds=90)
    assert clock.epoch() == (MOMENT + timedelta(seconds=90)).timestamp()


async def test_what_requests_write_is_stamped_by_the_injected_clock(env: Env, manual: ManualClock) -> None:
    tenant, account_id = await connected(env)
    account = await env.services.store.accounts.find_one({"_id": account_id})
    stamped = {k: v for k, v in account.items() if isinstance(v, datetime)}
    assert stamped, account.keys()
    assert all(v.replace(tzinfo=UTC) == MOMENT for v in stamped.values()), stamped

    manual.advance(60)
    body = {**BODIES["image"], "publish_at": (MOMENT + timedelta(hours=2)).isoformat()}
    post_id = await post(env, tenant, account_id, body)
    doc = await post_store.get(env.services.store, post_id)
    assert doc["created_at"].replace(tzinfo=UTC) == MOMENT + timedelta(seconds=60)
    assert doc["updated_at"].replace(tzinfo=UTC) == MOMENT + timedelta(seconds=60)


def test_no_service_module_reads_the_wall_clock_directly() -> None:
    """Only socialsync/clock.py may call datetime.now(): everything else asks the clock."""
    import re  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    root = Path(__file__).resolve().parents[1]
    offenders = [
        f"{path.relative_to(root)}:{n}"
        for top in ("socialsync", "worker", "webhooks")
        for path in sorted((root / top).rglob("*.py"))
        if path != root / "socialsync" / "clock.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bdatetime\.(now|utcnow)\(", line)
    ]
    assert offenders == [], f"use socialsync.clock.now() instead: {offenders}"
