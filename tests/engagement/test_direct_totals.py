"""The direct path for plans of /totals calls only (bot.engagement.direct_totals) gives the Report
the general path (aggregate_general) gives, over random plans and random answers from X: counts as
strings or integers, Posts X leaves out, the three "not available" ID lists, Posts the executor
dropped (403 or protected), failed and timed-out calls, gaps, and IDs asked twice. Results are real
EngagementResults parsed by bot.engagement.wire.parse_response from bodies written as X would.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engagement.aggregate import aggregate, aggregate_general
from bot.engagement.direct_totals import direct_totals
from bot.engagement.models import (
    APP_ONLY,
    DAILY,
    DEFAULT_TOTALS,
    HOURLY,
    PER_POST,
    Endpoint,
    EngagementRequest,
    EngagementResult,
    GroupBy,
    Grouping,
    RateLimitInfo,
    UserAuth,
)
from bot.engagement.query import EngagementQuery, Gap, Plan, PlannedCall, Reason, Value
from bot.engagement.wire import parse_response
from tests.engagement.test_aggregate import NOW

POSTS = tuple(str(1_000_000 + n) for n in range(8))
NOT_AVAILABLE_LISTS = (
    "unavailable_tweet_ids",
    "unsupported_for_impressions_engagements_tweet_ids",
    "unsupported_for_video_views_tweet_ids",
)


def sub(draw: Any, items: tuple[str, ...], *, min_size: int = 0) -> tuple[str, ...]:
    chosen = draw(st.lists(st.sampled_from(items), min_size=min_size, unique=True))
    return tuple(sorted(chosen, key=items.index))


def x_answer(draw: Any, call: PlannedCall) -> EngagementResult:
    """X's 200 for the IDs the executor sent of `call` (some may have been dropped)."""
    sent = sub(draw, call.post_ids, min_size=1)
    auth = APP_ONLY if call.owner is None else UserAuth(f"{call.owner}-token", "secret")
    request = EngagementRequest(Endpoint.TOTALS, sent, call.metrics, auth, (PER_POST,))
    tree: dict[str, Any] = {}
    for post_id in sub(draw, sent):  # the rest X leaves out
        counts = draw(st.lists(st.integers(0, 10**12), min_size=len(call.metrics)))
        spelled = draw(st.lists(st.booleans(), min_size=len(call.metrics)))
        tree[post_id] = {
            m: str(n) if as_text else n
            for m, n, as_text in zip(call.metrics, counts, spelled, strict=False)
        }
    body: dict[str, Any] = {PER_POST.name: tree}
    for key in NOT_AVAILABLE_LISTS:
        if ids := sub(draw, sent):
            body[key] = list(ids)
    return parse_response(request, body, RateLimitInfo())


@st.composite
def outcomes(draw: Any) -> tuple[Plan, dict[str, Any]]:
    """A /totals plan and what happened to each of its calls."""
    metrics = sub(draw, DEFAULT_TOTALS, min_size=1)
    calls = tuple(
        PlannedCall(
            Endpoint.TOTALS,
            draw(st.sampled_from((None, "101"))),
            sub(draw, POSTS, min_size=1),
            sub(draw, metrics, min_size=1),
            PER_POST,
        )
        for _ in range(draw(st.integers(0, 4)))
    )
    asked = draw(st.lists(st.sampled_from(POSTS), min_size=1, max_size=10))  # repeats allowed
    gaps = tuple(
        Gap(post_id, metric, draw(st.sampled_from(list(Reason))))
        for post_id, metric in draw(
            st.lists(st.tuples(st.sampled_from(POSTS), st.sampled_from(metrics)), max_size=3)
        )
    )
    plan = Plan(EngagementQuery(tuple(asked), metrics), calls, gaps)
    results, failed, timed_out = [], [], []
    for call in calls:
        fate = draw(st.sampled_from(("answered", "answered", "failed", "timed_out")))
        if fate == "answered":
            results.append((call, x_answer(draw, call)))
        else:
            (failed if fate == "failed" else timed_out).append(call)
    kwargs = {
        "failed": failed,
        "timed_out": timed_out,
        "not_owned": frozenset(sub(draw, POSTS)),
        "protected": frozenset(sub(draw, POSTS)),
        "now": NOW,
    }
    return plan, {"results": results, **kwargs}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(outcomes())
def test_direct_path_gives_the_general_paths_report(case: tuple[Plan, dict[str, Any]]) -> None:
    plan, run = case
    asked = list(dict.fromkeys(plan.query.post_ids))
    results = run.pop("results")
    general = aggregate_general(plan, results, **run)
    direct = direct_totals(plan, asked, results, **run)
    assert direct is not None
    assert direct == general
    assert list(direct.totals) == list(general.totals)  # the query's order
    assert list(direct.missing) == list(general.missing)


def test_another_grouping_shape_takes_the_general_path() -> None:
    """[engagement.type, tweet.id] nests the other way: the general path reads it by cells."""
    by_type = Grouping("by_type", (GroupBy.ENGAGEMENT_TYPE, GroupBy.TWEET_ID))
    first, second = POSTS[:2]
    call = PlannedCall(
        Endpoint.TOTALS, "101", (first, second), ("impressions", "favorites"), by_type
    )
    plan = Plan(EngagementQuery((first, second), ("impressions", "favorites")), (call,))
    request = EngagementRequest(
        Endpoint.TOTALS, call.post_ids, call.metrics, UserAuth("101-token", "s"), (by_type,)
    )
    body = {"by_type": {"impressions": {first: "5"}, "favorites": {first: 7}}}
    result = parse_response(request, body, RateLimitInfo())
    none = frozenset[str]()
    assert direct_totals(plan, (first, second), [(call, result)], failed=(), timed_out=(),
                         not_owned=none, protected=none, now=NOW) is None  # fmt: skip
    report = aggregate(plan, [(call, result)], now=NOW)
    assert report.totals[first] == {"impressions": Value(5), "favorites": Value(7)}
    assert report.missing == {
        (second, "impressions"): Reason.UNAVAILABLE,
        (second, "favorites"): Reason.UNAVAILABLE,
    }


def test_a_plan_with_other_endpoints_takes_the_general_path() -> None:
    call = PlannedCall(Endpoint.HISTORICAL, "101", POSTS[:1], ("impressions",), DAILY)
    plan = Plan(EngagementQuery(POSTS[:1], ("impressions",)), (call,))
    assert (
        direct_totals(
            plan,
            POSTS[:1],
            [],
            failed=(call,),
            timed_out=(),
            not_owned=frozenset(),
            protected=frozenset(),
            now=NOW,
        )
        is None
    )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_hours_read_from_the_tree_are_the_cells_hours(data: st.DataObject) -> None:
    """/28hr's hourly series read straight from X's tree (EngagementResult.hourly) equal the
    series its Cells give, "not available" Posts blanked alike."""
    posts = sub(data.draw, POSTS[:4], min_size=1)
    metrics = sub(data.draw, ("impressions", "favorites", "replies"), min_size=1)
    request = EngagementRequest(
        Endpoint.HOURLY_28HR, posts, metrics, UserAuth("101-token", "s"), (HOURLY,)
    )
    days = ("2026-11-25", "2026-11-26")
    tree = {
        p: {
            m: {
                d: {f"{h:02d}": data.draw(st.integers(0, 99)) for h in range(24) if (h + i) % 3}
                for i, d in enumerate(days)
            }
            for m in metrics
        }
        for p in sub(data.draw, posts)
    }
    body: dict[str, Any] = {HOURLY.name: tree}
    if gone := sub(data.draw, posts):
        body["unavailable_tweet_ids"] = list(gone)
    result = parse_response(request, body, RateLimitInfo())
    grouping = result.grouping(HOURLY.name)
    for post_id in posts:
        for metric in metrics:
            cells = grouping.cells_for(post_id, metric)
            assert result.hourly(post_id, metric) == {c.bucket: c.count for c in cells}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from([DAILY, HOURLY]))
def test_historical_series_read_from_the_tree_are_the_cells_series(
    data: st.DataObject, grouping_asked: Grouping
) -> None:
    """/historical's daily and hourly series (EngagementResult.daily/hourly) equal what its
    Cells say, days before X's 2015-09-15 floor included (favorites, replies and retweets not
    recorded there), "not available" Posts blanked alike."""
    posts = sub(data.draw, POSTS[:3], min_size=1)
    metrics = sub(data.draw, ("impressions", "favorites", "replies"), min_size=1)
    request = EngagementRequest(
        Endpoint.HISTORICAL,
        posts,
        metrics,
        UserAuth("101-token", "s"),
        (grouping_asked,),
        start=datetime(2015, 9, 13, tzinfo=UTC),
        end=datetime(2015, 10, 10, tzinfo=UTC),
    )
    days = sub(data.draw, ("2015-09-13", "2015-09-14", "2015-09-15", "2015-10-01"), min_size=1)

    def counts() -> Any:
        if grouping_asked is DAILY:
            return data.draw(st.integers(0, 99))
        return {f"{h:02d}": data.draw(st.integers(0, 99)) for h in range(0, 24, 7)}

    tree = {p: {m: {d: counts() for d in days} for m in metrics} for p in sub(data.draw, posts)}
    body: dict[str, Any] = {grouping_asked.name: tree}
    if gone := sub(data.draw, posts):
        body["unavailable_tweet_ids"] = list(gone)
    result = parse_response(request, body, RateLimitInfo())
    grouping = result.grouping(grouping_asked.name)
    for post_id in posts:
        for metric in metrics:
            cells = grouping.cells_for(post_id, metric)
            if grouping_asked is DAILY:
                assert result.daily(post_id, metric) == {c.day: c.count for c in cells}
            else:
                assert result.hourly(post_id, metric) == {c.bucket: c.count for c in cells}
