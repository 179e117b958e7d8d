"""The quota planner: what the scheduled syncs will spend, and how many channels fit.

Per channel and scheduled (incremental) sync: channels.list 1 + playlistItems.list 1 +
videos.list 1 (new + look-back videos, up to 50) + commentThreads.list 1 = 4 units. Once a day
a full listing costs 1 + 2 * ceil(N / 50) for a channel of N videos (analytics are another API's
quota). With ``D`` units a day, ``R`` kept in reserve and a sync every ``m`` minutes:

    units per channel per day = 4 * 1440 / m (+ the daily full sync)
    channels that fit         = (D - R) / (units per channel per day)

e.g. D = 10,000, R = 1,000, m = 60: 96 units a channel a day, about 93 channels (fewer once the
daily full sync of big channels is counted); every 6 h: 16 a day, about 560 channels. WebSub
push makes new uploads arrive without polling, so a slow cadence loses little.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

UNITS_PER_INCREMENTAL = 4


def full_sync_units(videos: int) -> int:
    return 1 + 2 * math.ceil(max(0, videos) / 50)


@dataclass(frozen=True)
class Plan:
    accounts: int
    sync_interval_minutes: int
    syncs_left_today: int
    units_per_sync: int
    scheduled_units_left_today: int
    units_per_channel_per_day: int
    channels_that_fit: int

    def public(self) -> dict[str, int]:
        return asdict(self)


def plan(*, daily_units: int, reserve_units: int, sync_interval_minutes: int, accounts: int,
         seconds_to_reset: float) -> Plan:
    per_day = math.ceil(1440 / sync_interval_minutes)
    left = math.ceil(max(0.0, seconds_to_reset) / (sync_interval_minutes * 60))
    per_channel = UNITS_PER_INCREMENTAL * per_day
    return Plan(
        accounts=accounts, sync_interval_minutes=sync_interval_minutes, syncs_left_today=left,
        units_per_sync=UNITS_PER_INCREMENTAL, scheduled_units_left_today=accounts * left * UNITS_PER_INCREMENTAL,
        units_per_channel_per_day=per_channel,
        channels_that_fit=max(0, daily_units - reserve_units) // per_channel,
    )
