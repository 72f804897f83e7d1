"""Totals snapshots written only on a change: fewer rows, the same answers (values, "as of",
the hour marks alert baselines read, and what a leaderboard over snapshots subtracts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.engagement import snowflake
from bot.store import Store, TotalsRow
from bot.store.cipher import TokenCipher

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
P1 = str(snowflake.make_id(snowflake.epoch_ms(datetime(2026, 11, 1, tzinfo=UTC))))
P2 = str(snowflake.make_id(snowflake.epoch_ms(datetime(2026, 11, 2, tzinfo=UTC))))
METRICS = ("favorites", "retweets", "replies")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "bot.db", cipher=TokenCipher.generate()) as opened:
        yield opened


def rows(store: Store, table: str) -> int:
    return int(store.database.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def read(store: Store, at: datetime, favorites: int, post: str = P1) -> None:
    values = {"favorites": favorites, "retweets": 2, "replies": 1}
    store.series.save_totals(
        [TotalsRow(post, metric, values[metric]) for metric in METRICS], taken_at=at
    )


def test_an_unchanged_value_adds_no_row_and_its_as_of_moves_on(store: Store) -> None:
    for quarter in range(8):  # two hours of readings every 15 minutes; favorites change once
        read(store, NOW + quarter * timedelta(minutes=15), 5 if quarter < 6 else 9)
    last = NOW + timedelta(minutes=105)
    assert rows(store, "totals") == 4  # 3 metrics' first values, then favorites' one change
    assert rows(store, "totals_seen") == 1  # one run of readings
    latest = store.series.latest_totals([P1], METRICS)
    assert latest[P1] == {"favorites": (9, last), "retweets": (2, last), "replies": (1, last)}


def test_the_value_before_a_moment_is_the_one_read_then(store: Store) -> None:
    for quarter in range(8):
        read(store, NOW + quarter * timedelta(minutes=15), 5 if quarter < 6 else 9)
    # Inside the run: the value then, read no more than SEEN_GAP before.
    mark = NOW + timedelta(minutes=80)
    value, as_of = store.series.totals_before(P1, "favorites", mark) or (None, None)
    assert value == 5
    assert as_of is not None
    assert mark - as_of < timedelta(minutes=25)
    assert store.series.totals_before(P1, "favorites", NOW + timedelta(hours=3)) == (
        9,
        NOW + timedelta(minutes=105),  # after the run: its last reading, not the moment asked
    )
    assert store.series.totals_before(P1, "favorites", NOW - timedelta(seconds=1)) is None


def test_a_gap_in_the_readings_shows_as_one(store: Store) -> None:
    """Alert baselines stop at an hour mark no reading came near: readings an hour apart are
    separate runs, each as of its own time."""
    read(store, NOW, 5)
    read(store, NOW + timedelta(hours=1), 5)
    assert rows(store, "totals_seen") == 2
    mark = NOW + timedelta(minutes=50)
    assert store.series.totals_before(P1, "favorites", mark) == (5, NOW)


def test_a_metric_missing_from_a_reading_keeps_its_own_as_of(store: Store) -> None:
    read(store, NOW, 5)
    later = NOW + timedelta(minutes=15)
    store.series.save_totals([TotalsRow(P1, "favorites", 5)], taken_at=later)
    latest = store.series.latest_totals([P1], METRICS)
    assert latest[P1]["favorites"] == (5, later)
    assert latest[P1]["retweets"] == (2, NOW)  # not read again: not fresher


def test_saving_the_same_reading_twice_changes_nothing(store: Store) -> None:
    read(store, NOW, 5)
    read(store, NOW + timedelta(minutes=15), 5)
    before = store.database.execute("SELECT * FROM totals_seen").fetchall()
    assert store.series.save_totals([TotalsRow(P1, "favorites", 5)], taken_at=NOW) == 0
    read(store, NOW + timedelta(minutes=15), 5)
    assert store.database.execute("SELECT * FROM totals_seen").fetchall() == before
    assert rows(store, "totals") == 3


def test_posts_are_told_apart(store: Store) -> None:
    read(store, NOW, 5, post=P1)
    read(store, NOW + timedelta(minutes=10), 7, post=P2)
    read(store, NOW + timedelta(minutes=20), 5, post=P1)
    latest = store.series.latest_totals([P1, P2], ["favorites"])
    assert latest == {
        P1: {"favorites": (5, NOW + timedelta(minutes=20))},
        P2: {"favorites": (7, NOW + timedelta(minutes=10))},
    }


def test_a_reading_saved_after_a_later_one_leaves_the_later_value_current(store: Store) -> None:
    """Two refreshes of one Post, the earlier finishing last: its reading goes into history,
    and the value read later (equal to the one before, so not written then) stays current."""
    read(store, NOW - timedelta(hours=2), favorites=10)
    read(store, NOW, favorites=10)  # unchanged: no row
    read(store, NOW - timedelta(hours=1), favorites=15)  # the late one

    latest = store.series.latest_totals([P1], ["favorites"])[P1]["favorites"]
    assert latest == (10, NOW)
    assert store.series.totals_before(P1, "favorites", NOW - timedelta(minutes=30))[0] == 15
    assert store.series.totals_before(P1, "favorites", NOW - timedelta(minutes=90))[0] == 10
    # Unchanged metrics of the late reading add nothing.
    assert store.series.latest_totals([P1], ["retweets"])[P1]["retweets"] == (2, NOW)


def test_a_late_reading_before_a_stored_change_adds_only_itself(store: Store) -> None:
    read(store, NOW - timedelta(hours=2), favorites=10)
    read(store, NOW, favorites=20)  # a change: its row says what came after
    read(store, NOW - timedelta(hours=1), favorites=15)

    assert store.series.latest_totals([P1], ["favorites"])[P1]["favorites"] == (20, NOW)
    assert store.series.totals_before(P1, "favorites", NOW - timedelta(minutes=30))[0] == 15
