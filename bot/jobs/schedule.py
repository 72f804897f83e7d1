"""When digests are due, in local wall-clock time: pure functions of the instants they are given.

    next_digest_time(at, zone, after)  the first digest instant after `after`
    due_digest(last_posted, now, …)    which local day to post now, and whether that is late

A local wall-clock time can be missing (the spring-forward gap) or happen twice (the autumn
overlap). A missing time means the first valid instant after it (the end of the gap); a repeated
one means its first occurrence. The digest posted on local day P covers day P − 1, so "the date"
of a digest below is always the local day it reports on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "ON_TIME",
    "due_digest",
    "local_instant",
    "missed_digest",
    "next_digest_time",
    "parse_digest_time",
]

ON_TIME = timedelta(minutes=15)  # a digest this close to its time is not called late
_DAY = timedelta(days=1)
PREFETCH_LEAD = timedelta(minutes=30)  # time to fetch a large channel's numbers at X's limits
# The previous day's last hour is settled (bot.engagement.settled.SETTLE_MARGIN) by then in
# every zone, those whose midnight falls at :30 or :45 UTC included.
PREFETCH_EARLIEST = time(1, 0)
_SECOND = timedelta(seconds=1)


def parse_digest_time(text: str) -> time:
    """`ChannelSettings.digest_time` ("HH:MM") as a time; ValueError if malformed."""
    hours, sep, minutes = text.partition(":")
    if not sep or len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit():
        raise ValueError(f"digest time must look like 09:00 (got {text!r})")
    return time(int(hours), int(minutes))


def prefetch_time(at: time) -> time | None:
    """When to fetch a digest due at local time `at` ahead of it: PREFETCH_LEAD before, but
    not before PREFETCH_EARLIEST (the day must be over and settled); None when no time fits
    and the digest fetches its own numbers."""
    minutes = at.hour * 60 + at.minute - PREFETCH_LEAD // timedelta(minutes=1)
    earliest = PREFETCH_EARLIEST.hour * 60 + PREFETCH_EARLIEST.minute
    chosen = max(minutes, earliest)
    if chosen >= at.hour * 60 + at.minute:
        return None
    return time(chosen // 60, chosen % 60)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `zone`: the first occurrence when the time
    happens twice, the end of the gap when it does not happen at all."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _wall(first, zone) == naive:
        return first
    # In a gap, fold=0 reads the time with the offset before the change (an instant after the
    # change) and fold=1 with the offset after it (an instant before): the change lies between.
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high = first
    while high - low > _SECOND:
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if _wall(middle, zone) >= naive:
            high = middle
        else:
            low = middle
    return high


def _wall(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def next_digest_time(settings_time: time, zone: ZoneInfo, after: datetime) -> datetime:
    """The first digest instant strictly after `after` (aware), in UTC: an aware datetime in a
    zone's repeated hour never equals one in another zone (PEP 495), so instants stay UTC."""
    today = after.astimezone(zone).date()
    for offset in range(-1, 3):
        candidate = local_instant(today + offset * _DAY, settings_time, zone)
        if candidate > after:
            return candidate
    raise AssertionError("a daily time recurs within two days")  # pragma: no cover


def _latest_fire(at: time, zone: ZoneInfo, now: datetime) -> tuple[date, datetime]:
    """The most recent digest instant at or before `now`, with the local day it reports on."""
    today = now.astimezone(zone).date()
    for posted_on in (today + _DAY, today, today - _DAY):
        fire = local_instant(posted_on, at, zone)
        if fire <= now:
            return posted_on - _DAY, fire
    raise AssertionError("a daily time recurs within two days")  # pragma: no cover


def missed_digest(last_posted: date | None, now: datetime, zone: ZoneInfo, at: time) -> date | None:
    """The most recent local day whose digest time has passed without it being posted."""
    covered, _ = _latest_fire(at, zone, now)
    if last_posted is not None and last_posted >= covered:
        return None
    return covered


def due_digest(
    last_posted: date | None,
    now: datetime,
    zone: ZoneInfo,
    at: time,
    *,
    max_late: timedelta,
    on_time: timedelta = ON_TIME,
) -> tuple[date, bool] | None:
    """The local day to post a digest for now, and whether it is late (more than `on_time` after
    its time). Only the most recent missed day is ever due: after days of downtime that is one
    digest, not one per day. None when nothing is due, or when the missed digest is more than
    `max_late` old (`missed_digest` then still names it, for the caller's log line)."""
    covered = missed_digest(last_posted, now, zone, at)
    if covered is None:
        return None
    delay = now - local_instant(covered + _DAY, at, zone)
    if delay > max_late:
        return None
    return covered, delay > on_time
