"""bot.store: migrations, encrypted accounts, Posts, measurements, leaderboards, usage, and
all-or-nothing transactions, on real SQLite files and in memory."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from bot.engagement import snowflake
from bot.engagement.models import UserAuth
from bot.engagement.query import PostInfo
from bot.errors import SecretKeyError
from bot.store import (
    MIGRATIONS,
    Account,
    EndpointUsage,
    OwnerUsage,
    PostRecord,
    PostState,
    SeriesRow,
    Store,
    TotalsRow,
)
from bot.store.cipher import TokenCipher
from bot.store.series import leaderboard_query
from tests.support.paths import REPO

NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
P1 = str(snowflake.make_id(snowflake.epoch_ms(datetime(2026, 11, 1, tzinfo=UTC))))
P2 = str(snowflake.make_id(snowflake.epoch_ms(datetime(2026, 11, 2, tzinfo=UTC))))
P3 = str(snowflake.make_id(snowflake.epoch_ms(datetime(2026, 11, 3, tzinfo=UTC))))
# Distinctive strings: a test greps the raw file for them.
TOKEN = "4242-AcCeSsToKeNpLaInTeXt"
SECRET = "SeCrEtPlAiNtExTdOnOtLeAk"
ALICE = UserAuth(TOKEN, SECRET)
BOB = UserAuth("77-BobTokenPlaintext", "BobSecretPlaintext")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test of the shared `store` fixture runs on a ':memory:' database and on a file."""
    if "store" in metafunc.fixturenames:
        metafunc.parametrize("store", ["memory", "file"], indirect=True)


def connect_alice(store: Store, workspace: str | None = None) -> None:
    store.accounts.save(
        user_id="4242", screen_name="Alice", auth=ALICE, workspace=workspace, now=NOW
    )


def days(
    start: date, values: list[int], post: str = P1, metric: str = "impressions"
) -> list[SeriesRow]:
    return [SeriesRow(post, metric, start + timedelta(days=i), v) for i, v in enumerate(values)]


def count(store: Store, table: str) -> int:
    return store.database.table(table).count


# --- schema and migrations ---------------------------------------------------------------------


def applied(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = 'engagement-bot' ORDER BY id"
        ).fetchall()
    conn.close()
    return [name for (name,) in rows]


def test_open_applies_every_migration_once_and_reopening_applies_nothing(
    db_path: Path, cipher: TokenCipher
) -> None:
    Store.open(db_path, cipher=cipher).close()
    names = [m.name for m in MIGRATIONS.pending(Database(memory=True))]
    assert names[0] == "m001_initial"
    assert len(names) >= 2
    assert applied(db_path) == names

    statements: list[str] = []
    Store.open(db_path, cipher=cipher, tracer=lambda sql, params: statements.append(sql)).close()
    assert applied(db_path) == names
    assert not [s for s in statements if s.lstrip().upper().startswith(("CREATE", "ALTER"))]


def test_a_database_made_by_migration_1_upgrades_and_keeps_its_rows(
    db_path: Path, cipher: TokenCipher
) -> None:
    old = Database(db_path)
    MIGRATIONS.apply(old, stop_before="m002_daily_running_totals")
    old.execute("INSERT INTO posts (post_id) VALUES (?)", [P1])
    for i, value in enumerate([5, 7, 11]):
        old.execute(
            "INSERT INTO daily (post_id, metric, day, value) VALUES (?, 'impressions', ?, ?)",
            [P1, (date(2026, 11, 1) + timedelta(days=i)).isoformat(), value],
        )
    old.close()
    assert applied(db_path) == ["m001_initial"]

    with Store.open(db_path, cipher=cipher) as store:
        assert applied(db_path) == [m.name for m in MIGRATIONS.pending(Database(memory=True))]
        assert store.series.daily([P1], ["impressions"], date(2026, 11, 1), date(2026, 11, 4)) == {
            P1: {"impressions": {date(2026, 11, 1): 5, date(2026, 11, 2): 7, date(2026, 11, 3): 11}}
        }
        running = store.database.execute("SELECT impressions_running FROM daily ORDER BY day")
        assert [r for (r,) in running] == [5, 12, 23]
        assert store.series.leaderboard(
            "impressions", since=date(2026, 11, 2), until=date(2026, 12, 1)
        ) == [(P1, 18)]


def test_file_databases_use_wal_and_foreign_keys(db_path: Path, cipher: TokenCipher) -> None:
    with Store.open(db_path, cipher=cipher) as store:
        assert store.database.journal_mode == "wal"
        assert store.database.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        with pytest.raises(sqlite3.IntegrityError):
            store.database.execute(
                "INSERT INTO daily (post_id, day, impressions) VALUES ('9', 20454, 1)"
            )


def test_instants_are_stored_as_iso_utc_text_and_naive_ones_refused(store: Store) -> None:
    paris = timezone(timedelta(hours=1))
    store.series.save_totals(
        [TotalsRow(P1, "favorites", 3)], taken_at=datetime(2026, 11, 26, 13, tzinfo=paris)
    )
    (taken_at,) = store.database.execute("SELECT taken_at FROM totals").fetchone()
    assert taken_at == "2026-11-26T12:00:00.000000Z"
    with pytest.raises(ValueError, match="naive"):
        store.series.save_totals([TotalsRow(P1, "favorites", 3)], taken_at=datetime(2026, 11, 26))  # noqa: DTZ001


def test_counts_are_stored_as_integers(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        store.series.save_daily([SeriesRow(P1, "impressions", date(2026, 11, 1), 1.5)])  # type: ignore[arg-type]
    assert count(store, "daily") == 0
    store.series.save_daily([SeriesRow(P1, "impressions", date(2026, 11, 1), "12")])  # type: ignore[arg-type]
    assert store.database.execute("SELECT typeof(impressions) FROM daily").fetchone() == (
        "integer",
    )


def test_malformed_post_ids_and_bare_strings_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="not a canonical Post ID"):
        store.posts.infos(["12a"])
    with pytest.raises(ValueError, match="not a canonical Post ID"):
        store.posts.infos(["0123"])
    with pytest.raises(TypeError, match="not one string"):
        store.posts.infos(P1)


# --- accounts ----------------------------------------------------------------------------------


def test_account_round_trip(store: Store) -> None:
    connect_alice(store, workspace="T1")
    alice = Account("4242", "Alice", "T1", NOW)
    assert store.accounts.listed() == [alice]
    assert store.accounts.auth("4242") == ALICE
    assert store.accounts.connected_ids() == frozenset({"4242"})
    for query in ("4242", "@alice", "ALICE", " @Alice "):
        assert store.accounts.find(query) == alice
    assert store.accounts.find("@bob") is None
    assert store.accounts.auth("1") is None


def test_saving_again_replaces_tokens_name_and_workspace(store: Store) -> None:
    connect_alice(store, workspace="T1")
    later = NOW + timedelta(days=1)
    fresh = UserAuth("4242-NewToken", "NewSecret")
    store.accounts.save(
        user_id="4242", screen_name="@alice_x", auth=fresh, workspace="T2", now=later
    )
    assert store.accounts.listed() == [Account("4242", "alice_x", "T2", later)]
    assert store.accounts.auth("4242") == fresh
    assert count(store, "account_tokens") == 1


def test_accounts_of_a_workspace_include_those_linked_without_one(store: Store) -> None:
    connect_alice(store, workspace=None)
    store.accounts.save(user_id="77", screen_name="bob", auth=BOB, workspace="T1", now=NOW)
    store.accounts.save(
        user_id="88", screen_name="carol", auth=UserAuth("88-c", "c"), workspace="T2", now=NOW
    )
    assert [a.screen_name for a in store.accounts.listed()] == ["Alice", "bob", "carol"]
    assert [a.screen_name for a in store.accounts.listed("T1")] == ["Alice", "bob"]
    assert [a.handle for a in store.accounts.listed("T3")] == ["@Alice"]


def test_a_token_of_another_user_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="belongs to user 77, not 4242") as caught:
        store.accounts.save(user_id="4242", screen_name="a", auth=BOB, workspace=None, now=NOW)
    assert "BobTokenPlaintext" not in str(caught.value)
    assert store.accounts.listed() == []


def test_remove_account_deletes_the_tokens(store: Store) -> None:
    connect_alice(store)
    assert store.accounts.remove("4242") is True
    assert store.accounts.remove("4242") is False
    assert store.accounts.listed() == []
    assert store.accounts.auth("4242") is None
    assert count(store, "account_tokens") == 0
    assert store.accounts.connected_ids() == frozenset()


def test_no_secret_reaches_the_file_the_tracer_or_a_repr(
    tmp_path: Path, cipher: TokenCipher
) -> None:
    traced: list[str] = []
    path = tmp_path / "engagement.db"
    store = Store.open(
        path, cipher=cipher, tracer=lambda sql, params: traced.append(f"{sql} {params}")
    )
    connect_alice(store)
    store.accounts.save(user_id="77", screen_name="bob", auth=BOB, workspace=None, now=NOW)
    store.accounts.rotate()
    secrets = [TOKEN, SECRET, "BobTokenPlaintext", "BobSecretPlaintext"]

    def raw_files() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())

    assert any(p.name.endswith("-wal") for p in tmp_path.iterdir())  # checked while open too
    for blob in (raw_files(), "\n".join(traced).encode(), repr(store.accounts.listed()).encode()):
        for secret in secrets:
            assert secret.encode() not in blob
    store.close()
    for secret in secrets:
        assert secret.encode() not in raw_files()
    with sqlite3.connect(path) as conn:
        (ciphertext,) = conn.execute("SELECT ciphertext FROM account_tokens LIMIT 1").fetchone()
    conn.close()
    assert ciphertext.startswith("gAAAAA")  # a Fernet token


def test_a_different_key_is_a_clear_error_that_shows_no_token(db_path: Path) -> None:
    with Store.open(db_path, cipher=TokenCipher.generate()) as store:
        connect_alice(store)
    with Store.open(db_path, cipher=TokenCipher.generate()) as store:
        with pytest.raises(
            SecretKeyError, match=r"account 4242: the secret key does not match"
        ) as caught:
            store.accounts.auth("4242")
        with pytest.raises(SecretKeyError, match=r"account\(s\) 4242") as verified:
            store.accounts.verify_key()
        for error in (caught.value, verified.value):
            assert TOKEN not in str(error)
            assert SECRET not in str(error)
        # The way out works without the key: disconnect, then connect again.
        assert store.accounts.listed()[0].user_id == "4242"
        assert store.accounts.remove("4242") is True
        store.accounts.verify_key()


def test_rotate_tokens_moves_every_token_to_the_new_key(db_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with Store.open(db_path, cipher=TokenCipher.from_keys([old])) as store:
        connect_alice(store)
    with Store.open(db_path, cipher=TokenCipher.from_keys([new, old])) as store:
        assert store.accounts.auth("4242") == ALICE  # the old key still decrypts
        assert store.accounts.rotate() == 1
    with Store.open(db_path, cipher=TokenCipher.from_keys([new])) as store:
        store.accounts.verify_key()
        assert store.accounts.auth("4242") == ALICE


def test_rotation_carries_open_connect_links_and_drops_expired_ones(db_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    later = NOW + timedelta(minutes=20)  # past the first link's 15 minutes
    with Store.open(db_path, cipher=TokenCipher.from_keys([old])) as store:
        links = store.connect_links
        stale = links.create(
            team_id="T1", channel_id="C1", user_id="U1", response_url=None, now=NOW
        )
        links.set_request_token(stale.link_id, "req-1", "req-secret-1", now=NOW)
        fresh = links.create(
            team_id="T1", channel_id="C1", user_id="U1", response_url=None, now=later
        )
        links.set_request_token(fresh.link_id, "req-2", "req-secret-2", now=later)
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))
    assert b"req-secret-" not in raw  # sealed at rest (the request token itself is public)
    with Store.open(db_path, cipher=TokenCipher.from_keys([new, old])) as store:
        store.connect_links.rotate(store.cipher, now=later)
    with Store.open(db_path, cipher=TokenCipher.from_keys([new])) as store:
        assert store.connect_links.request_secret(fresh.link_id) == "req-secret-2"
        assert store.connect_links.request_secret(stale.link_id) is None  # nobody can use it
        assert store.connect_links.claim(fresh.link_id, now=later)
        assert store.connect_links.request_secret(fresh.link_id) is None  # spent: forgotten


def test_tokens_moved_onto_another_account_are_refused(store: Store) -> None:
    connect_alice(store)
    store.accounts.save(user_id="77", screen_name="bob", auth=BOB, workspace=None, now=NOW)
    store.database.execute(
        "UPDATE account_tokens SET ciphertext = (SELECT ciphertext FROM account_tokens "
        "WHERE user_id = '4242') WHERE user_id = '77'"
    )
    with pytest.raises(SecretKeyError, match="belong to another account"):
        store.accounts.auth("77")


# --- Posts -------------------------------------------------------------------------------------


def test_post_infos_cover_every_id_with_the_snowflake_time_when_not_stored(store: Store) -> None:
    infos = store.posts.infos([P1, "20", P1])
    assert infos == {
        P1: PostInfo(P1, None, datetime(2026, 11, 1, tzinfo=UTC)),
        "20": PostInfo("20", None, None),  # pre-snowflake: creation time unknown
    }


def test_save_posts_upserts_and_keeps_known_fields(store: Store) -> None:
    stored_time = datetime(2026, 11, 1, 9, tzinfo=UTC)
    store.posts.save([PostRecord(P1, "4242", stored_time, "hello", "Alice")])
    store.posts.save([PostRecord(P1, None, None), PostRecord(P2, None, None, text="second")])
    assert store.posts.infos([P1, P2]) == {
        P1: PostInfo(P1, "4242", stored_time),
        P2: PostInfo(P2, None, datetime(2026, 11, 2, tzinfo=UTC)),
    }
    texts = dict(store.database.execute("SELECT post_id, text FROM posts").fetchall())
    assert texts == {P1: "hello", P2: "second"}


def test_unknown_authors_skip_known_and_deleted_posts(store: Store) -> None:
    store.posts.save([PostRecord(P1, "4242", None)])
    store.posts.mark([P2], state="deleted", now=NOW)
    assert store.posts.unknown_authors([P3, P1, P2, P3, "20"]) == [P3, "20"]
    store.posts.mark([P3], state="protected", now=NOW)
    assert store.posts.unknown_authors([P3]) == [P3]


def test_mark_posts_records_state_and_refuses_unknown_states(store: Store) -> None:
    store.posts.mark([P1, P2], state="protected", now=NOW)
    store.posts.mark([P2], state=PostState.OK, now=NOW)
    assert store.posts.states([P1, P2, P3]) == {
        P1: PostState.PROTECTED,
        P2: PostState.OK,
        P3: PostState.OK,
    }
    with pytest.raises(ValueError, match="'gone'"):
        store.posts.mark([P1], state="gone", now=NOW)


def test_a_refused_owner_is_forgotten_and_never_offered_again(store: Store) -> None:
    store.posts.save([PostRecord(P1, "4242", None), PostRecord(P2, "77", None)])
    store.posts.mark_not_owned_by([P1, P2, P3], "4242")
    infos = store.posts.infos([P1, P2])
    assert infos[P1].author_id is None
    assert infos[P2].author_id == "77"
    assert store.posts.unknown_authors([P1, P2, P3]) == [P1, P3]
    refused = frozenset({"4242"})
    assert store.posts.refused_owners([P1, P2, P3, "20"]) == {P1: refused, P2: refused, P3: refused}
    # A lookup says 4242 wrote it after all: learned, but still not offered to the planner.
    store.posts.save([PostRecord(P1, "4242", None)])
    assert store.posts.infos([P1])[P1].author_id is None
    assert store.posts.unknown_authors([P1]) == []
    store.posts.save([PostRecord(P1, "99", None)])
    assert store.posts.infos([P1])[P1].author_id == "99"


# --- totals, series and refresh times ----------------------------------------------------------


def test_totals_snapshots_latest_and_before(store: Store) -> None:
    first, second = NOW - timedelta(hours=2), NOW
    assert (
        store.series.save_totals(
            [TotalsRow(P1, "favorites", 3), TotalsRow(P1, "replies", 1)], taken_at=first
        )
        == 2
    )
    assert store.series.save_totals([TotalsRow(P1, "favorites", 3)], taken_at=first) == 0
    assert store.series.save_totals([TotalsRow(P1, "favorites", 5)], taken_at=second) == 1
    assert store.series.latest_totals([P1, P2], ["favorites", "replies", "retweets"]) == {
        P1: {"favorites": (5, second), "replies": (1, first)}
    }
    assert store.series.totals_before(P1, "favorites", NOW - timedelta(hours=1)) == (3, first)
    assert store.series.totals_before(P1, "favorites", first) == (3, first)  # at or before
    assert store.series.totals_before(P1, "favorites", first - timedelta(seconds=1)) is None
    assert store.series.last_refreshed([P1, P2], "total") == {P1: second}


def test_hourly_upserts_are_idempotent_and_read_by_range(store: Store) -> None:
    hour = datetime(2026, 11, 26, 10, tzinfo=UTC)
    rows = [SeriesRow(P1, "impressions", hour + timedelta(hours=i), 10 * i) for i in range(4)]
    assert store.series.save_hourly(rows) == 4
    assert store.series.save_hourly(rows) == 0
    assert store.series.save_hourly([SeriesRow(P1, "impressions", hour, 7)], fetched_at=NOW) == 1
    got = store.series.hourly([P1, P2], ["impressions", "likes"], hour, hour + timedelta(hours=2))
    assert got == {P1: {"impressions": {hour: 7, hour + timedelta(hours=1): 10}}}
    assert store.series.last_refreshed([P1], "hour") == {P1: NOW}
    assert store.series.last_refreshed([P1], "day") == {}


def test_series_buckets_are_checked(store: Store) -> None:
    with pytest.raises(ValueError, match="starts on the hour"):
        store.series.save_hourly([SeriesRow(P1, "impressions", NOW, 1)])
    with pytest.raises(TypeError, match="hourly bucket is a datetime"):
        store.series.save_hourly([SeriesRow(P1, "impressions", date(2026, 11, 26), 1)])
    with pytest.raises(TypeError, match="daily bucket is a date"):
        store.series.save_daily([SeriesRow(P1, "impressions", NOW, 1)])
    assert count(store, "posts") == 0  # nothing half-written


def test_daily_upserts_are_idempotent_and_read_by_range(store: Store) -> None:
    start = date(2026, 11, 1)
    assert store.series.save_daily(days(start, [1, 2, 3]), fetched_at=NOW) == 3
    assert store.series.save_daily(days(start, [1, 2, 3])) == 0
    assert store.series.save_daily(days(start + timedelta(days=1), [20, 3, 4])) == 2
    got = store.series.daily(
        [P1], ["impressions"], start + timedelta(days=1), start + timedelta(days=3)
    )
    assert got == {P1: {"impressions": {date(2026, 11, 2): 20, date(2026, 11, 3): 3}}}
    assert store.series.last_refreshed([P1], "day") == {P1: NOW}


def test_refresh_times_only_move_forward(store: Store) -> None:
    store.series.mark_refreshed([P1, P2], "day", at=NOW)
    store.series.mark_refreshed([P1], "day", at=NOW - timedelta(hours=1))
    store.series.save_daily(
        days(date(2026, 11, 1), [1], post=P2), fetched_at=NOW + timedelta(hours=1)
    )
    assert store.series.last_refreshed([P1, P2, P3], "day") == {
        P1: NOW,
        P2: NOW + timedelta(hours=1),
    }
    with pytest.raises(ValueError, match="'weekly'"):
        store.series.last_refreshed([P1], "weekly")


# --- leaderboards ------------------------------------------------------------------------------


def test_leaderboard_sums_days_in_the_range_highest_first(store: Store) -> None:
    start = date(2026, 11, 1)
    store.series.save_daily(days(start, [5, 5, 5, 5], post=P1))
    store.series.save_daily(days(start, [1, 9, 9, 1], post=P2))
    store.series.save_daily(days(start, [100], post=P3))  # only before the range
    store.series.save_daily(days(start, [50, 50, 50, 50], post=P3, metric="favorites"))
    since, until = start + timedelta(days=1), start + timedelta(days=3)
    assert store.series.leaderboard("impressions", since=since, until=until) == [(P2, 18), (P1, 10)]
    assert store.series.leaderboard("impressions", since=since, until=until, limit=1) == [(P2, 18)]
    assert store.series.leaderboard("impressions", since=since, until=until, post_ids=[P1, P3]) == [
        (P1, 10)
    ]
    assert store.series.leaderboard(
        "impressions", since=start, until=start + timedelta(days=30)
    ) == [
        (P3, 100),
        (P1, 20),
        (P2, 20),
    ]
    assert store.series.leaderboard("impressions", since=until, until=since) == []
    assert store.series.leaderboard("impressions", since=since, until=until, post_ids=[]) == []
    assert store.series.leaderboard("impressions", since=since, until=until, limit=0) == []


def test_leaderboard_breaks_ties_by_numeric_post_id(store: Store) -> None:
    for post in ("100", "99", "1000"):
        store.series.save_daily(days(date(2026, 11, 1), [7], post=post))
    board = store.series.leaderboard(
        "impressions", since=date(2026, 11, 1), until=date(2026, 11, 2)
    )
    assert board == [("99", 7), ("100", 7), ("1000", 7)]


@pytest.mark.parametrize("post_ids", [None, [P1, P2]])
def test_leaderboard_seeks_the_primary_key_instead_of_scanning(
    store: Store, post_ids: list[str] | None
) -> None:
    sql, params = leaderboard_query(
        "impressions", date(2026, 8, 1), date(2026, 11, 1), post_ids, 10
    )
    plan = [row[3] for row in store.database.execute("EXPLAIN QUERY PLAN " + sql, params)]
    daily_steps = [step for step in plan if " d " in f"{step} "]
    assert len(daily_steps) == 3, plan  # in range?, running total before until, before since
    seek = "SEARCH d USING PRIMARY KEY (post_id=? AND day"
    assert all(step.startswith(seek) for step in daily_steps), plan
    assert not [step for step in plan if step.startswith("SCAN d")]


bucket_writes = st.lists(
    st.lists(
        st.tuples(
            st.sampled_from(["1", "2", "10"]),
            st.sampled_from(["impressions", "favorites"]),
            st.integers(0, 20),
            st.integers(0, 1000),
        ),
        max_size=12,
    ),
    max_size=5,
)


@settings(max_examples=60, deadline=None)
@given(batches=bucket_writes, window=st.tuples(st.integers(0, 22), st.integers(0, 22)))
def test_leaderboard_equals_a_plain_sum_whatever_the_write_order(
    batches: list[list[tuple[str, str, int, int]]], window: tuple[int, int]
) -> None:
    start = date(2026, 1, 1)
    expected_rows: dict[tuple[str, str, int], int] = {}
    with Store.open(":memory:", cipher=TokenCipher.generate()) as store:
        for batch in batches:
            store.series.save_daily(
                [SeriesRow(p, m, start + timedelta(days=d), v) for p, m, d, v in batch]
            )
            expected_rows.update({(p, m, d): v for p, m, d, v in batch})
        since, until = (start + timedelta(days=n) for n in window)
        for metric in ("impressions", "favorites"):
            sums: dict[str, int] = {}
            for (p, m, d), v in expected_rows.items():
                if m == metric and window[0] <= d < window[1]:
                    sums[p] = sums.get(p, 0) + v
            expected = sorted(sums.items(), key=lambda item: (-item[1], int(item[0])))
            assert store.series.leaderboard(metric, since=since, until=until, limit=99) == expected


# --- the API call log --------------------------------------------------------------------------


def test_usage_counts_calls_per_endpoint_and_successful_owners(store: Store) -> None:
    connect_alice(store)
    store.posts.save([PostRecord(P1, "77", None, author_username="bob")])
    store.accounts.remove("4242")  # still billed for this month, still named
    november = datetime(2026, 11, 1, tzinfo=UTC)
    calls: list[dict[str, Any]] = [
        {"endpoint": "totals", "owner_id": "4242", "post_count": 3, "status": 200},
        {"endpoint": "totals", "owner_id": None, "post_count": 5, "status": 200},
        {"endpoint": "totals", "owner_id": "77", "post_count": 1, "status": 429, "attempts": 3},
        {"endpoint": "historical", "owner_id": "4242", "post_count": 2, "status": 200},
        {"endpoint": "28hr", "owner_id": "55", "post_count": 1, "status": 200},
        {"endpoint": "28hr", "owner_id": "66", "post_count": 1, "status": 0},
    ]
    for i, call in enumerate(calls):
        store.usage.log_call(at=november + timedelta(hours=i), **call)
    store.usage.log_call(
        at=november - timedelta(seconds=1),
        endpoint="totals",
        owner_id="9",
        post_count=1,
        status=200,
    )
    store.usage.log_call(
        at=datetime(2026, 12, 1, tzinfo=UTC),
        endpoint="totals",
        owner_id="9",
        post_count=1,
        status=200,
    )

    usage = store.usage.month("2026-11")
    assert usage.endpoints == (
        EndpointUsage("28hr", calls=2, failed=1, attempts=2, posts=2),
        EndpointUsage("historical", calls=1, failed=0, attempts=1, posts=2),
        EndpointUsage("totals", calls=3, failed=1, attempts=5, posts=9),
    )
    assert usage.owners == (OwnerUsage("4242", "@Alice", 2), OwnerUsage("55", None, 1))
    assert usage.calls == {"28hr": 2, "historical": 1, "totals": 3}
    assert (usage.total_calls, usage.unique_owners) == (6, 2)
    assert store.usage.month("2026-10").owners == (OwnerUsage("9", None, 1),)
    assert store.usage.month("2027-01").endpoints == ()
    for month in ("2026-13", "2026-1", "November"):
        with pytest.raises(ValueError, match="not a month"):
            store.usage.month(month)


# --- transactions, crashes and threads ---------------------------------------------------------


def peek(path: Path, sql: str) -> list[Any]:
    """What another connection (another process, say) sees right now."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_an_exception_mid_transaction_leaves_the_old_rows(
    db_path: Path, cipher: TokenCipher
) -> None:
    start = date(2026, 11, 1)
    with Store.open(db_path, cipher=cipher) as store:
        store.series.save_daily(days(start, [1, 1, 1]))
        before = peek(db_path, "SELECT day, impressions FROM daily ORDER BY day")

        def refresh_then_crash() -> None:
            with store.transaction():
                store.series.save_daily(days(start, [9, 9, 9, 9]))
                store.series.save_totals([TotalsRow(P2, "favorites", 4)], taken_at=NOW)
                # Inside: this connection sees the new rows, another sees only the old ones.
                seen = store.series.daily([P1], ["impressions"], start, start + timedelta(days=9))
                assert list(seen[P1]["impressions"].values()) == [9, 9, 9, 9]
                assert peek(db_path, "SELECT day, impressions FROM daily ORDER BY day") == before
                raise RuntimeError("crash")

        with pytest.raises(RuntimeError, match="crash"):
            refresh_then_crash()

        assert peek(db_path, "SELECT day, impressions FROM daily ORDER BY day") == before
        assert peek(db_path, "SELECT COUNT(*) FROM totals") == [(0,)]
        assert store.series.leaderboard(
            "impressions", since=start, until=start + timedelta(days=9)
        ) == [(P1, 3)]

        with store.transaction():
            store.series.save_daily(days(start, [9, 9, 9, 9]))
            assert peek(db_path, "SELECT day, impressions FROM daily ORDER BY day") == before
        assert [v for _, v in peek(db_path, "SELECT day, impressions FROM daily ORDER BY day")] == [
            9,
            9,
            9,
            9,
        ]


def test_a_process_killed_mid_transaction_leaves_the_old_rows(
    db_path: Path, cipher: TokenCipher
) -> None:
    with Store.open(db_path, cipher=cipher) as store:
        store.series.save_daily(days(date(2026, 11, 1), [1, 1]))
    script = textwrap.dedent(
        f"""
        import os
        from datetime import date, timedelta
        from bot.store.cipher import TokenCipher
        from bot.store import SeriesRow, Store
        store = Store.open({str(db_path)!r}, cipher=TokenCipher.generate())
        with store.transaction():
            day = date(2026, 11, 1)
            store.series.save_daily(
                [SeriesRow({P1!r}, "impressions", day + timedelta(days=i), 50) for i in range(5)]
            )
            store.series.save_daily([SeriesRow({P2!r}, "impressions", date(2026, 11, 1), 50)])
            os._exit(3)  # killed: no rollback, no close, the WAL holds uncommitted pages
        """
    )
    finished = subprocess.run([sys.executable, "-c", script], cwd=REPO, check=False)
    assert finished.returncode == 3
    with Store.open(db_path, cipher=cipher) as store:
        got = store.series.daily([P1, P2], ["impressions"], date(2026, 11, 1), date(2026, 12, 1))
        assert got == {P1: {"impressions": {date(2026, 11, 1): 1, date(2026, 11, 2): 1}}}
        assert store.database.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_nested_failure_undoes_only_the_inner_block(store: Store) -> None:
    with store.transaction():
        store.series.save_totals([TotalsRow(P1, "favorites", 1)], taken_at=NOW)
        try:
            with store.transaction():
                store.series.save_totals([TotalsRow(P2, "favorites", 2)], taken_at=NOW)
                raise KeyError("inner")
        except KeyError:
            pass  # the caller handles the inner failure and carries on
        store.series.save_totals([TotalsRow(P3, "favorites", 3)], taken_at=NOW)
    assert set(store.series.latest_totals([P1, P2, P3], ["favorites"])) == {P1, P3}


def test_threads_share_the_store_without_joining_each_others_transactions(
    db_path: Path, cipher: TokenCipher
) -> None:
    with Store.open(db_path, cipher=cipher) as store:
        started = threading.Event()
        errors: list[BaseException] = []

        def write(post: str) -> None:
            started.set()
            try:
                for i in range(20):
                    store.series.save_totals(
                        [TotalsRow(post, "favorites", i)], taken_at=NOW + timedelta(seconds=i)
                    )
            except BaseException as error:  # surfaced below: a thread's exception is otherwise lost
                errors.append(error)

        other = threading.Thread(target=write, args=(P2,))

        def write_start_other_and_fail() -> None:
            with store.transaction():
                store.series.save_totals([TotalsRow(P1, "favorites", 1)], taken_at=NOW)
                other.start()  # its writes must wait for this transaction, not join it
                started.wait()
                raise RuntimeError("roll back only my rows")

        with pytest.raises(RuntimeError, match="only my rows"):
            write_start_other_and_fail()
        workers = [threading.Thread(target=write, args=(p,)) for p in ("5", "6", "7")]
        for worker in workers:
            worker.start()
        for thread in [other, *workers]:
            thread.join()
        assert errors == []
        assert store.series.latest_totals([P1], ["favorites"]) == {}
        for post in (P2, "5", "6", "7"):
            assert store.series.latest_totals([post], ["favorites"])[post]["favorites"][0] == 19


def test_repr_of_the_store_names_only_the_file(db_path: Path, cipher: TokenCipher) -> None:
    with Store.open(db_path, cipher=cipher) as store:
        assert repr(store) == f"Store({str(db_path)!r})"


def test_m011_dates_an_unposted_claim_of_an_older_version_from_its_claim(
    db_path: Path, cipher: TokenCipher
) -> None:
    """A claim an older version left unposted may have posted any time after the claim: the
    search for it starts there. A posted one needs no search."""
    claimed = datetime(2026, 11, 26, 9, tzinfo=UTC)
    with Store.open(db_path, cipher=cipher) as store:
        for day, ts in ((date(2026, 11, 24), "1.000001"), (date(2026, 11, 25), None)):
            store.digests.claim("T1", "C1", day, token="old", now=claimed, stale_after=timedelta())
            if ts:
                store.digests.record("T1", "C1", day, token="old", ts=ts, now=claimed)
    with sqlite3.connect(db_path) as conn:  # as the older version left the file
        conn.execute("ALTER TABLE digests DROP COLUMN attempted_at")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm011_digest_attempts'")
    conn.close()

    with Store.open(db_path, cipher=cipher) as store:
        unposted = store.digests.get("T1", "C1", date(2026, 11, 25))
        posted = store.digests.get("T1", "C1", date(2026, 11, 24))
    assert unposted is not None
    assert unposted.attempted_at == claimed
    assert posted is not None
    assert posted.attempted_at is None
