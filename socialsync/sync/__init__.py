"""The platform-neutral sync domain: running a run's stages (runner.py) and when runs are due
(schedule.py). Platforms return records; this package stores them through socialsync.store."""
