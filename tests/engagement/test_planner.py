"""The planner: exact plans for a table of cases, and properties of random workloads.

Expected plans are written out from the rules (docs/simulator.md#choosing-an-endpoint and the
product decisions in bot/engagement/planner.py's docstring), with every instant computed here
from NOW.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engagement import wire
from bot.engagement.models import (
    APP_ONLY,
    DAILY,
    HOURLY,
    LIMITS,
    PER_POST,
    Endpoint,
    EngagementRequest,
    Grouping,
    Limits,
    UserAuth,
)
from bot.engagement.planner import describe, plan
from bot.engagement.query import (
    EngagementQuery,
    Gap,
    Granularity,
    Plan,
    PlannedCall,
    PostInfo,
    Reason,
    explain,
)
from bot.engagement.snowflake import epoch_ms, make_id

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
END = datetime(2026, 11, 26, 13, tzinfo=UTC)  # ceil_hour(NOW)
RECENT = datetime(2026, 11, 25, 8, tzinfo=UTC)  # floor_hour(NOW − 28h)
W = timedelta(days=28)
H = timedelta(hours=1)
D = timedelta(days=1)
BRAND, CREATOR, STRANGER = "101", "102", "999"
OWNERS = frozenset({BRAND, CREATOR})

_sequence = itertools.count()


def post(created: datetime | None, author: str | None = BRAND) -> PostInfo:
    """A Post whose ID is the snowflake of its creation time (or pre-snowflake when None)."""
    n = next(_sequence)
    if created is None:
        return PostInfo(str(1000 + n), author, None)
    return PostInfo(str(make_id(epoch_ms(created), sequence=n % 4096)), author, created)


def ago(**delta: float) -> datetime:
    return NOW - timedelta(**delta)


def ids(*infos: PostInfo) -> tuple[str, ...]:
    return tuple(i.post_id for i in infos)


def totals(owner: str | None, posts: tuple[PostInfo, ...], *metrics: str) -> PlannedCall:
    return PlannedCall(Endpoint.TOTALS, owner, ids(*posts), metrics, PER_POST)


def recent_lifetime(owner: str, posts: tuple[PostInfo, ...], *metrics: str) -> PlannedCall:
    return PlannedCall(Endpoint.HOURLY_28HR, owner, ids(*posts), metrics, PER_POST, lifetime=True)


def historical(
    owner: str,
    posts: tuple[PostInfo, ...],
    metrics: tuple[str, ...],
    window: tuple[datetime, datetime],
    grouping: Grouping = PER_POST,
) -> PlannedCall:
    start, end = window
    return PlannedCall(
        Endpoint.HISTORICAL,
        owner,
        ids(*posts),
        metrics,
        grouping,
        start,
        end,
        lifetime=grouping == PER_POST,
    )


def recent(
    owner: str, posts: tuple[PostInfo, ...], metrics: tuple[str, ...], g: Grouping
) -> PlannedCall:
    return PlannedCall(Endpoint.HOURLY_28HR, owner, ids(*posts), metrics, g)


def gaps(reason: Reason, posts: tuple[PostInfo, ...], *metrics: str) -> list[Gap]:
    return [Gap(p.post_id, m, reason) for p in posts for m in metrics]


@dataclass
class Case:
    posts: list[PostInfo]
    query: EngagementQuery
    calls: list[PlannedCall]
    gaps: list[Gap] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    options: dict[str, Any] = field(default_factory=dict)


def query(posts: list[PostInfo], *metrics: str, **kw: Any) -> EngagementQuery:
    return EngagementQuery(ids(*posts), metrics, **kw)


# --- TOTAL ----------------------------------------------------------------------------------------


def case_unowned_posts_get_public_metrics_app_only() -> Case:
    a, b = post(ago(days=3), STRANGER), post(ago(days=400), None)  # author unknown: not owned
    return Case(
        [a, b],
        query([a, b], "favorites", "impressions", "url_clicks"),
        [totals(None, (a, b), "favorites")],
        gaps(Reason.NOT_OWNED, (a,), "impressions", "url_clicks")
        + gaps(Reason.NOT_OWNED, (b,), "impressions", "url_clicks"),
    )


def case_mixed_authors_and_ages() -> Case:
    young, foreign, old, creators = (
        post(ago(days=10), BRAND),
        post(ago(days=5), STRANGER),
        post(ago(days=100), BRAND),
        post(ago(days=20), CREATOR),
    )
    born = datetime(2026, 8, 18, 12, tzinfo=UTC)  # floor_hour(NOW − 100 days)
    # [E−4W, E−3W) starts before the Post: raised to its creation hour.
    windows = [(born, END - 3 * W), (END - 3 * W, END - 2 * W), (END - 2 * W, END - W)]
    windows.append((END - W, END))
    return Case(
        [young, foreign, old, creators],
        query([young, foreign, old, creators], "impressions", "retweets"),
        [
            totals(None, (foreign, old), "retweets"),  # old needs only public from /totals
            totals(BRAND, (young,), "impressions", "retweets"),
            *(historical(BRAND, (old,), ("impressions",), w) for w in windows),
            totals(CREATOR, (creators,), "impressions", "retweets"),
        ],
        gaps(Reason.NOT_OWNED, (foreign,), "impressions"),
    )


def case_ninety_days_is_the_last_day_on_totals() -> Case:
    at, past = post(ago(days=90), BRAND), post(ago(days=90, minutes=1), BRAND)
    born = datetime(2026, 8, 28, 12, tzinfo=UTC)  # floor_hour(NOW − 90 days − 1 min)
    windows = [(born, END - 3 * W), (END - 3 * W, END - 2 * W), (END - 2 * W, END - W)]
    windows.append((END - W, END))
    return Case(
        [at, past],
        query([at, past], "engagements"),
        [
            totals(BRAND, (at,), "engagements"),
            *(historical(BRAND, (past,), ("engagements",), w) for w in windows),
        ],
    )


def case_lifetime_inside_the_28_hour_window_uses_28hr() -> Case:
    at, before = post(RECENT, BRAND), post(RECENT - timedelta(seconds=1), BRAND)
    return Case(
        [at, before],
        query([at, before], "favorites", "url_clicks"),
        [
            totals(None, (at, before), "favorites"),  # public: pooled app-only, not in windows
            recent_lifetime(BRAND, (at,), "url_clicks"),
            historical(BRAND, (before,), ("url_clicks",), (RECENT - H, END)),
        ],
    )


def case_video_views_stop_at_1800_days() -> Case:
    at, past = post(ago(days=1800), STRANGER), post(ago(days=1800, minutes=1), STRANGER)
    return Case(
        [at, past],
        query([at, past], "video_views"),
        [totals(None, (at,), "video_views")],  # `past` has nothing left to ask
        gaps(Reason.VIDEO_VIEWS_TOO_OLD, (past,), "video_views"),
    )


def case_video_views_too_old_still_rides_along_for_other_metrics() -> Case:
    at, past = post(ago(days=1800), STRANGER), post(ago(days=1800, minutes=1), STRANGER)
    return Case(
        [at, past],
        query([at, past], "video_views", "favorites"),
        [totals(None, (at, past), "video_views", "favorites")],
        gaps(Reason.VIDEO_VIEWS_TOO_OLD, (past,), "video_views"),
    )


def case_before_the_floor_and_pre_snowflake() -> Case:
    early, pre = post(datetime(2014, 8, 31, 23, tzinfo=UTC), BRAND), post(None, BRAND)
    return Case(
        [early, pre],
        query([early, pre], "impressions", "favorites", "video_views"),
        [totals(None, (early, pre), "favorites")],
        [
            Gap(early.post_id, "impressions", Reason.BEFORE_FLOOR),
            Gap(early.post_id, "video_views", Reason.VIDEO_VIEWS_TOO_OLD),
            Gap(pre.post_id, "impressions", Reason.BEFORE_FLOOR),
            Gap(pre.post_id, "video_views", Reason.VIDEO_VIEWS_TOO_OLD),
        ],
        options={"max_lifetime_windows": 10_000},
    )


def case_a_one_year_floor() -> Case:
    floor = datetime(2026, 1, 1, tzinfo=UTC)
    at, before = post(floor, BRAND), post(floor - timedelta(seconds=1), BRAND)
    # E − floor = 329 days 13 hours: 12 windows, the oldest raised to the floor.
    windows = [(max(END - k * W, floor), END - (k - 1) * W) for k in range(12, 0, -1)]
    assert windows[0] == (floor, datetime(2026, 1, 22, 13, tzinfo=UTC))
    return Case(
        [at, before],
        query([at, before], "media_views"),
        [historical(BRAND, (at,), ("media_views",), w) for w in windows],
        gaps(Reason.BEFORE_FLOOR, (before,), "media_views"),
        options={"limits": Limits(historical_floor=floor)},
    )


def case_too_long_a_lifetime() -> Case:
    old = post(ago(days=400), BRAND)  # 400 days + 1 hour: 15 windows
    return Case([old], query([old], "url_clicks"), [], gaps(Reason.TOO_LONG, (old,), "url_clicks"))


def case_a_longer_allowance_fetches_it() -> Case:
    old = post(ago(days=400), BRAND)
    born = datetime(2025, 10, 22, 12, tzinfo=UTC)
    windows = [(max(END - k * W, born), END - (k - 1) * W) for k in range(15, 0, -1)]
    assert windows[0][0] == born
    return Case(
        [old],
        query([old], "url_clicks"),
        [historical(BRAND, (old,), ("url_clicks",), w) for w in windows],
        options={"max_lifetime_windows": 15},
    )


def case_251_posts_make_two_totals_calls_per_auth() -> Case:
    public = [post(ago(days=1 + i), STRANGER) for i in range(251)]
    owned = [post(ago(hours=1 + i), BRAND) for i in range(251)]
    return Case(
        public + owned,
        query(public + owned, "impressions", "replies"),
        [
            totals(None, tuple(public[:250]), "replies"),
            totals(None, tuple(public[250:]), "replies"),
            totals(BRAND, tuple(owned[:250]), "impressions", "replies"),
            totals(BRAND, tuple(owned[250:]), "impressions", "replies"),
        ],
        gaps(Reason.NOT_OWNED, tuple(public), "impressions"),
    )


def case_26_recent_posts_make_two_28hr_calls() -> Case:
    owned = [post(ago(hours=1 + i), BRAND) for i in range(26)]
    return Case(
        owned,
        query(owned, "url_clicks"),
        [
            recent_lifetime(BRAND, tuple(owned[:25]), "url_clicks"),
            recent_lifetime(BRAND, tuple(owned[25:]), "url_clicks"),
        ],
    )


def case_owners_in_order_of_first_appearance() -> Case:
    c1, b, c2 = post(ago(days=1), CREATOR), post(ago(days=2), BRAND), post(ago(days=3), CREATOR)
    return Case(
        [c1, b, c2],
        query([c1, b, c2], "impressions"),
        [totals(CREATOR, (c1, c2), "impressions"), totals(BRAND, (b,), "impressions")],
    )


def case_ids_canonical_and_distinct() -> Case:
    p = post(None, STRANGER)
    q = EngagementQuery(("00" + p.post_id, p.post_id), ("favorites", "favorites"))
    return Case([p], q, [totals(None, (p,), "favorites")])


# --- HOUR and DAY ---------------------------------------------------------------------------------


def case_hour_default_is_the_28hr_window() -> Case:
    a, b, c = post(ago(hours=3), BRAND), post(ago(hours=3), STRANGER), post(ago(days=10), CREATOR)
    return Case(
        [a, b, c],
        query([a, b, c], "impressions", "quote_tweets", granularity=Granularity.HOUR),
        [
            recent(BRAND, (a,), ("impressions",), HOURLY),
            recent(CREATOR, (c,), ("impressions",), HOURLY),
        ],
        [
            Gap(a.post_id, "quote_tweets", Reason.NOT_SERVED),
            Gap(b.post_id, "impressions", Reason.NOT_OWNED),
            Gap(b.post_id, "quote_tweets", Reason.NOT_SERVED),
            Gap(c.post_id, "quote_tweets", Reason.NOT_SERVED),
        ],
        start=RECENT,
        end=END,
    )


def case_day_default_is_28_days() -> Case:
    a, b = post(ago(hours=3), BRAND), post(ago(days=60), BRAND)
    start = datetime(2026, 10, 30, tzinfo=UTC)  # midnight(NOW) − 27 days
    return Case(
        [a, b],
        query([a, b], "impressions", granularity=Granularity.DAY),
        [historical(BRAND, (a, b), ("impressions",), (start, END), DAILY)],
        start=start,
        end=END,
    )


def case_day_range_over_four_windows() -> Case:
    old = post(datetime(2026, 1, 1, tzinfo=UTC), BRAND)
    mid = post(datetime(2026, 8, 1, 15, tzinfo=UTC), BRAND)
    edge = post(datetime(2026, 7, 13, 5, tzinfo=UTC), BRAND)  # its day starts a window
    late = post(datetime(2026, 10, 1, tzinfo=UTC), BRAND)  # after the range: no call
    foreign = post(datetime(2026, 1, 1, tzinfo=UTC), STRANGER)
    d = [datetime(2026, 6, 15, tzinfo=UTC) + k * W for k in range(4)]
    last = (d[3], datetime(2026, 9, 21, tzinfo=UTC))
    everyone = [old, mid, edge, late, foreign]
    return Case(
        everyone,
        query(
            everyone,
            "impressions",
            granularity=Granularity.DAY,
            start=datetime(2026, 6, 15, 10, tzinfo=UTC),
            end=datetime(2026, 9, 20, 5, tzinfo=UTC),
        ),
        [
            historical(BRAND, (old,), ("impressions",), (d[0], d[1]), DAILY),
            historical(BRAND, (old, mid, edge), ("impressions",), (d[1], d[2]), DAILY),
            historical(BRAND, (old, mid, edge), ("impressions",), (d[2], d[3]), DAILY),
            historical(BRAND, (old, mid, edge), ("impressions",), last, DAILY),
        ],
        gaps(Reason.NOT_OWNED, (foreign,), "impressions"),
        start=d[0],
        end=last[1],
    )


def case_hour_range_inside_28_hours_is_sliced_from_28hr() -> Case:
    a, fresh = post(ago(days=2), BRAND), post(ago(minutes=20), BRAND)  # fresh: after the range
    return Case(
        [a, fresh],
        query(
            [a, fresh],
            "impressions",
            granularity=Granularity.HOUR,
            start=ago(hours=5),
            end=ago(hours=1),
        ),
        [recent(BRAND, (a,), ("impressions",), HOURLY)],
        start=datetime(2026, 11, 26, 7, tzinfo=UTC),
        end=datetime(2026, 11, 26, 12, tzinfo=UTC),
    )


def case_hour_range_of_40_days() -> Case:
    young, old = post(ago(hours=3), BRAND), post(ago(days=100), BRAND)
    start = datetime(2026, 10, 17, 12, tzinfo=UTC)
    return Case(
        [young, old],
        query([young, old], "url_clicks", granularity=Granularity.HOUR, start=ago(days=40)),
        [
            historical(BRAND, (old,), ("url_clicks",), (start, start + W), HOURLY),
            historical(BRAND, (young, old), ("url_clicks",), (start + W, END), HOURLY),
        ],
        start=start,
        end=END,
    )


def case_26_posts_in_a_series_window() -> Case:
    owned = [post(ago(days=1 + i), BRAND) for i in range(26)]
    start = datetime(2026, 10, 30, tzinfo=UTC)
    return Case(
        owned,
        query(owned, "favorites", granularity=Granularity.DAY),
        [
            historical(BRAND, tuple(owned[:25]), ("favorites",), (start, END), DAILY),
            historical(BRAND, tuple(owned[25:]), ("favorites",), (start, END), DAILY),
        ],
        start=start,
        end=END,
    )


def case_range_clipped_to_the_floor_with_a_pre_snowflake_post() -> Case:
    pre = post(None, BRAND)
    floor, end = datetime(2014, 9, 1, tzinfo=UTC), datetime(2014, 10, 1, tzinfo=UTC)
    return Case(
        [pre],
        query(
            [pre],
            "impressions",
            "video_views",
            granularity=Granularity.DAY,
            start=datetime(2014, 8, 1, tzinfo=UTC),
            end=end,
        ),
        [
            historical(BRAND, (pre,), ("impressions",), (floor, floor + W), DAILY),
            historical(BRAND, (pre,), ("impressions",), (floor + W, end), DAILY),
        ],
        gaps(Reason.VIDEO_VIEWS_TOO_OLD, (pre,), "video_views"),
        start=floor,
        end=end,
    )


def case_days_on_windows_off_midnight_join_by_creation_day() -> Case:
    floor = datetime(2026, 1, 1, 10, tzinfo=UTC)  # e.g. the simulator's one-year floor
    first = (floor, floor + W)  # ends 2026-01-29 10:00
    second = (floor + W, datetime(2026, 2, 26, tzinfo=UTC))
    same_day = post(datetime(2026, 1, 29, 15, tzinfo=UTC), BRAND)  # its day starts before 10:00
    next_day = post(datetime(2026, 1, 30, 1, tzinfo=UTC), BRAND)
    return Case(
        [same_day, next_day],
        query(
            [same_day, next_day],
            "impressions",
            granularity=Granularity.DAY,
            start=datetime(2025, 12, 1, tzinfo=UTC),
            end=datetime(2026, 2, 25, 12, tzinfo=UTC),
        ),
        [
            historical(BRAND, (same_day,), ("impressions",), first, DAILY),
            historical(BRAND, (same_day, next_day), ("impressions",), second, DAILY),
        ],
        start=floor,
        end=second[1],
        options={"limits": Limits(historical_floor=floor)},
    )


def case_end_in_the_future_is_clipped_to_now() -> Case:
    a = post(ago(days=30), BRAND)
    start = datetime(2026, 11, 24, tzinfo=UTC)
    return Case(
        [a],
        query([a], "impressions", granularity=Granularity.DAY, start=ago(days=2), end=NOW + 5 * D),
        [historical(BRAND, (a,), ("impressions",), (start, END), DAILY)],
        start=start,
        end=END,
    )


def case_a_lone_end_takes_28_hours_back() -> Case:
    a = post(ago(days=30), BRAND)
    end = datetime(2026, 11, 16, 13, tzinfo=UTC)  # ceil_hour(NOW − 10 days)
    return Case(
        [a],
        query([a], "impressions", granularity=Granularity.HOUR, end=ago(days=10)),
        [historical(BRAND, (a,), ("impressions",), (end - 29 * H, end), HOURLY)],
        start=end - 29 * H,
        end=end,
    )


CASES: list[Callable[[], Case]] = [
    f for name, f in list(globals().items()) if name.startswith("case_")
]


@pytest.mark.parametrize("make", CASES, ids=[f.__name__[5:] for f in CASES])
def test_plan(make: Callable[[], Case]) -> None:
    case = make()
    got = plan(
        case.query,
        posts={p.post_id: p for p in case.posts},
        owners=OWNERS,
        now=NOW,
        **case.options,
    )
    expected = Plan(case.query, tuple(case.calls), tuple(case.gaps), case.start, case.end)
    assert got == expected


@pytest.mark.parametrize(
    ("metrics", "granularity", "start", "end", "message"),
    [
        (("media_clicks",), Granularity.TOTAL, None, None, "unknown metric"),
        (("impressions",), Granularity.HOUR, NOW + 2 * H, None, "in the future"),
        (("impressions",), Granularity.DAY, None, datetime(2014, 8, 1, tzinfo=UTC), "2014-09-01"),
        (("impressions",), Granularity.HOUR, ago(hours=1), ago(hours=5), "after its start"),
        (("impressions",), Granularity.DAY, datetime(2026, 11, 1), None, "timezone-aware"),  # noqa: DTZ001
    ],
)
def test_impossible_queries(
    metrics: tuple[str, ...],
    granularity: Granularity,
    start: datetime | None,
    end: datetime | None,
    message: str,
) -> None:
    p = post(ago(days=1), BRAND)
    q = EngagementQuery((p.post_id,), metrics, granularity, start, end)
    with pytest.raises(ValueError, match=message):
        plan(q, posts={p.post_id: p}, owners=OWNERS, now=NOW)


def test_every_post_must_be_described() -> None:
    with pytest.raises(ValueError, match="no PostInfo for Post"):
        plan(EngagementQuery(("42",), ("favorites",)), posts={}, owners=OWNERS, now=NOW)


def test_describe_names_every_call_every_gap_and_the_count() -> None:
    case = case_mixed_authors_and_ages()
    p = plan(case.query, posts={i.post_id: i for i in case.posts}, owners=OWNERS, now=NOW)
    lines = describe(p)
    foreign, old = case.posts[1], case.posts[2]
    assert len(lines) == len(p.calls) + 2
    assert lines[0].startswith("POST /insights/engagement/totals | app-only | 2 Posts")
    assert f"({foreign.post_id}, {old.post_id}) | retweets | per_post" in lines[0]
    assert lines[2].startswith(f"POST /insights/engagement/historical | owner {BRAND} | 1 Post")
    assert f"({old.post_id}) | impressions | per_post | 2026-08-18 12:00 → " in lines[2]
    assert lines[2].endswith("summed into lifetime totals")
    assert explain(Reason.NOT_OWNED) in lines[-2]
    assert lines[-2].endswith(f"{foreign.post_id}: impressions")
    assert lines[-1] == "7 calls"
    many = plan(
        query(case.posts, "favorites"),
        posts={i.post_id: i for i in case.posts},
        owners=frozenset(),
        now=NOW,
    )
    shown = ", ".join(ids(*case.posts[:3]))
    assert describe(many) == [
        f"POST /insights/engagement/totals | app-only | 4 Posts ({shown}, …) | favorites"
        " | per_post",
        "1 call",
    ]


# --- Properties of random workloads ---------------------------------------------------------------
# The rules again, written plainly and independently of the planner's code.

PUBLIC = {"favorites", "retweets", "quote_tweets", "replies", "video_views"}
ON_TOTALS = PUBLIC | {"impressions", "engagements"}
PRIVATE_ON_TOTALS = {"impressions", "engagements"}
METRICS = [
    "impressions", "engagements", "favorites", "retweets", "quote_tweets", "replies",
    "video_views", "media_views", "media_engagements", "url_clicks", "hashtag_clicks",
    "detail_expands", "permalink_clicks", "app_install_attempts", "app_opens", "email_tweet",
    "user_follows", "user_profile_clicks",
]  # fmt: skip
SERVED = {Endpoint.TOTALS: ON_TOTALS, Endpoint.HOURLY_28HR: set(METRICS) - {"quote_tweets"}}
SERVED[Endpoint.HISTORICAL] = SERVED[Endpoint.HOURLY_28HR]


def fl_hour(t: datetime) -> datetime:
    return datetime(t.year, t.month, t.day, t.hour, tzinfo=UTC)


def cl_hour(t: datetime) -> datetime:
    return t if fl_hour(t) == t else fl_hour(t) + H


def fl_day(t: datetime) -> datetime:
    return datetime(t.year, t.month, t.day, tzinfo=UTC)


def cl_day(t: datetime) -> datetime:
    return t if fl_day(t) == t else fl_day(t) + D


def ceil_div(a: int, b: int) -> int:
    return (a + b - 1) // b


@dataclass(frozen=True)
class Workload:
    now: datetime
    limits: Limits
    posts: tuple[PostInfo, ...]
    query: EngagementQuery
    owners: frozenset[str]
    max_windows: int

    def older(self, p: PostInfo, days: int) -> bool:
        return p.created_at is None or self.now - p.created_at > timedelta(days=days)

    def owner(self, p: PostInfo) -> str | None:
        return p.author_id if p.author_id in self.owners else None


BOUNDARY_AGES = [28 * 3600 - 1, 28 * 3600, 29 * 3600, 90 * 86400, 90 * 86400 + 1, 1800 * 86400]
BOUNDARY_AGES += [1800 * 86400 + 1, 400 * 86400, 0]


@st.composite
def workloads(draw: st.DrawFn, granularity: Granularity) -> Workload:
    now = draw(
        st.datetimes(datetime(2021, 1, 1), datetime(2029, 12, 31), timezones=st.just(UTC))  # noqa: DTZ001
    )
    if draw(st.booleans()):
        now = fl_hour(now)
    one_year = Limits(historical_floor=fl_hour(now) - timedelta(days=365))
    limits = draw(st.sampled_from([LIMITS, one_year]))
    ages = st.one_of(
        st.integers(0, 40 * 3600),
        st.integers(40 * 3600, 200 * 86400),
        st.integers(200 * 86400, 3650 * 86400),
        st.sampled_from(BOUNDARY_AGES),
        st.none(),  # pre-snowflake
    )
    authors = st.sampled_from(["1", "1", "2", "3", None])
    rows = draw(st.lists(st.tuples(ages, authors), max_size=12))
    rows *= draw(st.sampled_from([1, 1, 3, 13, 27]))  # enough Posts to fill batches of 25 and 250
    posts = tuple(
        PostInfo(
            str(1000 + i) if age is None else str(10**15 + i),
            author,
            None if age is None else now - timedelta(seconds=age),
        )
        for i, (age, author) in enumerate(rows)
    )
    post_ids = [p.post_id for p in posts]
    repeat: bool = draw(st.booleans())
    if post_ids and repeat:
        post_ids.append(draw(st.sampled_from(post_ids)))  # a repeat is asked once
    metrics = draw(st.lists(st.sampled_from(METRICS), min_size=1, max_size=5, unique=True))
    end = now - timedelta(hours=draw(st.integers(-48, 400 * 24)), minutes=draw(st.integers(0, 59)))
    start = end - timedelta(hours=draw(st.integers(-3, 120 * 24)))
    given_bounds = draw(st.sampled_from(["neither", "both", "start", "end"]))
    return Workload(
        now=now,
        limits=limits,
        posts=posts,
        query=EngagementQuery(
            tuple(post_ids),
            tuple(metrics),
            granularity,
            start if given_bounds in ("both", "start") else None,
            end if given_bounds in ("both", "end") else None,
        ),
        owners=draw(st.sampled_from([frozenset(o) for o in ("1", "12", "123", "2", "")])),
        max_windows=draw(st.sampled_from([14, 14, 3, 30])),
    )


def spec_range(w: Workload) -> tuple[datetime, datetime] | None:
    q, now_end = w.query, cl_hour(w.now)
    if q.granularity is Granularity.HOUR:
        end = cl_hour(q.end) if q.end else now_end
        start = fl_hour(q.start) if q.start else fl_hour((q.end or w.now) - 28 * H)
    else:
        end = cl_day(q.end) if q.end else now_end
        start = fl_day(q.start) if q.start else (end - 28 * D if q.end else fl_day(w.now) - 27 * D)
    start, end = max(start, w.limits.historical_floor), min(end, now_end)
    return (start, end) if start < end else None


def spec_total_route(w: Workload, p: PostInfo, metric: str) -> str | Reason:
    """'public' / 'private' (on /totals), 'recent' / 'history' (lifetime), or a gap's Reason."""
    if metric == "video_views" and w.older(p, 1800):
        return Reason.VIDEO_VIEWS_TOO_OLD
    if metric in PUBLIC:
        return "public"
    if w.owner(p) is None:
        return Reason.NOT_OWNED
    if metric in PRIVATE_ON_TOTALS and not w.older(p, 90):
        return "private"
    if p.created_at is None or p.created_at < w.limits.historical_floor:
        return Reason.BEFORE_FLOOR
    if p.created_at >= fl_hour(w.now - 28 * H):
        return "recent"
    if life_windows(w, p) > w.max_windows:
        return Reason.TOO_LONG
    return "history"


def life_windows(w: Workload, p: PostInfo) -> int:
    assert p.created_at is not None
    return ceil_div(int((cl_hour(w.now) - fl_hour(p.created_at)) / H), 28 * 24)


def spec_series_route(w: Workload, p: PostInfo, metric: str) -> str | Reason:
    if metric == "quote_tweets":
        return Reason.NOT_SERVED
    if w.owner(p) is None:
        return Reason.NOT_OWNED
    if metric == "video_views" and w.older(p, 1800):
        return Reason.VIDEO_VIEWS_TOO_OLD
    return "series"


def distinct_posts(w: Workload) -> list[PostInfo]:
    asked = dict.fromkeys(w.query.post_ids)
    return [p for p in w.posts if p.post_id in asked]


def spec_series_windows(w: Workload, rng: tuple[datetime, datetime]) -> list[tuple[Any, Any]]:
    start, end = rng
    if start >= fl_hour(w.now - 28 * H):
        return [(None, end)]  # /28hr
    bounds = [start + k * W for k in range(ceil_div(int((end - start) / H), 28 * 24))] + [end]
    return list(itertools.pairwise(bounds))


def joined(w: Workload, p: PostInfo) -> datetime | None:
    if p.created_at is None:
        return None
    return fl_day(p.created_at) if w.query.granularity is Granularity.DAY else fl_hour(p.created_at)


def spec_call_count(w: Workload, routes: dict[tuple[str, str], str | Reason], rng: Any) -> int:
    """ceil(n / batch) per auth context and window: the fewest calls the limits allow."""
    posts = distinct_posts(w)
    wants: dict[str, set[str]] = defaultdict(set)
    for (post_id, _), route in routes.items():
        if isinstance(route, str):
            wants[post_id].add(route)
    count = 0
    if w.query.granularity is Granularity.TOTAL:
        on_totals: dict[str | None, int] = defaultdict(int)
        recent: dict[str | None, int] = defaultdict(int)
        for p in posts:
            if "private" in wants[p.post_id]:
                on_totals[w.owner(p)] += 1
            elif "public" in wants[p.post_id]:
                on_totals[None] += 1
            recent[w.owner(p)] += "recent" in wants[p.post_id]
        count += sum(ceil_div(n, 250) for n in on_totals.values())
        count += sum(ceil_div(n, 25) for n in recent.values())
        history = [p for p in posts if "history" in wants[p.post_id]]
        for k in range(1, max((life_windows(w, p) for p in history), default=0) + 1):
            window_end = cl_hour(w.now) - (k - 1) * W
            alive: dict[str | None, int] = defaultdict(int)
            for p in history:
                alive[w.owner(p)] += fl_hour(p.created_at or w.now) < window_end
            count += sum(ceil_div(n, 25) for n in alive.values())
        return count
    for _, window_end in spec_series_windows(w, rng):
        alive = defaultdict(int)
        for p in posts:
            j = joined(w, p)
            alive[w.owner(p)] += "series" in wants[p.post_id] and (j is None or j < window_end)
        count += sum(ceil_div(n, 25) for n in alive.values())
    return count


def check_call_is_legal(w: Workload, call: PlannedCall) -> None:
    """Nothing X would refuse (docs/simulator.md#request-bodies), and nothing it does not need."""
    by_id = {p.post_id: p for p in w.posts}
    assert 1 <= len(call.post_ids) <= call.endpoint.max_posts
    assert len(set(call.post_ids)) == len(call.post_ids)
    assert call.metrics
    assert len(set(call.metrics)) == len(call.metrics)
    assert set(call.metrics) <= SERVED[call.endpoint]
    if call.owner is None:
        assert call.endpoint is Endpoint.TOTALS
        assert set(call.metrics) <= PUBLIC
    else:
        assert call.owner in w.owners
        assert all(by_id[i].author_id == call.owner for i in call.post_ids)
    if call.endpoint is Endpoint.HISTORICAL:
        assert call.start is not None
        assert call.end is not None
        assert call.start == fl_hour(call.start)
        assert call.end == fl_hour(call.end)
        assert timedelta(0) < call.end - call.start <= W
        assert call.start >= w.limits.historical_floor
        assert call.end <= cl_hour(w.now)
        for i in call.post_ids:  # no window that ended before the Post existed
            j = joined(w, by_id[i]) if not call.lifetime else fl_hour(by_id[i].created_at or w.now)
            assert j is None or j < call.end
    else:
        assert (call.start, call.end) == (None, None)
    series = {Granularity.HOUR: HOURLY, Granularity.DAY: DAILY, Granularity.TOTAL: PER_POST}
    assert call.grouping == series[w.query.granularity]
    assert call.lifetime == (
        w.query.granularity is Granularity.TOTAL and call.endpoint is not Endpoint.TOTALS
    )
    auth = APP_ONLY if call.owner is None else UserAuth(f"{call.owner}-token", "secret")
    wire.normalize(  # the client's own validation agrees
        EngagementRequest(
            call.endpoint, call.post_ids, call.metrics, auth, (call.grouping,), call.start, call.end
        )
    )


def route_of(w: Workload, call: PlannedCall, p: PostInfo) -> set[str]:
    if w.query.granularity is not Granularity.TOTAL:
        return {"series"}
    if call.endpoint is Endpoint.TOTALS:
        return {"private", "public"} if call.owner else {"public"}
    return {"recent"} if call.endpoint is Endpoint.HOURLY_28HR else {"history"}


def check_coverage(w: Workload, p_: Plan, routes: dict[tuple[str, str], str | Reason]) -> None:
    """Each (Post, metric) is in exactly one gap, or in exactly the calls its route needs."""
    by_id = {p.post_id: p for p in w.posts}
    holding: dict[tuple[str, str], list[PlannedCall]] = defaultdict(list)
    for call in p_.calls:
        for i in call.post_ids:
            # Every Post of a call needs something from it (no wasted slot) …
            assert any(routes[(i, m)] in route_of(w, call, by_id[i]) for m in call.metrics)
            for m in call.metrics:
                if routes[(i, m)] in route_of(w, call, by_id[i]):
                    holding[(i, m)].append(call)
        # … and every metric is needed by some Post of it (no wasted metric).
        assert all(
            any(routes[(i, m)] in route_of(w, call, by_id[i]) for i in call.post_ids)
            for m in call.metrics
        )
    expected_gaps = {pair: r for pair, r in routes.items() if isinstance(r, Reason)}
    assert {(g.post_id, g.metric): g.reason for g in p_.gaps} == expected_gaps
    assert len(p_.gaps) == len(expected_gaps)
    for (post_id, metric), route in routes.items():
        calls = sorted(holding[(post_id, metric)], key=lambda c: c.start or w.now)
        if isinstance(route, Reason):
            assert not calls
        elif route in ("public", "private", "recent"):
            assert len(calls) == 1
        elif route == "history":
            born = fl_hour(by_id[post_id].created_at or w.now)
            assert_tiles(calls, born, cl_hour(w.now))
        else:
            assert p_.start is not None
            assert p_.end is not None
            j = joined(w, by_id[post_id])
            if j is not None and j >= p_.end:
                assert not calls  # created after the range: zeros, no call
            elif calls and calls[0].endpoint is Endpoint.HOURLY_28HR:
                assert len(calls) == 1
            else:
                assert_tiles(calls, p_.start if j is None else max(p_.start, j), p_.end)


def assert_tiles(calls: list[PlannedCall], begin: datetime, end: datetime) -> None:
    """Windows back to back, the first holding `begin`, the last ending at `end`."""
    assert calls
    assert all(c.endpoint is Endpoint.HISTORICAL for c in calls)
    assert calls[0].start is not None
    assert calls[0].end is not None
    assert calls[0].start <= begin < calls[0].end
    assert all(a.end == b.start for a, b in itertools.pairwise(calls))
    assert calls[-1].end == end


@pytest.mark.parametrize("granularity", list(Granularity))
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_workloads_get_minimal_legal_complete_plans(
    granularity: Granularity, data: st.DataObject
) -> None:
    w = data.draw(workloads(granularity))
    posts = {p.post_id: p for p in w.posts}
    options: dict[str, Any] = {"posts": posts, "owners": w.owners, "now": w.now}
    options |= {"limits": w.limits, "max_lifetime_windows": w.max_windows}
    rng = None if w.query.granularity is Granularity.TOTAL else spec_range(w)
    if w.query.granularity is not Granularity.TOTAL and rng is None:
        with pytest.raises(ValueError, match="range"):
            plan(w.query, **options)
        return
    p_ = plan(w.query, **options)
    assert (p_.start, p_.end) == (rng or (None, None))
    spec = spec_total_route if w.query.granularity is Granularity.TOTAL else spec_series_route
    routes = {(p.post_id, m): spec(w, p, m) for p in distinct_posts(w) for m in w.query.metrics}
    for call in p_.calls:
        check_call_is_legal(w, call)
    check_coverage(w, p_, routes)
    assert len(p_.calls) == spec_call_count(w, routes, rng)
    # App-only first, then owners in order of first appearance; windows oldest first.
    owner_order = list(dict.fromkeys(o for p in distinct_posts(w) if (o := w.owner(p))))
    ranks = [-1 if c.owner is None else owner_order.index(c.owner) for c in p_.calls]
    assert ranks == sorted(ranks)
    for a, b in itertools.pairwise(p_.calls):
        if (a.owner, a.endpoint) == (b.owner, b.endpoint) and a.start and b.start:
            assert a.start <= b.start
