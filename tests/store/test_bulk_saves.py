"""A refresh's readings reach SQLite as one document per save (hourly cells: one per Post and
metric), whatever the number of Posts: the work per value is SQLite's, with no Python row or
parameter set per value (what kept a 100,000-Post refresh at ~185 µs of CPU per Post;
bench/refresh_cpu.py measures it)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from bot.store.cipher import TokenCipher

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
HOUR = datetime(2026, 11, 26, 8, tzinfo=UTC)
METRICS = ("impressions", "engagements", "favorites", "retweets", "replies")


class Traced:
    """The statements a store ran, and how many parameter sets each was run with."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, int]] = []

    def __call__(self, sql: str, params: Any) -> None:
        many = isinstance(params, list) and all(isinstance(p, tuple | dict) for p in params)
        self.runs.append((sql, len(params) if many else 1))

    def parameter_sets(self) -> int:
        return sum(count for _, count in self.runs)


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[Store, Traced]]:
    tracer = Traced()
    with Store.open(tmp_path / "e.db", cipher=TokenCipher.generate(), tracer=tracer) as store:
        yield store, tracer


def ids(count: int, first: int = 2_000_000_000_000_000_000) -> list[str]:
    return [str(first + n) for n in range(count)]


def readings(posts: list[str], bump: int = 0) -> dict[str, dict[str, int]]:
    return {p: {m: n * 10 + i + bump for i, m in enumerate(METRICS)} for n, p in enumerate(posts)}


def test_saving_totals_costs_the_same_statements_for_10_or_1000_posts(traced) -> None:
    store, tracer = traced
    costs = []
    for count, first in ((10, 2_000_000_000_000_000_000), (1000, 2_100_000_000_000_000_000)):
        tracer.runs.clear()
        written = store.series.save_readings(readings(ids(count, first)), taken_at=NOW)
        assert written == count * len(METRICS)
        costs.append(tracer.parameter_sets())
    assert costs[0] == costs[1]


def test_saved_readings_are_read_back_and_only_changes_add_rows(traced) -> None:
    store, _ = traced
    posts = ids(300)
    first = readings(posts)
    store.series.save_readings(first, taken_at=NOW)
    later = NOW + timedelta(hours=1)
    second = {p: dict(values) for p, values in first.items()}
    second[posts[7]]["favorites"] += 1
    assert store.series.save_readings(second, taken_at=later) == 1
    assert store.series.save_readings(second, taken_at=later) == 0  # the same reading again
    got = store.series.latest_totals(posts, METRICS)
    assert {p: {m: v for m, (v, _) in values.items()} for p, values in got.items()} == second
    assert got[posts[7]]["favorites"][1] == later
    assert got[posts[8]]["favorites"][1] == later  # read then, unchanged: "as of" moves on
    assert store.series.last_refreshed(posts[:2], "total") == {p: later for p in posts[:2]}


def test_hourly_cells_with_every_hour_read_round_trip_whatever_their_hours(traced) -> None:
    # Every bucket has a reading (the usual /28hr answer), and the Posts' hours differ: a
    # Post read from a later hour, one with a single hour, one with a huge count.
    store, _ = traced
    posts = ids(6)
    cells = {p: {m: dict(b) for m, b in ms.items()} for p, ms in series(posts).items()}
    for buckets in cells[posts[0]].values():
        buckets[HOUR + timedelta(hours=27)] = 5  # no gap at the end
    cells[posts[1]] = {"impressions": {HOUR + timedelta(hours=30): 4}}
    cells[posts[2]]["favorites"] = {HOUR + timedelta(hours=h): h for h in range(3, 40)}
    cells[posts[3]]["replies"] = {HOUR: 2**62}
    assert store.series.save_hourly_series(cells, fetched_at=NOW) == sum(
        1 for ms in cells.values() for b in ms.values() for v in b.values() if v is not None
    )
    assert store.series.save_hourly_series(cells) == 0
    got = store.series.hourly(posts, METRICS, HOUR, HOUR + timedelta(hours=40))
    wanted = {
        p: {m: {h: v for h, v in buckets.items() if v is not None} for m, buckets in ms.items()}
        for p, ms in cells.items()
    }
    assert got == wanted


def series(posts: list[str], bump: int = 0) -> dict[str, dict[str, dict[datetime, int | None]]]:
    hours = [HOUR + timedelta(hours=h) for h in range(28)]
    return {
        p: {
            m: {h: (None if h == hours[-1] else n + i + k + bump) for k, h in enumerate(hours)}
            for i, m in enumerate(METRICS)
        }
        for n, p in enumerate(posts)
    }


def test_saving_hourly_cells_costs_a_parameter_set_per_post_and_metric_not_per_hour(
    traced,
) -> None:
    # Hourly cells go to SQLite as one {hour: value} object per (Post, metric): a flat
    # json_each per pair is cheaper than one nested document, and still no Python row per cell.
    store, tracer = traced
    costs = []
    for count, first in ((10, 2_000_000_000_000_000_000), (200, 2_100_000_000_000_000_000)):
        tracer.runs.clear()
        written = store.series.save_hourly_series(series(ids(count, first)), fetched_at=NOW)
        assert written == count * len(METRICS) * 27  # the last hour: no reading (None)
        costs.append(tracer.parameter_sets())
    assert costs[1] - costs[0] == (200 - 10) * len(METRICS)


def test_hourly_cells_are_read_back_and_only_changes_are_rewritten(traced) -> None:
    store, _ = traced
    posts = ids(20)
    cells = series(posts)
    store.series.save_hourly_series(cells, fetched_at=NOW)
    assert store.series.save_hourly_series(cells) == 0
    cells[posts[3]]["replies"][HOUR] = 999
    assert store.series.save_hourly_series(cells) == 1
    got = store.series.hourly(posts, METRICS, HOUR, HOUR + timedelta(hours=28))
    wanted = {
        p: {m: {h: v for h, v in buckets.items() if v is not None} for m, buckets in ms.items()}
        for p, ms in cells.items()
    }
    assert got == wanted


def test_settled_hours_already_stored_are_not_handed_over_again(traced) -> None:
    """A /28hr answer repeats 27 settled hours the store holds (hourly_spans): only the hours
    after the span go to SQLite, the Post is still marked refreshed, and what the span covers
    reads back as it was stored (X does not change a settled hour)."""
    store, _ = traced
    posts = ids(3)
    cells = series(posts)
    store.series.save_hourly_series(cells, fetched_at=NOW)
    settled_end = HOUR + timedelta(hours=20)
    store.series.note_hourly_spans(
        [(p, m) for p in posts[:2] for m in METRICS], start=HOUR, end=settled_end
    )
    later = NOW + timedelta(hours=1)
    again = series(posts, bump=1)  # every hour's count differs from the stored one
    written = store.series.save_hourly_series(again, fetched_at=later)
    # posts[0..1]: hours 20..26 (27 has no reading); posts[2], with no span: all 27.
    assert written == 2 * len(METRICS) * 7 + len(METRICS) * 27
    got = store.series.hourly(posts, METRICS, HOUR, HOUR + timedelta(hours=28))
    assert got[posts[0]]["impressions"][HOUR] == cells[posts[0]]["impressions"][HOUR]
    assert got[posts[2]]["impressions"][HOUR] == again[posts[2]]["impressions"][HOUR]
    assert got[posts[0]]["impressions"][settled_end] == again[posts[0]]["impressions"][settled_end]
    assert store.series.last_refreshed(posts, "hour") == {p: later for p in posts}
