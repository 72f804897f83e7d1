"""Retention (bot/store/retention.py) on a real SQLite file: what a prune removes, that every
answer the bot gives from what is kept stays the same, that a dry run changes nothing, and
that a prune killed part-way loses nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.config import RetentionSettings
from bot.engagement import snowflake
from bot.engagement.models import UserAuth
from bot.store import PostRecord, SeriesRow, Store, TotalsRow
from bot.store.cipher import TokenCipher
from bot.store.retention import prune
from bot.store.sql import Db

NOW = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
POLICY = RetentionSettings()
ALICE = "4242"


def post_made(days_ago: int, n: int = 0) -> str:
    return str(snowflake.make_id(snowflake.epoch_ms(NOW - timedelta(days=days_ago)), sequence=n))


HOT = post_made(30)  # read every 15 minutes for 10 days, then every 4 hours back to 130 days
OWNED = post_made(300, 1)  # Alice's: kept however old
TRACKED = post_made(300, 2)  # a channel tracks it: kept
STALE = post_made(300, 3)  # nobody's, read last 200 days ago: forgotten
FRESH = post_made(2, 4)  # nobody's, never read, nothing known of it but its ID: kept
WORKSPACES = (None, "T1", "T2")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "bot.db", cipher=TokenCipher.generate()) as opened:
        fill(opened)
        yield opened


def fill(store: Store) -> None:
    store.accounts.save(
        user_id=ALICE, screen_name="alice", auth=UserAuth("t", "s"), workspace=None, now=NOW
    )
    store.posts.save([PostRecord(OWNED, ALICE, None, None), PostRecord(STALE, "99", None, None)])
    store.series.save_hourly([SeriesRow(FRESH, "favorites", NOW.replace(minute=0), 1)])
    store.channels.track("T1", "C1", kind="post", refs=[TRACKED], by="U1", now=NOW)
    with store.transaction():
        for quarter in range(4 * 24 * 130):
            at = NOW - quarter * timedelta(minutes=15)
            if quarter >= 4 * 24 * 10 and quarter % 16:
                continue  # a reading every 4 hours further back
            value = 100_000 - quarter // 3  # changes at every third reading
            store.series.save_totals(
                [TotalsRow(HOT, "favorites", value), TotalsRow(HOT, "replies", 7)], taken_at=at
            )
        hour0 = NOW.replace(minute=0)
        store.series.save_hourly(
            [
                SeriesRow(HOT, "favorites", hour0 - n * timedelta(hours=1), n % 5)
                for n in range(1, 24 * 130)
            ]
        )
        store.series.note_hourly_spans(
            [(HOT, "favorites")], start=hour0 - timedelta(days=120), end=hour0 - timedelta(hours=2)
        )
        days = [NOW.date() - timedelta(days=n) for n in range(1, 130)]
        store.series.save_daily(
            [
                SeriesRow(p, "impressions", d, n + 3)
                for p in (HOT, OWNED)
                for n, d in enumerate(days)
            ]
        )
        for p in (OWNED, TRACKED, STALE):
            old = NOW - timedelta(days=200)
            store.series.save_totals([TotalsRow(p, "favorites", 5)], taken_at=old)
        for n in range(24 * 20):  # twenty months of calls, two a day
            at = NOW - timedelta(hours=30 * n)
            store.usage.log_call(
                at=at,
                endpoint=("totals", "28hr", "historical")[n % 3],
                owner_id=(None, ALICE, "77")[n % 3],
                post_count=n % 250 + 1,
                status=(200, 200, 429, 200, 503)[n % 5],
                attempts=1 + n % 2,
                workspace=WORKSPACES[n % 3],
            )


def table(store: Store, name: str) -> list[tuple[Any, ...]]:
    return sorted(store.database.execute(f"SELECT * FROM {name}").fetchall(), key=repr)


def everything(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    names = [
        r[0] for r in store.database.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
    ]
    return {name: table(store, name) for name in names}


def months() -> list[str]:
    return [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]


def answers(store: Store) -> dict[str, Any]:
    """What the bot says from the store: usage, latest values, leaderboards, recent series."""
    usage = {(m, w): store.usage.month(m, w) for m in months() for w in WORKSPACES}
    today = NOW.date()
    boards = {
        days: store.series.leaderboard(
            "impressions", since=today - timedelta(days=days), until=today, limit=10
        )
        for days in (7, 28, 90)
    }
    return {
        "usage": usage,
        "latest": store.series.latest_totals([HOT, OWNED, TRACKED], ["favorites", "replies"]),
        "boards": boards,
        "hours": store.series.hourly([HOT], ["favorites"], NOW - timedelta(days=30), NOW),
        "days": store.series.daily([HOT, OWNED], ["impressions"], today - timedelta(60), today),
        "alert marks": [
            store.series.totals_before(HOT, "favorites", NOW - h * timedelta(hours=1))
            for h in range(8)
        ],
    }


def test_a_prune_keeps_every_answer_and_removes_what_the_policy_lets_go(store: Store) -> None:
    before_answers = answers(store)
    before_rows = {name: len(rows) for name, rows in everything(store).items()}

    counts = store.housekeeping.prune(now=NOW, policy=POLICY)

    assert answers(store) == before_answers
    after_rows = {name: len(rows) for name, rows in everything(store).items()}
    assert after_rows["totals"] < before_rows["totals"] / 2
    assert counts.snapshots > 0
    assert counts.runs > 0
    assert counts.hours > 0
    assert counts.calls > 0
    assert counts.posts == 1  # STALE, with its snapshot and refresh time
    assert store.posts.states([STALE])
    assert not table_has(store, "posts", STALE)
    assert table_has(store, "posts", OWNED)
    assert table_has(store, "posts", TRACKED)
    assert table_has(store, "posts", FRESH)
    # Again: nothing more to do.
    assert store.housekeeping.prune(now=NOW, policy=POLICY).removed == 0


def table_has(store: Store, name: str, post_id: str) -> bool:
    query = f"SELECT 1 FROM {name} WHERE post_id = ?"
    return store.database.execute(query, (post_id,)).fetchone() is not None


def test_thinned_snapshots_keep_each_days_closing_value(store: Store) -> None:
    ends = [
        datetime.combine(NOW.date() - timedelta(days=n), datetime.min.time(), UTC)
        for n in range(8, 99)
    ]
    closing = [
        store.series.totals_before(HOT, "favorites", end - timedelta(seconds=1)) for end in ends
    ]

    store.housekeeping.prune(now=NOW, policy=POLICY)

    after = [
        store.series.totals_before(HOT, "favorites", end - timedelta(seconds=1)) for end in ends
    ]
    assert [a and a[0] for a in after] == [c and c[0] for c in closing]
    per_day = store.database.execute(
        """SELECT substr(taken_at, 1, 10), COUNT(*) FROM totals
        WHERE post_id = ? AND metric = 'favorites' AND taken_at < ? GROUP BY 1""",
        (HOT, (NOW - timedelta(days=8)).strftime("%Y-%m-%d")),
    ).fetchall()
    assert per_day
    assert max(n for _, n in per_day) == 1


def test_hours_past_their_time_become_daily_rows_of_whole_days(store: Store) -> None:
    cutoff = NOW.date() - timedelta(days=POLICY.hourly_days)
    start = datetime.combine(cutoff - timedelta(days=10), datetime.min.time(), UTC)
    sums = store.series.hourly([HOT], ["favorites"], start, start + timedelta(days=1))
    day_sum = sum(sums[HOT]["favorites"].values())

    store.housekeeping.prune(now=NOW, policy=POLICY)

    cut = datetime.combine(cutoff, datetime.min.time(), UTC)
    assert store.series.hourly([HOT], ["favorites"], start, cut) == {}
    rolled = store.series.daily([HOT], ["favorites"], start.date(), start.date() + timedelta(1))
    assert rolled == {HOT: {"favorites": {start.date(): day_sum}}}
    # The first day of the hours, begun at 01:00, was not whole: it is not made up.
    first = (NOW - timedelta(hours=24 * 130 - 1)).date()
    assert store.series.daily([HOT], ["favorites"], first, first + timedelta(1)) == {}
    span = store.series.hourly_spans([HOT], ["favorites"])[HOT]["favorites"]
    assert span[0] == cut


def test_old_daily_rows_leave_the_last_one_leaderboards_build_on(store: Store) -> None:
    today = NOW.date()
    boards = [
        store.series.leaderboard("impressions", since=today - timedelta(days=n), until=today)
        for n in (7, 28, 90)
    ]

    store.housekeeping.prune(now=NOW, policy=POLICY)

    cutoff = today - timedelta(days=POLICY.daily_days)
    old = store.database.execute(
        "SELECT post_id, COUNT(impressions) FROM daily WHERE day < ? GROUP BY 1",
        ((cutoff - date(1970, 1, 1)).days,),  # the table's days count from 1970
    ).fetchall()
    assert sorted(old) == sorted([(HOT, 1), (OWNED, 1)])
    assert [
        store.series.leaderboard("impressions", since=today - timedelta(days=n), until=today)
        for n in (7, 28, 90)
    ] == boards
    # The next tally's day adds to the running total as before.
    store.series.save_daily([SeriesRow(HOT, "impressions", today, 1_000)])
    week = store.series.leaderboard(
        "impressions", since=today - timedelta(days=7), until=today + timedelta(days=1)
    )
    assert dict(week)[HOT] == dict(boards[0])[HOT] + 1_000


def test_each_metric_keeps_its_own_last_old_day(store: Store) -> None:
    today = NOW.date()
    # Retweets on three old days, none since but one last week; impressions every day (fill).
    retweets = {today - timedelta(days=n): v for n, v in ((125, 4), (120, 6), (115, 9), (3, 2))}
    store.series.save_daily([SeriesRow(OWNED, "retweets", d, v) for d, v in retweets.items()])
    boards = [
        store.series.leaderboard(metric, since=today - timedelta(days=n), until=today)
        for metric in ("retweets", "impressions")
        for n in (7, 90)
    ]

    store.housekeeping.prune(now=NOW, policy=POLICY)

    # The day whose running total a later sum subtracts is kept per metric: the newest old day
    # with retweets (115 days ago) is not the newest old day (101 days ago, impressions only).
    kept = store.series.daily([OWNED], ["retweets"], today - timedelta(days=200), today)
    last_old, recent = today - timedelta(days=115), today - timedelta(days=3)
    assert kept == {OWNED: {"retweets": {last_old: 9, recent: 2}}}
    assert [
        store.series.leaderboard(metric, since=today - timedelta(days=n), until=today)
        for metric in ("retweets", "impressions")
        for n in (7, 90)
    ] == boards
    assert boards[0] == [(OWNED, 2)]


def test_a_dry_run_changes_nothing_and_reports_what_a_prune_removes(store: Store) -> None:
    before = everything(store)

    dry = store.housekeeping.prune(now=NOW, policy=POLICY, dry_run=True)

    assert everything(store) == before
    assert dry.removed > 0
    assert store.housekeeping.prune(now=NOW, policy=POLICY) == dry


class Killed(BaseException):
    """The process dying: no `except Exception` catches it."""


def dying_after(store: Store, slices: int) -> Callable[[], AbstractContextManager[None]]:
    done = [0]

    def transaction() -> AbstractContextManager[None]:
        done[0] += 1
        if done[0] > slices:
            raise Killed
        return store.transaction()

    return transaction


@pytest.mark.parametrize("slices", [1, 2, 3, 5])
def test_a_prune_killed_part_way_loses_nothing(store: Store, tmp_path: Path, slices: int) -> None:
    before = answers(store)
    db = Db(store.database.conn, None, name="bot.db", busy_seconds=1)

    with pytest.raises(Killed):
        prune(db, dying_after(store, slices), now=NOW, policy=POLICY, slice_posts=1)

    assert answers(store) == before
    # The next prune finishes the work: the same rows as a prune never interrupted.
    store.housekeeping.prune(now=NOW, policy=POLICY)
    with Store.open(tmp_path / "whole.db", cipher=TokenCipher.generate()) as whole:
        fill(whole)
        whole.housekeeping.prune(now=NOW, policy=POLICY)
        mine, theirs = everything(store), everything(whole)
        for name in ("totals", "totals_seen", "hourly", "daily", "api_calls_monthly", "posts"):
            assert mine[name] == theirs[name], name
    assert answers(store) == before


def test_old_months_of_calls_read_the_same_once_summed(store: Store) -> None:
    before = {(m, w): store.usage.month(m, w) for m in months() for w in WORKSPACES}
    assert before[("2025-06", None)].total_calls > 0

    counts = store.housekeeping.prune(now=NOW, policy=POLICY)

    assert counts.months_summed >= 4
    oldest_kept = date(2025, 10, 1).isoformat()
    assert table(store, "api_calls")[0][1] >= oldest_kept
    assert {(m, w): store.usage.month(m, w) for m in months() for w in WORKSPACES} == before


def test_a_prune_that_frees_much_of_the_file_gives_it_back(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    with Store.open(path, cipher=TokenCipher.generate()) as big:
        stale = [post_made(400, n) for n in range(2_000)]
        with big.transaction():
            for day in range(10):
                at = NOW - timedelta(days=300 + day)
                big.series.save_totals([TotalsRow(p, "favorites", day) for p in stale], taken_at=at)
        big.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size

        counts = big.housekeeping.prune(now=NOW, policy=POLICY)
        big.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")

        assert counts.posts == 2_000
        assert path.stat().st_size < size / 4
        assert big.housekeeping.stats().free_pages == 0


def test_a_roll_up_never_overwrites_a_day_x_gave(store: Store) -> None:
    cutoff = NOW.date() - timedelta(days=POLICY.hourly_days)
    day = cutoff - timedelta(days=10)
    start = datetime.combine(day, datetime.min.time(), UTC)
    hours = store.series.hourly([HOT], ["favorites"], start, start + timedelta(days=2))
    next_day_sum = sum(v for at, v in hours[HOT]["favorites"].items() if at.date() != day)
    store.series.save_daily([SeriesRow(HOT, "favorites", day, 12_345)])

    store.housekeeping.prune(now=NOW, policy=POLICY)

    rolled = store.series.daily([HOT], ["favorites"], day, day + timedelta(days=2))
    assert rolled == {HOT: {"favorites": {day: 12_345, day + timedelta(days=1): next_day_sum}}}
