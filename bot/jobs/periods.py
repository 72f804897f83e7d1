"""When weekly and monthly reports are due, in local wall-clock time: pure functions.

A weekly report is posted on its weekday, a monthly one on its day of the month (the last
day of a shorter month), each at its local time, by `schedule.local_instant` (so the
spring-forward gap and the autumn overlap are handled as for the daily digest). What a report
posted on a day covers is `bot.channels.periods.covered`; a period is named by its first day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from bot.channels.periods import Period, Span, covered, posting_day
from bot.jobs.schedule import ON_TIME, local_instant

# A report this late is still worth posting (once), after downtime; an older one is skipped.
MAX_LATE = {Period.WEEKLY: timedelta(days=2), Period.MONTHLY: timedelta(days=5)}
_TICK = timedelta(microseconds=1)


def posting_days(period: Period, anchor: int, around: date) -> list[date]:
    """The days a report is posted on, from about two periods before `around` to one after."""
    if period is Period.WEEKLY:
        start = around - timedelta(days=15)
        days = (start + timedelta(days=n) for n in range(23))
        return [d for d in days if d.weekday() == anchor]
    months = [(around.year * 12 + around.month - 1 + k) for k in range(-2, 2)]
    return [posting_day(anchor, m // 12, m % 12 + 1) for m in months]


def next_fire(period: Period, anchor: int, at: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first report instant strictly after `after`, in UTC."""
    today = after.astimezone(zone).date()
    instants = (local_instant(d, at, zone) for d in posting_days(period, anchor, today))
    return min(i for i in instants if i > after)


def latest_fire(
    period: Period, anchor: int, at: time, zone: ZoneInfo, now: datetime
) -> tuple[date, datetime]:
    """The most recent report instant at or before `now`, with the local day it was posted on."""
    today = now.astimezone(zone).date()
    fired = [
        (d, i)
        for d in posting_days(period, anchor, today)
        if (i := local_instant(d, at, zone)) <= now
    ]
    return max(fired, key=lambda pair: pair[1])


def due_report(
    last_first: date | None,
    now: datetime,
    zone: ZoneInfo,
    period: Period,
    anchor: int,
    at: time,
    *,
    max_late: timedelta | None = None,
) -> tuple[Span, bool] | None:
    """The period to report on now and whether that is late, given the first day of the
    latest period posted (`last_first`). Only the most recent period is ever due; None when it
    is posted already or more than `max_late` (default MAX_LATE[period]) late."""
    posted_on, fired = latest_fire(period, anchor, at, zone, now)
    span = covered(period, posted_on)
    if last_first is not None and last_first >= span.first:
        return None
    delay = now - fired
    if delay > (max_late if max_late is not None else MAX_LATE[period]):
        return None
    return span, delay > ON_TIME


class PeriodTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3.x is untyped
    """Fires on a report's day at its local wall-clock time, by `next_fire`."""

    __slots__ = ("anchor", "at", "period", "zone")

    def __init__(self, period: Period, anchor: int, at: time, zone: ZoneInfo) -> None:
        self.period = period
        self.anchor = anchor
        self.at = at
        self.zone = zone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        start = now if previous_fire_time is None else min(now, previous_fire_time + _TICK)
        return next_fire(self.period, self.anchor, self.at, self.zone, start - _TICK)

    def __str__(self) -> str:
        return f"{self.period.value} ({self.anchor}) at {self.at:%H:%M} {self.zone.key}"
