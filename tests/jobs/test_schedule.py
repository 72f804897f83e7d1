"""Digest times, due digests and day windows in local wall-clock time, across DST; and the
endpoint the planner picks for a digest's window. Pure: every instant is given."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from bot.channels.digest import day_bounds
from bot.engagement.models import Endpoint
from bot.engagement.planner import plan
from bot.engagement.query import EngagementQuery, Granularity, PostInfo
from bot.engagement.settled import settled_until
from bot.engagement.windows import ceil_hour, floor_hour
from bot.jobs.schedule import (
    due_digest,
    local_instant,
    missed_digest,
    next_digest_time,
    parse_digest_time,
    prefetch_time,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
MAX_LATE = timedelta(hours=12)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- next_digest_time -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "at", "after", "expected"),
    [
        # Europe/Berlin springs forward 2026-03-29 02:00 CET → 03:00 CEST (01:00 UTC).
        pytest.param(BERLIN, time(9), utc(2026, 3, 28, 9), utc(2026, 3, 29, 7), id="berlin-spring"),
        pytest.param(BERLIN, time(9), utc(2026, 3, 27, 9), utc(2026, 3, 28, 8), id="berlin-before"),
        pytest.param(
            BERLIN, time(2, 30), utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), id="berlin-gap"
        ),
        pytest.param(BERLIN, time(2, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30), id="gap+1"),
        pytest.param(BERLIN, time(2), utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), id="gap-start"),
        pytest.param(BERLIN, time(3), utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), id="gap-end"),
        # Europe/Berlin falls back 2026-10-25 03:00 CEST → 02:00 CET (01:00 UTC).
        pytest.param(BERLIN, time(9), utc(2026, 10, 24, 9), utc(2026, 10, 25, 8), id="berlin-fall"),
        pytest.param(
            BERLIN,
            time(2, 30),
            utc(2026, 10, 24, 12),
            utc(2026, 10, 25, 0, 30),
            id="berlin-overlap-first",
        ),
        pytest.param(
            BERLIN,
            time(2, 30),
            utc(2026, 10, 25, 0, 30),
            utc(2026, 10, 26, 1, 30),
            id="berlin-overlap-once",
        ),
        # America/New_York springs forward 2026-03-08 02:00 EST → 03:00 EDT (07:00 UTC).
        pytest.param(NEW_YORK, time(9), utc(2026, 3, 7, 15), utc(2026, 3, 8, 13), id="ny-spring"),
        pytest.param(NEW_YORK, time(2, 30), utc(2026, 3, 7, 15), utc(2026, 3, 8, 7), id="ny-gap"),
        pytest.param(NEW_YORK, time(0), utc(2026, 3, 7, 15), utc(2026, 3, 8, 5), id="ny-midnight"),
        # America/New_York falls back 2026-11-01 02:00 EDT → 01:00 EST (06:00 UTC).
        pytest.param(NEW_YORK, time(9), utc(2026, 10, 31, 14), utc(2026, 11, 1, 14), id="ny-fall"),
        pytest.param(
            NEW_YORK,
            time(1, 30),
            utc(2026, 10, 31, 12),
            utc(2026, 11, 1, 5, 30),
            id="ny-overlap-first",
        ),
        pytest.param(
            NEW_YORK,
            time(1, 30),
            utc(2026, 11, 1, 5, 30),
            utc(2026, 11, 2, 6, 30),
            id="ny-overlap-once",
        ),
    ],
)
def test_next_digest_time(zone: ZoneInfo, at: time, after: datetime, expected: datetime):
    found = next_digest_time(at, zone, after)
    assert found == expected
    assert found.tzinfo is UTC


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        (BERLIN, date(2026, 3, 25)),
        (BERLIN, date(2026, 10, 21)),
        (NEW_YORK, date(2026, 3, 4)),
        (NEW_YORK, date(2026, 10, 28)),
    ],
)
@pytest.mark.parametrize("at", [time(0), time(1, 30), time(2, 30), time(9), time(23, 59)])
def test_one_digest_a_day_through_a_dst_change(zone: ZoneInfo, start: date, at: time):
    after = local_instant(start, time(), zone) - timedelta(seconds=1)
    fires = []
    for _ in range(10):
        after = next_digest_time(at, zone, after)
        fires.append(after)
    days = [f.astimezone(zone).date() for f in fires]
    assert days == [start + timedelta(days=n) for n in range(10)]
    # On every day whose wall clock has the time, the digest is at exactly that time.
    assert sum(f.astimezone(zone).time() == at for f in fires) >= 9
    assert all(timedelta(hours=22) < b - a < timedelta(hours=26) for a, b in pairwise(fires))


def test_next_digest_time_is_strictly_after():
    at_nine = utc(2026, 11, 26, 8)  # 09:00 in Berlin
    assert next_digest_time(time(9), BERLIN, at_nine) == utc(2026, 11, 27, 8)
    assert next_digest_time(time(9), BERLIN, at_nine - timedelta(microseconds=1)) == at_nine


def test_parse_digest_time():
    assert parse_digest_time("07:05") == time(7, 5)
    for bad in ("7", "07:5", "25:00", "ab:cd"):
        with pytest.raises(ValueError, match="digest time|hour"):
            parse_digest_time(bad)


# -- due_digest -----------------------------------------------------------------------------------


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_due_on_time_covers_yesterday():
    now = berlin(2026, 11, 26, 9, 0, 30)
    assert due_digest(date(2026, 11, 24), now, BERLIN, time(9), max_late=MAX_LATE) == (
        date(2026, 11, 25),
        False,
    )


def test_not_due_before_the_time_or_once_posted():
    before = berlin(2026, 11, 26, 8, 59)
    assert due_digest(date(2026, 11, 24), before, BERLIN, time(9), max_late=MAX_LATE) is None
    after = berlin(2026, 11, 26, 9, 1)
    assert due_digest(date(2026, 11, 25), after, BERLIN, time(9), max_late=MAX_LATE) is None


def test_catch_up_after_three_days_down_is_one_late_digest():
    # Last digest posted on 2026-11-22 at 09:00 (covering the 21st), then down until the 25th.
    last, now = date(2026, 11, 21), berlin(2026, 11, 25, 10, 30)
    assert due_digest(last, now, BERLIN, time(9), max_late=MAX_LATE) == (date(2026, 11, 24), True)
    # Once that one is posted, nothing else is due: not the 22nd, not the 23rd.
    posted = date(2026, 11, 24)
    for minutes in (1, 60, 600):
        later = now + timedelta(minutes=minutes)
        assert due_digest(posted, later, BERLIN, time(9), max_late=MAX_LATE) is None


def test_a_missed_digest_too_old_is_skipped():
    last, now = date(2026, 11, 21), berlin(2026, 11, 25, 8)  # 23 h after the 24th's 09:00
    assert due_digest(last, now, BERLIN, time(9), max_late=MAX_LATE) is None
    assert missed_digest(last, now, BERLIN, time(9)) == date(2026, 11, 23)  # for the log line
    assert missed_digest(date(2026, 11, 23), now, BERLIN, time(9)) is None


def test_late_means_past_the_on_time_margin():
    last = date(2026, 11, 24)
    ten_past = berlin(2026, 11, 26, 9, 10)
    assert due_digest(last, ten_past, BERLIN, time(9), max_late=MAX_LATE) == (
        date(2026, 11, 25),
        False,
    )
    half_past = berlin(2026, 11, 26, 9, 30)
    assert due_digest(last, half_past, BERLIN, time(9), max_late=MAX_LATE) == (
        date(2026, 11, 25),
        True,
    )


def test_never_posted_gets_the_latest_digest():
    now = berlin(2026, 11, 26, 9, 5)
    assert due_digest(None, now, BERLIN, time(9), max_late=MAX_LATE) == (date(2026, 11, 25), False)


def test_due_in_the_spring_gap_is_at_its_end():
    # 02:30 does not exist in Berlin on 2026-03-29; the digest is due at 03:00 CEST.
    last = date(2026, 3, 27)
    assert due_digest(last, utc(2026, 3, 29, 0, 59), BERLIN, time(2, 30), max_late=MAX_LATE) is None
    assert due_digest(last, utc(2026, 3, 29, 1), BERLIN, time(2, 30), max_late=MAX_LATE) == (
        date(2026, 3, 28),
        False,
    )


def test_due_once_in_the_autumn_overlap():
    # 01:30 happens twice in New York on 2026-11-01: due at the first, not again at the second.
    last = date(2026, 10, 30)
    first, second = utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)
    assert due_digest(last, first, NEW_YORK, time(1, 30), max_late=MAX_LATE) == (
        date(2026, 10, 31),
        False,
    )
    assert due_digest(date(2026, 10, 31), second, NEW_YORK, time(1, 30), max_late=MAX_LATE) is None


# -- day_bounds (bot.channels.digest) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "start", "hours"),
    [
        (BERLIN, date(2026, 3, 29), utc(2026, 3, 28, 23), 23),
        (BERLIN, date(2026, 10, 25), utc(2026, 10, 24, 22), 25),
        (BERLIN, date(2026, 11, 26), utc(2026, 11, 25, 23), 24),
        (NEW_YORK, date(2026, 3, 8), utc(2026, 3, 8, 5), 23),
        (NEW_YORK, date(2026, 11, 1), utc(2026, 11, 1, 4), 25),
        (NEW_YORK, date(2026, 7, 4), utc(2026, 7, 4, 4), 24),
    ],
)
def test_day_bounds_are_the_local_day(zone: ZoneInfo, day: date, start: datetime, hours: int):
    first, end = day_bounds(day, zone)
    assert (first, end - first) == (start, timedelta(hours=hours))
    assert first.tzinfo is UTC
    assert end.astimezone(zone).date() == day + timedelta(days=1)
    assert end.astimezone(zone).time() == time()


# -- the endpoint for a digest's window -----------------------------------------------------------

POST_ID = "1850000000000000000"
OWNER = "2244994945"


def digest_plan_endpoints(day: date, zone: ZoneInfo, now: datetime) -> set[Endpoint]:
    """What the planner picks for the hourly series of `day`'s local window at `now`."""
    start, end = day_bounds(day, zone)
    query = EngagementQuery(
        (POST_ID,), ("impressions", "engagements"), Granularity.HOUR, start, end
    )
    post = PostInfo(POST_ID, OWNER, utc(2026, 1, 5, 12))
    planned = plan(query, posts={POST_ID: post}, owners={OWNER}, now=now)
    return {call.endpoint for call in planned.calls}


def by_28_hour_rule(day: date, zone: ZoneInfo, now: datetime) -> Endpoint:
    """/28hr serves [floor_hour(now − 28h), ceil_hour(now)); the window must lie inside it."""
    start, end = day_bounds(day, zone)
    inside = floor_hour(now - timedelta(hours=28)) <= start and end <= ceil_hour(now)
    return Endpoint.HOURLY_28HR if inside else Endpoint.HISTORICAL


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK], ids=["berlin", "new-york"])
@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (time(0, 5), Endpoint.HOURLY_28HR),  # yesterday right after midnight: /28hr
        (time(3), Endpoint.HOURLY_28HR),  # still inside the 28 hours
        (time(23), Endpoint.HISTORICAL),  # a late run: the window's start has left /28hr
    ],
)
@pytest.mark.parametrize(
    "today",
    [
        date(2026, 11, 26),
        date(2026, 3, 30),
        date(2026, 10, 26),
        date(2026, 3, 9),
        date(2026, 11, 2),
    ],
)
def test_endpoint_for_the_digest_window(zone: ZoneInfo, at: time, expected: Endpoint, today: date):
    now = local_instant(today, at, zone)
    yesterday = today - timedelta(days=1)
    assert by_28_hour_rule(yesterday, zone, now) is expected
    assert digest_plan_endpoints(yesterday, zone, now) == {expected}


def test_a_catch_up_after_downtime_needs_historical():
    now = local_instant(date(2026, 11, 26), time(10, 30), BERLIN)  # three days down, then up
    assert digest_plan_endpoints(date(2026, 11, 25), BERLIN, now) == {Endpoint.HISTORICAL}


@pytest.mark.parametrize(
    ("at", "expected"),
    [(time(9), time(8, 30)), (time(1, 20), time(1)), (time(1), None), (time(0, 10), None)],
)
def test_prefetch_time_is_half_an_hour_before_but_not_before_one(at: time, expected: time | None):
    assert prefetch_time(at) == expected


@pytest.mark.parametrize(
    "zone",
    ["Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "Australia/Adelaide", "Europe/Berlin"],
)
@pytest.mark.parametrize("at", [time(1, 5), time(1, 40), time(7), time(23, 59)])
def test_at_prefetch_time_the_whole_previous_day_is_settled(zone: str, at: time):
    place = ZoneInfo(zone)
    fetch_at = prefetch_time(at)
    assert fetch_at is not None
    for day in (date(2026, 3, 29), date(2026, 10, 25), date(2026, 11, 26)):
        when = local_instant(day, fetch_at, place)
        yesterday_end = day_bounds(day - timedelta(days=1), place)[1]
        assert ceil_hour(yesterday_end) <= settled_until(when)
