"""store.series.board: a leaderboard over any number of Posts read in one statement through
indexes, equal to the plain definition (owned Posts: the sum of their daily rows in the period;
others: newest snapshot minus the one at the period's start), naming the stale Posts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engagement import snowflake
from bot.engagement.models import UserAuth
from bot.engagement.records import Board, PostSet, Ranked
from bot.store import PostRecord, SeriesRow, Store, TotalsRow
from bot.store.boards import board_query
from bot.store.cipher import TokenCipher

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
SINCE = NOW - timedelta(days=7)
UNTIL = NOW.date() + timedelta(days=1)
OWNER = "4242"
TABLES = ("posts", "post_refusals", "daily", "totals", "refreshes")


def born(days_ago: float, n: int = 0) -> str:
    """A snowflake Post ID minted `days_ago` before NOW."""
    at = NOW - timedelta(days=days_ago)
    return str(snowflake.make_id(snowflake.epoch_ms(at), sequence=n))


def open_store() -> Store:
    store = Store.open(":memory:", cipher=TokenCipher.generate())
    store.accounts.save(
        user_id=OWNER,
        screen_name="alice",
        auth=UserAuth(f"{OWNER}-t", "s"),
        workspace=None,
        now=NOW,
    )
    return store


def read(store: Store, ids: list[str], *, limit: int = 10, metric: str = "favorites") -> Board:
    return store.series.board(
        ids,
        metric,
        owners={OWNER},
        since=SINCE,
        until=UNTIL,
        limit=limit,
        public=True,
        stale_before=NOW - timedelta(minutes=15),
    )


# -- the query plan -----------------------------------------------------------------------------


def plan_of(store: Store, sql: str, params: dict[str, object]) -> list[str]:
    return [row[3] for row in store.database.execute("EXPLAIN QUERY PLAN " + sql, params)]


SETS = [
    [born(3), born(30)],  # IDs handed over
    PostSet(channel=("T1", "C1")),  # a channel's tracked Posts
    PostSet((born(3),), ("T1", "C1")),  # both
]


@pytest.mark.parametrize("posts", SETS, ids=["ids", "channel", "both"])
def test_every_table_is_read_by_seeking_its_key_never_scanned(posts: list[str] | PostSet) -> None:
    with open_store() as store:
        sql, flagged_sql, params = board_query(
            posts,
            "favorites",
            owners={OWNER},
            since=SINCE,
            until=UNTIL,
            limit=10,
            public=True,
            stale_before=NOW,
        )
        for statement in (sql, flagged_sql):
            plan = plan_of(store, statement, params)
            # The only scans: the IDs handed over, the levels of the stream and the metric sets
            # naming the metric (a handful of rows, read once per statement).
            scans = [s for s in plan if s.startswith("SCAN")]
            allowed = (
                "SCAN json_each",
                "SCAN e ",
                "SCAN s",
                "SCAN c",
                "SCAN v",
                "SCAN m",
                "SCAN (sub",
            )
            assert all(s.startswith(allowed) for s in scans), plan
            # A channel's tracked Posts: a range of channel_tracks' key, in Post ID order.
            tracks = "SEARCH ct USING PRIMARY KEY (team_id=? AND channel_id=? AND kind=?)"
            assert (tracks in plan) == isinstance(posts, PostSet), plan
            # Each Post: one seek in the covering index of posts, then primary keys only.
            assert "SEARCH p USING COVERING INDEX posts_sides (post_id=?) LEFT-JOIN" in plan
            for alias in ("r", "f", "any_r"):
                assert [s for s in plan if s.startswith(f"SEARCH {alias} USING PRIMARY KEY")]
            # daily: a row per (Post, day), the metric a column; totals: a row per metric.
            for alias, key in (("d", "(post_id=? AND day<?)"), ("t", "(post_id=? AND metric=?")):
                seeks = [s for s in plan if s.startswith(f"SEARCH {alias} ")]
                key = f"SEARCH {alias} USING PRIMARY KEY {key}"
                assert seeks, plan
                assert all(s.startswith(key) for s in seeks), plan


# -- the same answer as the plain definition ------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One Post of a generated store."""

    age_days: int  # created this many days before NOW
    side: str  # owned | other | unknown | refused (X refused OWNER's token for it)
    days: tuple[int, ...]  # owned: daily values for the days ending yesterday..., newest last
    snapshots: tuple[tuple[int, int], ...]  # (hours ago, value)


specs = st.lists(
    st.builds(
        Spec,
        age_days=st.integers(0, 20),
        side=st.sampled_from(["owned", "other", "unknown", "refused"]),
        days=st.lists(st.integers(0, 50), max_size=12).map(tuple),
        snapshots=st.lists(
            st.tuples(st.integers(0, 400), st.integers(0, 500)),
            max_size=4,
            unique_by=lambda s: s[0],
        ).map(tuple),
    ),
    max_size=12,
)


def expected(ids: list[str], given: list[Spec], limit: int) -> list[Ranked]:
    """The plain definition, from the generated data alone."""
    rows = []
    for post_id, spec in zip(ids, given, strict=True):
        if spec.side == "owned":
            in_period = [
                v
                for i, v in enumerate(spec.days)
                if (UNTIL - timedelta(days=len(spec.days) - i)) >= SINCE.date()
            ]
            if in_period:
                rows.append(Ranked(post_id, sum(in_period), "daily"))
        elif spec.side in ("other", "refused") and spec.snapshots:
            by_time = sorted((NOW - timedelta(hours=h), v) for h, v in spec.snapshots)
            value = by_time[-1][1]
            if NOW - timedelta(days=spec.age_days) < SINCE:
                before = [v for at, v in by_time if at <= SINCE]
                if not before:
                    continue
                value -= before[-1]
            rows.append(Ranked(post_id, max(value, 0), "snapshots"))
    rows.sort(key=lambda r: (-r.value, int(r.post_id)))
    return rows[:limit]


def store_of(store: Store, given: list[Spec]) -> list[str]:
    ids = [born(spec.age_days, n) for n, spec in enumerate(given)]
    authors = {"owned": OWNER, "other": "777", "unknown": None, "refused": OWNER}
    store.posts.save(
        PostRecord(p, authors[s.side], NOW - timedelta(days=s.age_days))
        for p, s in zip(ids, given, strict=True)
    )
    store.posts.mark_not_owned_by(
        [p for p, s in zip(ids, given, strict=True) if s.side == "refused"], OWNER
    )
    for post_id, spec in zip(ids, given, strict=True):
        if spec.side == "owned":
            first = UNTIL - timedelta(days=len(spec.days))
            store.series.save_daily(
                [
                    SeriesRow(post_id, "favorites", first + timedelta(days=i), v)
                    for i, v in enumerate(spec.days)
                ],
                fetched_at=NOW,
            )
        # Oldest first, as refreshes nearly always save them. A late reading keeps the current
        # value right (snapshots.py's _RESTORE), but the history between it and the next
        # stored change can still differ from every reading's (a reading equal to the value
        # before it was never written): the plain definition here would not hold.
        for hours, value in sorted(spec.snapshots, reverse=True):
            store.series.save_totals(
                [TotalsRow(post_id, "favorites", value)], taken_at=NOW - timedelta(hours=hours)
            )
    return ids


@settings(max_examples=80, deadline=None)
@given(given=specs, limit=st.integers(1, 12))
def test_the_board_equals_the_plain_definition(given: list[Spec], limit: int) -> None:
    with open_store() as store:
        ids = store_of(store, given)
        board = store.series.board(
            ids, "favorites", owners={OWNER}, since=SINCE, until=UNTIL, limit=limit, public=True
        )
        assert list(board.rows) == expected(ids, given, limit)


@settings(max_examples=60, deadline=None)
@given(given=specs, limit=st.integers(1, 12), split=st.integers(0, 12), overlap=st.integers(0, 3))
def test_a_channels_tracked_posts_rank_as_the_same_posts_handed_over(
    given: list[Spec], limit: int, split: int, overlap: int
) -> None:
    """The store reads a channel's tracked Posts itself (a PostSet): the same board, the same
    stale and unknown Posts, as the same Posts handed over as a list, whichever of them the
    channel tracks and whichever come as IDs besides (some of those tracked too)."""
    with open_store() as store:
        ids = store_of(store, given)
        tracked, extra = ids[:split], ids[max(split - overlap, 0) :]
        store.channels.track("T1", "C1", kind="post", refs=tracked, by="U1", now=NOW)
        store.channels.track("T1", "C2", kind="post", refs=ids[1:2], by="U1", now=NOW)
        for fresh in (None, NOW - timedelta(hours=2)):
            handed = board_of(store, ids, limit, fresh)
            chosen = board_of(store, PostSet(tuple(extra), ("T1", "C1")), limit, fresh)
            assert chosen.rows == handed.rows
            assert sorted(chosen.stale_daily) == sorted(handed.stale_daily)
            assert sorted(chosen.stale_snapshots) == sorted(handed.stale_snapshots)
            assert sorted(chosen.unknown) == sorted(handed.unknown)
            if fresh is None:
                assert list(chosen.rows) == expected(ids, given, limit)
        assert store.posts.count(PostSet(tuple(extra), ("T1", "C1"))) == len(ids)


def board_of(
    store: Store, posts: list[str] | PostSet, limit: int, stale_before: datetime | None
) -> Board:
    return store.series.board(
        posts,
        "favorites",
        owners={OWNER},
        since=SINCE,
        until=UNTIL,
        limit=limit,
        public=True,
        stale_before=stale_before,
    )


def test_private_metrics_rank_owned_posts_only_and_nobody_connected_means_none_owned() -> None:
    with open_store() as store:
        ids = store_of(
            store,
            [Spec(30, "owned", (5,), ()), Spec(30, "other", (), ((300, 1), (1, 9)))],
        )
        public = store.series.board(
            ids, "favorites", owners={OWNER}, since=SINCE, until=UNTIL, limit=5, public=True
        )
        private = store.series.board(
            ids, "favorites", owners={OWNER}, since=SINCE, until=UNTIL, limit=5, public=False
        )
        nobody = store.series.board(
            ids, "favorites", owners=(), since=SINCE, until=UNTIL, limit=5, public=True
        )
    assert public.rows == (Ranked(ids[1], 8, "snapshots"), Ranked(ids[0], 5, "daily"))
    assert private.rows == (Ranked(ids[0], 5, "daily"),)
    assert nobody.rows == (Ranked(ids[1], 8, "snapshots"),)  # the owned one has no snapshots


# -- stale Posts ----------------------------------------------------------------------------------


def test_stale_and_unknown_posts_are_named_in_the_order_given_and_no_rows_come_with_them() -> None:
    with open_store() as store:
        fresh_owned, old_owned, never_owned, fresh_other, old_other, never_other = (
            born(30, n) for n in range(6)
        )
        store.posts.save(
            PostRecord(p, OWNER if n < 3 else "777", None)
            for n, p in enumerate(
                (fresh_owned, old_owned, never_owned, fresh_other, old_other, never_other)
            )
        )
        yesterday = NOW.date() - timedelta(days=1)
        store.series.save_daily([SeriesRow(fresh_owned, "favorites", yesterday, 3)], fetched_at=NOW)
        store.series.save_daily(
            [SeriesRow(old_owned, "favorites", yesterday, 4)], fetched_at=NOW - timedelta(hours=1)
        )
        store.series.save_totals([TotalsRow(fresh_other, "favorites", 1)], taken_at=NOW)
        store.series.save_totals(
            [TotalsRow(old_other, "favorites", 1)], taken_at=NOW - timedelta(hours=1)
        )
        # A snapshot of another metric is no reading of this one.
        store.series.save_totals([TotalsRow(never_other, "impressions", 1)], taken_at=NOW)
        nameless, gone = born(30, 7), born(30, 8)  # X named no author; the second is deleted
        store.posts.mark([gone], state="deleted", now=NOW)
        order = [never_other, nameless, old_other, fresh_other, never_owned, gone, old_owned]
        order.append(fresh_owned)
        stale = read(store, order)
        store.series.save_daily([SeriesRow(old_owned, "favorites", yesterday, 4)], fetched_at=NOW)
        still = read(store, order)
    # A deleted Post is no unknown: it is someone else's, with no reading (X says why).
    others = (never_other, old_other, gone)
    assert stale == Board((), (never_owned, old_owned), others, (nameless,))
    assert still.stale_daily == (never_owned,)


def test_a_value_read_again_unchanged_is_as_fresh_as_its_newest_reading() -> None:
    """Snapshots are written only when a value changes: a Post read a minute ago whose value
    has not moved for two days is fresh, one last read an hour ago is stale."""
    with open_store() as store:
        read_now, read_an_hour_ago, changed_now = (born(30, n) for n in range(3))
        store.posts.save(PostRecord(p, "777", None) for p in (read_now, read_an_hour_ago))
        store.posts.save([PostRecord(changed_now, "777", None)])
        for post_id in (read_now, read_an_hour_ago, changed_now):
            store.series.save_totals(
                [TotalsRow(post_id, "favorites", 5)], taken_at=NOW - timedelta(days=2)
            )
        for at, posts in (
            (NOW - timedelta(hours=1), (read_now, read_an_hour_ago)),
            (NOW - timedelta(minutes=1), (read_now,)),
        ):
            store.series.save_totals([TotalsRow(p, "favorites", 5) for p in posts], taken_at=at)
        store.series.save_totals([TotalsRow(changed_now, "favorites", 9)], taken_at=NOW)
        board = read(store, [read_now, read_an_hour_ago, changed_now])
    assert board == Board((), (), (read_an_hour_ago,), ())
