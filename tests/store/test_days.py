"""The daily series' layout: small on disk, and a column for every metric X's series serve."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engagement.models import DEFAULT_SERIES, SERIES_METRICS
from bot.engagement.records import SeriesRow
from bot.store import Store
from bot.store.cipher import TokenCipher
from bot.store.days import METRICS

START = date(2026, 9, 1)


def test_every_series_metric_can_be_stored_by_the_day() -> None:
    assert SERIES_METRICS <= METRICS


def test_a_tallied_post_day_costs_under_a_hundred_bytes(store: Store) -> None:
    """The tally's five metrics for every Post, one day after another, as the daily tally
    writes them: the table's pages per Post-day (it was ~280 bytes as a row per metric)."""
    rng = random.Random(14)
    posts = [str(1_860_000_000_000_000_000 + rng.randrange(10**15)) for _ in range(300)]
    days = 30
    for n in range(days):
        store.series.save_daily(
            SeriesRow(post, metric, START + timedelta(days=n), rng.randrange(scale))
            for post in posts
            for metric, scale in zip(DEFAULT_SERIES, (5_000, 300, 100, 20, 10), strict=True)
        )
    (size,) = store.database.execute(
        "SELECT SUM(pgsize) FROM dbstat WHERE name = 'daily'"
    ).fetchone()
    assert size / (len(posts) * days) < 100
    # and every value reads back
    stored = store.series.daily(posts[:1], DEFAULT_SERIES, START, START + timedelta(days=days))
    assert sorted(len(series) for series in stored[posts[0]].values()) == [days] * 5


def test_a_metric_with_no_column_is_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(ValueError, match="quote_tweets"):
        store.series.save_daily(
            [
                SeriesRow("1", "impressions", START, 5),
                SeriesRow("1", "quote_tweets", START, 1),  # /totals only: no daily series
            ]
        )
    assert store.series.daily(["1"], ["impressions"], START, START + timedelta(days=1)) == {}


def test_metrics_asked_for_by_hand_read_and_rank_as_the_tallys_do(store: Store) -> None:
    """url_clicks (kept with the rarer metrics) beside impressions (a column of its own)."""
    clicks = {START + timedelta(days=n): v for n, v in ((0, 3), (1, 0), (3, 5), (4, 2))}
    views = {START + timedelta(days=n): v for n, v in ((1, 40), (2, 50), (3, 60))}
    store.series.save_daily(
        [SeriesRow("7", "url_clicks", d, v) for d, v in clicks.items()]
        + [SeriesRow("7", "impressions", d, v) for d, v in views.items()]
        + [SeriesRow("8", "url_clicks", START + timedelta(days=2), "4")]  # type: ignore[arg-type]
    )
    # X corrects a day: its new value, the running totals after it follow.
    store.series.save_daily([SeriesRow("7", "url_clicks", START + timedelta(days=1), 6)])
    clicks[START + timedelta(days=1)] = 6
    end = START + timedelta(days=9)
    assert store.series.daily(["7", "8"], ["url_clicks", "impressions"], START, end) == {
        "7": {"url_clicks": clicks, "impressions": views},
        "8": {"url_clicks": {START + timedelta(days=2): 4}},
    }
    since = START + timedelta(days=1)
    assert store.series.leaderboard("url_clicks", since=since, until=end) == [("7", 13), ("8", 4)]
    assert store.series.leaderboard("impressions", since=since, until=end) == [("7", 150)]
    with pytest.raises(ValueError, match="whole number"):
        store.series.save_daily([SeriesRow("7", "url_clicks", START, 1.5)])  # type: ignore[arg-type]
    assert store.series.daily(["7"], ["url_clicks"], START, since) == {
        "7": {"url_clicks": {START: 3}}
    }


# Several metrics (five with columns, one in the JSON column) saved batch after batch, days in
# any order and overwritten: what reads back, and every range's sum from the running totals,
# is what was saved last.
_POSTS = ("1860000000000000001", "1860000000000000002", "1860000000000000003")
_MIXED = ("impressions", "favorites", "replies", "video_views")
_FACTS = st.lists(
    st.tuples(
        st.sampled_from(_POSTS),
        st.sampled_from(_MIXED),
        st.integers(0, 20),
        st.integers(0, 1_000),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(
    batches=st.lists(st.tuples(_FACTS, st.booleans()), min_size=1, max_size=5),
    since=st.integers(0, 20),
)
def test_what_reads_back_and_every_ranges_sum_are_the_last_values_saved(
    batches: list[tuple[list[tuple[str, str, int, int]], bool]], since: int
) -> None:
    """Batches saved as rows (save_daily) or as a Report's series (save_daily_series, where a
    None value is no reading and keeps what was stored)."""
    saved: dict[tuple[str, str, int], int] = {}
    with Store.open(":memory:", cipher=TokenCipher.generate()) as store:
        for batch, as_series in batches:
            rows = {(p, m, d): v for p, m, d, v in batch}  # a batch names a Post-day once
            if as_series:
                store.series.save_daily_series(series_of(rows), fetched_at=FETCHED)
                read = {p for p, _, _ in rows}
                assert store.series.last_refreshed(_POSTS, "day").keys() >= read
            else:
                store.series.save_daily(
                    SeriesRow(p, m, START + timedelta(days=d), v) for (p, m, d), v in rows.items()
                )
            saved |= rows
        end = START + timedelta(days=21)
        stored = store.series.daily(_POSTS, _MIXED, START, end)
        flat = {
            (p, m, (day - START).days): v
            for p, series in stored.items()
            for m, values in series.items()
            for day, v in values.items()
        }
        assert flat == saved
        for metric in _MIXED:
            board = store.series.leaderboard(
                metric, since=START + timedelta(days=since), until=end, limit=10
            )
            sums: dict[str, int] = {}
            for (p, m, d), v in saved.items():
                if m == metric and d >= since:
                    sums[p] = sums.get(p, 0) + v
            assert dict(board) == sums


FETCHED = datetime(2026, 9, 30, 12, tzinfo=UTC)


def series_of(
    rows: dict[tuple[str, str, int], int],
) -> dict[str, dict[str, dict[datetime | date, int | None]]]:
    """{post: {metric: {day: value}}}, with a day of no reading (None) beside each value."""
    series: dict[str, dict[str, dict[datetime | date, int | None]]] = {}
    for (p, m, d), v in rows.items():
        series.setdefault(p, {}).setdefault(m, {})[START + timedelta(days=d)] = v
        if (p, m, d + 1) not in rows:
            series[p][m][START + timedelta(days=d + 1)] = None
    return series
