"""Hour and day arithmetic for plans: rounding, bucket lists and 28-day windows
(docs/simulator.md#windows, #long-windows). Pure; every function takes the instants it needs,
never the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from bot.engagement import snowflake
from bot.engagement.models import Limits
from bot.engagement.query import Granularity

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
T = TypeVar("T")
Window = tuple[datetime, datetime]


def floor_hour(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(when: datetime) -> datetime:
    floored = floor_hour(when)
    return floored if floored == when else floored + HOUR


def floor_day(when: datetime) -> datetime:
    """UTC midnight at or before `when`."""
    return floor_hour(when).replace(hour=0)


def ceil_day(when: datetime) -> datetime:
    floored = floor_day(when)
    return floored if floored == when else floored + DAY


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def older_than(created_at: datetime | None, limit: timedelta, now: datetime) -> bool:
    """Whether a Post is older than `limit`; a pre-snowflake Post (None) is older than any."""
    return created_at is None or now - created_at > limit


def recent_window(now: datetime, limits: Limits) -> Window:
    """The buckets /28hr returns: [floor_hour(now − 28h), ceil_hour(now))."""
    return floor_hour(now - limits.recent_window), ceil_hour(now)


def chunks(items: Sequence[T], size: int) -> list[tuple[T, ...]]:
    """Consecutive batches of at most `size`, in input order."""
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)]


def forward_windows(start: datetime, end: datetime, step: timedelta) -> list[Window]:
    """[S, S+step), [S+step, S+2·step), …, the last one ending at `end`."""
    windows: list[Window] = []
    cursor = start
    while cursor < end:
        windows.append((cursor, min(cursor + step, end)))
        cursor += step
    return windows


def backward_grid(end: datetime, step: timedelta, count: int) -> list[Window]:
    """The `count` windows [E − step·k, E − step·(k−1)), oldest first.

    Anchored at the end so that every Post's lifetime shares the same grid: Posts of different
    ages then fill the same windows, and a window holds as many Posts as a batch allows.
    """
    return [(end - step * k, end - step * (k - 1)) for k in range(count, 0, -1)]


def windows_needed(since: datetime, end: datetime, step: timedelta) -> int:
    """How many grid windows of `backward_grid(end, step, …)` intersect [since, end)."""
    span = end - since
    return max(-(-span // step), 0)


def series_range(
    granularity: Granularity,
    start: datetime | None,
    end: datetime | None,
    *,
    now: datetime,
    limits: Limits,
) -> Window:
    """The bucket range of an HOUR or DAY query after defaults, rounding and clipping.

    Defaults: HOUR the /28hr window, DAY the last 28 UTC days (today's partial one included).
    A lone `end` takes the same span back from it. ValueError if nothing of the range is left.
    """
    for name, value in (("start", start), ("end", end)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware (UTC)")
    now_end = ceil_hour(now)
    if granularity is Granularity.HOUR:
        last = now_end if end is None else ceil_hour(end)
        first = floor_hour((now if end is None else end) - limits.recent_window)
        first = first if start is None else floor_hour(start)
    elif granularity is Granularity.DAY:
        last = now_end if end is None else ceil_day(end)
        first = floor_day(now) - DAY * 27 if end is None else last - DAY * 28
        first = first if start is None else floor_day(start)
    else:
        raise ValueError(f"{granularity} is not a series granularity")
    last = min(last, now_end)
    first = max(first, limits.historical_floor)
    if last <= first:
        raise ValueError(_empty_range_message(first, last, now_end, limits))
    return first, last


def _empty_range_message(first: datetime, last: datetime, now_end: datetime, limits: Limits) -> str:
    if first >= now_end:
        return f"the range starts at {first:%Y-%m-%d %H:%M} UTC, in the future"
    if last <= limits.historical_floor:
        return f"the range ends before {limits.historical_floor:%Y-%m-%d}, where X's history starts"
    return "the range's end must be after its start"


def unborn(post_id: str, bucket: datetime | date) -> bool:
    """Whether `bucket` (an hour's start, or a UTC day) ended before the Post was created, as
    its snowflake ID says: it had no count then, not a count of zero. False for a pre-snowflake
    ID, whose creation time is unknown."""
    return ended_before(bucket, creation(post_id))


def creation(post_id: str) -> datetime | None:
    """When the Post was created, as its snowflake ID says (None: a pre-snowflake ID)."""
    return snowflake.created_at(int(post_id)) if snowflake.is_decimal_id(post_id) else None


def ended_before(bucket: datetime | date, created: datetime | None) -> bool:
    """`unborn` for a Post created at `created`, known already (a series asks per bucket)."""
    if created is None:
        return False
    end = bucket + HOUR if isinstance(bucket, datetime) else midnight(bucket) + DAY
    return end <= created


def hour_buckets(start: datetime, end: datetime) -> list[datetime]:
    return [start + HOUR * i for i in range((end - start) // HOUR)]


def day_buckets(start: datetime, end: datetime) -> list[date]:
    """The UTC dates that [start, end) touches, a partial first or last day included."""
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + DAY * i for i in range((last - first).days + 1)] if end > start else []
