"""aggregate(): results of a plan's calls merged into a Report.

The results are real EngagementResults, parsed by bot.engagement.wire.parse_response from bodies
this file writes the way X would (docs/simulator.md#responses) for a simple made-up truth: each
Post gains `rate(post, metric)` engagements per whole hour since it was created. Expected numbers
are read off that truth, never off the aggregate. The last tests run whole plans against the
simulator.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engagement.aggregate import aggregate
from bot.engagement.models import (
    ALL_METRICS,
    APP_ONLY,
    HOURLY,
    PER_POST,
    Endpoint,
    EngagementRequest,
    EngagementResult,
    RateLimitInfo,
    UserAuth,
)
from bot.engagement.planner import plan
from bot.engagement.query import (
    EngagementQuery,
    Granularity,
    Plan,
    PlannedCall,
    PostInfo,
    Reason,
    Value,
)
from bot.engagement.snowflake import epoch_ms, make_id
from bot.engagement.wire import parse_response
from bot.simulator.server import RunningSimulator
from tests.support.memory_x import MemoryX, admin
from tests.support.universe import SIM_START

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)
BRAND, STRANGER = "101", "999"
_count = iter(range(10**6))


def post(created: datetime | None, author: str = BRAND) -> PostInfo:
    n = next(_count)
    if created is None:
        return PostInfo(str(5000 + n), author, None)
    return PostInfo(str(make_id(epoch_ms(created), sequence=n % 4096)), author, created)


# --- The truth, and X answering from it -----------------------------------------------------------

LONG_AGO = datetime(2009, 1, 1, tzinfo=UTC)  # a pre-snowflake Post's creation, for the truth only


def rate(post_id: str, metric: str) -> int:
    return 1 + (int(post_id) + len(metric)) % 5


def cumulative(info: PostInfo, metric: str, at: datetime) -> int:
    """Engagement up to `at` (never past NOW): `rate` per whole hour since creation."""
    created = info.created_at or LONG_AGO
    at = min(at, NOW)
    return 0 if at <= created else rate(info.post_id, metric) * ((at - created) // H)


def bucket(info: PostInfo, metric: str, hour: datetime) -> int:
    return cumulative(info, metric, hour + H) - cumulative(info, metric, hour)


def day_total(info: PostInfo, metric: str, day: date) -> int:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return cumulative(info, metric, start + D) - cumulative(info, metric, start)


def floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def request_for(call: PlannedCall) -> EngagementRequest:
    auth = APP_ONLY if call.owner is None else UserAuth(f"{call.owner}-token", "secret")
    groupings = (call.grouping,)
    return EngagementRequest(
        call.endpoint, call.post_ids, call.metrics, auth, groupings, call.start, call.end
    )


def window_of(call: PlannedCall) -> tuple[datetime, datetime]:
    if call.endpoint is Endpoint.HOURLY_28HR:
        return floor_hour(NOW - 28 * H), floor_hour(NOW) + H
    assert call.start is not None
    assert call.end is not None
    return call.start, call.end


def answer(
    call: PlannedCall,
    posts: dict[str, PostInfo],
    *,
    send: Iterable[str] | None = None,
    unavailable: Iterable[str] = (),
    impressions_unsupported: Iterable[str] = (),
    video_unsupported: Iterable[str] = (),
) -> EngagementResult:
    """What X returns for `call` (or for the IDs in `send`, when the executor dropped some)."""
    sent = tuple(send) if send is not None else call.post_ids
    gone = set(unavailable)
    request = request_for(call)
    request = EngagementRequest(
        request.endpoint, sent, request.metrics, request.auth, request.groupings,
        request.start, request.end,
    )  # fmt: skip
    tree: dict[str, Any] = {}
    for post_id in (p for p in sent if p not in gone):
        info = posts[post_id]
        tree[post_id] = {m: _counts(call, info, m) for m in call.metrics}
    body: dict[str, Any] = {call.grouping.name: tree}
    if call.endpoint is not Endpoint.TOTALS:
        start, end = window_of(call)
        body |= {"start": f"{start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{end:%Y-%m-%dT%H:%M:%SZ}"}
    for key, ids in (
        ("unavailable_tweet_ids", gone),
        ("unsupported_for_impressions_engagements_tweet_ids", set(impressions_unsupported)),
        ("unsupported_for_video_views_tweet_ids", set(video_unsupported)),
    ):
        if ids:
            body[key] = [p for p in sent if p in ids]
    return parse_response(request, body, RateLimitInfo())


def _counts(call: PlannedCall, info: PostInfo, metric: str) -> Any:
    if call.endpoint is Endpoint.TOTALS:
        return str(cumulative(info, metric, NOW))
    start, end = window_of(call)
    if call.grouping == PER_POST:
        return str(cumulative(info, metric, end) - cumulative(info, metric, start))
    days: dict[str, Any] = defaultdict(dict)
    hour = start
    while hour < end:
        days[f"{hour:%Y-%m-%d}"][f"{hour:%H}"] = bucket(info, metric, hour)
        hour += H
    if call.grouping == HOURLY:
        return {day: {h: str(n) for h, n in hours.items()} for day, hours in days.items()}
    return {day: str(sum(hours.values())) for day, hours in days.items()}


def make_plan(posts: list[PostInfo], *metrics: str, **query: Any) -> tuple[Plan, dict[str, Any]]:
    by_id = {p.post_id: p for p in posts}
    q = EngagementQuery(tuple(by_id), metrics, **query)
    return plan(q, posts=by_id, owners={BRAND}, now=NOW), by_id


def run(p: Plan, posts: dict[str, PostInfo], **kw: Any) -> Any:
    return aggregate(p, [(c, answer(c, posts)) for c in p.calls], now=NOW, **kw)


# --- TOTAL ----------------------------------------------------------------------------------------


def test_totals_public_private_and_lifetime_sums() -> None:
    young, foreign, old, fresh = (
        post(NOW - 10 * D),
        post(NOW - 5 * D, STRANGER),
        post(NOW - 100 * D),
        post(NOW - 3 * H),
    )
    p, posts = make_plan([young, foreign, old, fresh], "impressions", "retweets", "url_clicks")
    assert len([c for c in p.calls if c.lifetime and c.endpoint is Endpoint.HISTORICAL]) == 4
    report = run(p, posts)

    def truth(info: PostInfo, metric: str) -> Value:
        return Value(cumulative(info, metric, NOW))

    not_owned = Value(None, Reason.NOT_OWNED)
    assert report.totals == {
        young.post_id: {m: truth(young, m) for m in ("impressions", "retweets", "url_clicks")},
        foreign.post_id: {
            "impressions": not_owned,
            "retweets": truth(foreign, "retweets"),
            "url_clicks": not_owned,
        },
        old.post_id: {m: truth(old, m) for m in ("impressions", "retweets", "url_clicks")},
        fresh.post_id: {m: truth(fresh, m) for m in ("impressions", "retweets", "url_clicks")},
    }
    assert report.missing == {
        (foreign.post_id, "impressions"): Reason.NOT_OWNED,
        (foreign.post_id, "url_clicks"): Reason.NOT_OWNED,
    }
    assert report.calls_made == len(p.calls)
    assert report.fetched_at == NOW
    assert report.series == {}


def test_a_lifetime_is_the_sum_of_its_windows() -> None:
    old = post(NOW - 100 * D - 20 * timedelta(minutes=1))
    p, posts = make_plan([old], "impressions")
    results = [(c, answer(c, posts)) for c in p.calls]
    per_window = [result.value(old.post_id, "impressions") for _, result in results]
    assert len(per_window) == 4
    assert all(n for n in per_window)
    report = aggregate(p, results, now=NOW)
    assert report.totals[old.post_id]["impressions"] == Value(sum(n or 0 for n in per_window))
    assert sum(n or 0 for n in per_window) == cumulative(old, "impressions", NOW)


def test_reasons_from_the_plan_the_results_and_the_executor() -> None:
    gone, too_old, protected, dropped, failing, fine = (post(NOW - k * D) for k in range(1, 7))
    ancient = post(NOW - 2000 * D, STRANGER)
    everyone = [gone, too_old, protected, dropped, failing, fine, ancient]
    p, posts = make_plan(everyone, "impressions", "favorites", "video_views")
    [app_call, owner_call] = p.calls
    # The executor split the owner's batch: `failing` in a call that kept failing, `dropped`
    # refused by X as not the owner's, `protected` isolated as protected.
    kept = [gone.post_id, too_old.post_id, fine.post_id]
    first = PlannedCall(Endpoint.TOTALS, BRAND, tuple(kept), owner_call.metrics, PER_POST)
    failed = PlannedCall(Endpoint.TOTALS, BRAND, (failing.post_id,), owner_call.metrics, PER_POST)
    results = [
        (app_call, answer(app_call, posts)),
        (
            first,
            answer(
                first,
                posts,
                unavailable=[gone.post_id],
                impressions_unsupported=[too_old.post_id],
                video_unsupported=[too_old.post_id],
            ),
        ),
    ]
    report = aggregate(
        p,
        results,
        failed=[failed],
        not_owned={dropped.post_id},
        protected={protected.post_id},
        now=NOW,
    )
    t = report.totals
    assert t[gone.post_id] == dict.fromkeys(p.query.metrics, Value(None, Reason.UNAVAILABLE))
    assert t[too_old.post_id] == {
        "impressions": Value(None, Reason.IMPRESSIONS_TOO_OLD),
        "favorites": Value(cumulative(too_old, "favorites", NOW)),
        "video_views": Value(None, Reason.VIDEO_VIEWS_TOO_OLD),
    }
    assert t[protected.post_id] == dict.fromkeys(p.query.metrics, Value(None, Reason.PROTECTED))
    assert t[dropped.post_id] == dict.fromkeys(p.query.metrics, Value(None, Reason.NOT_OWNED))
    assert t[failing.post_id] == dict.fromkeys(p.query.metrics, Value(None, Reason.FAILED))
    assert t[fine.post_id] == {m: Value(cumulative(fine, m, NOW)) for m in p.query.metrics}
    assert t[ancient.post_id] == {
        "impressions": Value(None, Reason.NOT_OWNED),
        "favorites": Value(cumulative(ancient, "favorites", NOW)),
        "video_views": Value(None, Reason.VIDEO_VIEWS_TOO_OLD),  # from the plan's gap
    }
    assert report.calls_made == 3
    assert set(report.missing) == {
        (post_id, m)
        for post_id, values in t.items()
        for m, value in values.items()
        if value.count is None
    }


def test_one_failed_window_fails_the_whole_lifetime() -> None:
    old, young = post(NOW - 60 * D), post(NOW - 3 * D)
    p, posts = make_plan([old, young], "url_clicks")
    windows = [c for c in p.calls if c.endpoint is Endpoint.HISTORICAL]
    assert len(windows) == 3  # `young` only in the last
    report = aggregate(p, [(c, answer(c, posts)) for c in windows[1:]], failed=windows[:1], now=NOW)
    assert report.totals[old.post_id]["url_clicks"] == Value(None, Reason.FAILED)
    assert report.totals[young.post_id]["url_clicks"] == Value(cumulative(young, "url_clicks", NOW))


def test_a_planned_call_nobody_answered_is_a_failure_not_a_zero() -> None:
    a = post(NOW - 2 * D, STRANGER)
    p, _ = make_plan([a], "favorites")
    report = aggregate(p, [], now=NOW)
    assert report.totals == {a.post_id: {"favorites": Value(None, Reason.FAILED)}}
    assert report.calls_made == 0


# --- HOUR and DAY ---------------------------------------------------------------------------------


def test_hours_are_sliced_from_the_28hr_window() -> None:
    a, fresh = post(NOW - 2 * D), post(NOW - 20 * timedelta(minutes=1))
    start, end = datetime(2026, 11, 26, 7, tzinfo=UTC), datetime(2026, 11, 26, 12, tzinfo=UTC)
    p, posts = make_plan(
        [a, fresh], "impressions", granularity=Granularity.HOUR, start=start, end=end - H / 2
    )
    assert [c.endpoint for c in p.calls] == [Endpoint.HOURLY_28HR]  # 29 hours come back
    report = run(p, posts)
    hours = [start + k * H for k in range(5)]
    assert report.series == {
        a.post_id: {"impressions": {h: bucket(a, "impressions", h) for h in hours}},
        fresh.post_id: {"impressions": dict.fromkeys(hours, 0)},  # created after the range
    }
    assert report.missing == {}
    assert report.totals == {}


def test_days_concatenate_across_windows_with_zeros_before_creation() -> None:
    old = post(datetime(2026, 1, 1, tzinfo=UTC))
    mid = post(datetime(2026, 8, 1, 15, tzinfo=UTC))
    late = post(datetime(2026, 10, 1, tzinfo=UTC))
    pre = post(None)
    p, posts = make_plan(
        [old, mid, late, pre],
        "impressions",
        "quote_tweets",
        granularity=Granularity.DAY,
        start=datetime(2026, 6, 15, tzinfo=UTC),
        end=datetime(2026, 9, 20, 5, tzinfo=UTC),
    )
    assert len(p.calls) == 4
    report = run(p, posts)
    days = [date(2026, 6, 15) + k * D for k in range((date(2026, 9, 21) - date(2026, 6, 15)).days)]
    assert len(days) == 98
    for info in (old, mid, pre):
        assert report.series[info.post_id] == {
            "impressions": {d: day_total(info, "impressions", d) for d in days}
        }
    assert report.series[mid.post_id]["impressions"][date(2026, 7, 31)] == 0
    assert report.series[mid.post_id]["impressions"][date(2026, 8, 1)] > 0
    assert report.series[late.post_id] == {"impressions": dict.fromkeys(days, 0)}
    assert report.missing == {
        (info.post_id, "quote_tweets"): Reason.NOT_SERVED for info in (old, mid, late, pre)
    }


def test_hours_across_windows_end_at_the_current_hour() -> None:
    a = post(NOW - 100 * D)
    p, posts = make_plan([a], "url_clicks", granularity=Granularity.HOUR, start=NOW - 40 * D)
    assert len(p.calls) == 2
    report = run(p, posts)
    assert p.start is not None
    assert p.end is not None
    hours = [p.start + k * H for k in range((p.end - p.start) // H)]
    assert hours[-1] == floor_hour(NOW)
    assert report.series == {
        a.post_id: {"url_clicks": {h: bucket(a, "url_clicks", h) for h in hours}}
    }


def test_buckets_x_did_not_record_are_none() -> None:
    a = post(datetime(2015, 1, 1, tzinfo=UTC))
    p, posts = make_plan(
        [a],
        "favorites",
        "impressions",
        granularity=Granularity.DAY,
        start=datetime(2015, 8, 20, tzinfo=UTC),
        end=datetime(2015, 9, 25, tzinfo=UTC),
    )
    report = run(p, posts)
    favorites = report.series[a.post_id]["favorites"]
    assert len(favorites) == 36
    assert all(favorites[date(2015, 8, 20) + k * D] is None for k in range(26))  # to 09-14
    assert favorites[date(2015, 9, 15)] == day_total(a, "favorites", date(2015, 9, 15))
    assert None not in report.series[a.post_id]["impressions"].values()

    p, posts = make_plan(
        [a], "favorites", granularity=Granularity.DAY, end=datetime(2015, 9, 1, tzinfo=UTC)
    )
    report = run(p, posts)
    assert report.series == {}
    assert report.missing == {(a.post_id, "favorites"): Reason.NOT_RECORDED}


def test_series_missing_reasons() -> None:
    gone, failing, fine, foreign = (
        post(NOW - 5 * D),
        post(NOW - 40 * D),
        post(NOW - 50 * D),
        post(NOW - 5 * D, STRANGER),
    )
    p, posts = make_plan([gone, failing, fine, foreign], "impressions", granularity=Granularity.DAY)
    [call] = p.calls
    part = PlannedCall(call.endpoint, BRAND, (gone.post_id, fine.post_id), call.metrics,
                       call.grouping, call.start, call.end)  # fmt: skip
    other = PlannedCall(call.endpoint, BRAND, (failing.post_id,), call.metrics, call.grouping,
                        call.start, call.end)  # fmt: skip
    report = aggregate(
        p, [(part, answer(part, posts, unavailable=[gone.post_id]))], failed=[other], now=NOW
    )
    assert report.missing == {
        (gone.post_id, "impressions"): Reason.UNAVAILABLE,
        (failing.post_id, "impressions"): Reason.FAILED,
        (foreign.post_id, "impressions"): Reason.NOT_OWNED,
    }
    assert list(report.series) == [fine.post_id]


# --- Any plan, answered in full, gives the truth ------------------------------------------------


@st.composite
def answered_plans(draw: st.DrawFn) -> tuple[Plan, dict[str, PostInfo]]:
    minutes = 24 * 60
    ages = st.one_of(
        st.integers(1, 2 * minutes),
        st.integers(2 * minutes, 120 * minutes),  # either side of 90 days
        st.integers(120 * minutes, 1200 * minutes),
        st.none(),
    )
    rows = draw(st.lists(st.tuples(ages, st.sampled_from([BRAND, BRAND, STRANGER])), max_size=8))
    posts = [
        post(None if age is None else NOW - timedelta(minutes=age), author) for age, author in rows
    ]
    # Private metrics on /totals next to ones only windows serve, more often than by chance.
    likely = ["impressions", "engagements", "url_clicks", "favorites", "video_views"]
    metrics = draw(
        st.lists(st.sampled_from(likely + list(ALL_METRICS)), min_size=1, max_size=3, unique=True)
    )
    granularity = draw(st.sampled_from(Granularity))
    start = None
    if granularity is not Granularity.TOTAL and draw(st.booleans()):
        start = NOW - timedelta(hours=draw(st.integers(1, 60 * 24)))
    return make_plan(posts, *metrics, granularity=granularity, start=start)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answered_plans())
def test_every_plan_answered_in_full_gives_the_truth(
    case: tuple[Plan, dict[str, PostInfo]],
) -> None:
    p, posts = case
    report = run(p, posts)
    gaps = {(g.post_id, g.metric): g.reason for g in p.gaps}
    assert report.missing == gaps
    pairs = [(i, m) for i in posts for m in p.query.metrics]
    if p.query.granularity is Granularity.TOTAL:
        expected = {
            (i, m): Value(None, gaps[(i, m)])
            if (i, m) in gaps
            else Value(cumulative(posts[i], m, NOW))
            for i, m in pairs
        }
        assert {(i, m): report.totals[i][m] for i, m in pairs} == expected
        return
    assert p.start is not None
    assert p.end is not None
    hours = [p.start + k * H for k in range((p.end - p.start) // H)]
    for i, m in pairs:
        if (i, m) in gaps:
            assert m not in report.series.get(i, {})
        elif p.query.granularity is Granularity.HOUR:
            assert report.series[i][m] == {h: bucket(posts[i], m, h) for h in hours}
        else:
            days = sorted({h.date() for h in hours})
            assert report.series[i][m] == {d: day_total(posts[i], m, d) for d in days}


# --- Against the simulator ------------------------------------------------------------------------

SIM_BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")


def sim_posts(sim: RunningSimulator) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in admin(sim.state, "GET", "state")["posts"]}


def ground_truth(sim: RunningSimulator, post_id: str, metric: str, **window: str) -> Any:
    query = "".join(f"&{k}={v}" for k, v in window.items())
    return admin(sim.state, "GET", f"series?tweet_id={post_id}&metrics={metric}{query}")


def execute(sim: RunningSimulator, p: Plan) -> Any:
    """The calls one by one, as an executor without retries would make them, to the simulator
    in process (tests/support/memory_x.py)."""
    client = MemoryX(sim.state)
    results = []
    for call in p.calls:
        request = request_for(call)
        if call.owner is not None:
            request = EngagementRequest(
                request.endpoint, request.post_ids, request.metrics, SIM_BRAND,
                request.groupings, request.start, request.end,
            )  # fmt: skip
        results.append((call, client.fetch(request)))
    return aggregate(p, results, now=SIM_START)


@pytest.fixture
def sim_universe(sim: RunningSimulator) -> tuple[dict[str, PostInfo], dict[str, str]]:
    """PostInfo for every live Post, and a few of sim_brand's by age, plus one of sim_creator's."""
    infos: dict[str, PostInfo] = {}
    picks: dict[str, str] = {}
    for post_id, p in sim_posts(sim).items():
        if p["deleted"] or p["protected"]:
            continue
        created = datetime.fromisoformat(p["created_at"])
        infos[post_id] = PostInfo(post_id, p["author"], created)
        age = SIM_START - created
        kind = (
            "recent" if age < 20 * H
            else "month" if 30 * D < age < 60 * D
            else "old" if 200 * D < age < 300 * D
            else "too_long" if 400 * D < age < 800 * D
            else None
        )  # fmt: skip
        if p["author_screen_name"] == "sim_creator" and age < 10 * D:
            kind = "foreign"
        if kind:
            picks.setdefault(kind, post_id)
    assert set(picks) == {"recent", "month", "old", "too_long", "foreign"}
    return infos, picks


def test_a_lifetime_plan_against_the_simulator(
    sim: RunningSimulator, sim_universe: tuple[dict[str, PostInfo], dict[str, str]]
) -> None:
    infos, picks = sim_universe
    ids = tuple(picks[k] for k in ("recent", "month", "old", "too_long", "foreign"))
    q = EngagementQuery(ids, ("impressions", "favorites", "url_clicks"))
    p = plan(q, posts=infos, owners={"1000000001"}, now=SIM_START)
    assert len([c for c in p.calls if c.endpoint is Endpoint.HISTORICAL]) >= 8
    report = execute(sim, p)
    for kind in ("recent", "month", "old"):
        for metric in q.metrics:
            truth = ground_truth(sim, picks[kind], metric)["lifetime"][metric]
            assert report.totals[picks[kind]][metric] == Value(truth), (kind, metric)
    too_long, foreign = picks["too_long"], picks["foreign"]
    assert report.missing == {
        (too_long, "impressions"): Reason.TOO_LONG,
        (too_long, "url_clicks"): Reason.TOO_LONG,
        (foreign, "impressions"): Reason.NOT_OWNED,
        (foreign, "url_clicks"): Reason.NOT_OWNED,
    }
    favorites = ground_truth(sim, foreign, "favorites")["lifetime"]["favorites"]
    assert report.totals[foreign]["favorites"] == Value(favorites)


@pytest.mark.parametrize("granularity", [Granularity.DAY, Granularity.HOUR])
def test_a_multi_window_series_against_the_simulator(
    sim: RunningSimulator,
    sim_universe: tuple[dict[str, PostInfo], dict[str, str]],
    granularity: Granularity,
) -> None:
    infos, picks = sim_universe
    ids = (picks["recent"], picks["month"], picks["old"])
    q = EngagementQuery(ids, ("impressions",), granularity, start=SIM_START - 45 * D)
    p = plan(q, posts=infos, owners={"1000000001"}, now=SIM_START)
    assert p.start is not None
    assert p.end is not None
    assert [c.start for c in p.calls] == [p.start, p.start + 28 * D]
    report = execute(sim, p)
    span = {"start": f"{p.start:%Y-%m-%dT%H:%M:%SZ}", "end": f"{p.end:%Y-%m-%dT%H:%M:%SZ}"}
    for post_id in ids:
        hours = ground_truth(sim, post_id, "impressions", **span)["buckets"]["impressions"]
        expected: dict[Any, int] = defaultdict(int)
        for hour, count in hours.items():
            start = datetime.fromisoformat(hour)
            expected[start if granularity is Granularity.HOUR else start.date()] += count
        series = report.series[post_id]["impressions"]
        assert series == dict(expected)
