"""A channel's jobs: their ids, and the daily trigger of its digest (and prefetch) jobs in
local wall-clock time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from bot.jobs.schedule import next_digest_time

_TICK = timedelta(microseconds=1)
CHANNEL_JOBS = ("digest:", "prefetch:")  # the daily ones, made from the channel's settings


def job_id(team_id: str, channel_id: str, kind: str = "digest") -> str:
    return f"{kind}:{team_id}:{channel_id}"


def job_kind(ident: str) -> str:
    """`digest:T1:C1` → `digest`; a job of its own (`alerts`, `tally`) is its kind."""
    return ident.split(":", 1)[0]


class DigestTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3.x is untyped
    """Fires daily at a local wall-clock time, by `next_digest_time`. (CronTrigger in 3.11 fires
    twice in the autumn overlap and reads a time in the spring gap with the winter offset.)"""

    __slots__ = ("at", "zone")

    def __init__(self, at: time, zone: ZoneInfo) -> None:
        self.at = at
        self.zone = zone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        # As CronTrigger: from just after the previous fire time, or from now on the first call.
        start = now if previous_fire_time is None else min(now, previous_fire_time + _TICK)
        return next_digest_time(self.at, self.zone, start - _TICK)

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M} {self.zone.key}"

    def __repr__(self) -> str:
        return f"<DigestTrigger ({self})>"
