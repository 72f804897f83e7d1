"""A database made by every earlier release upgrades cleanly.

For each schema version N (the first N migrations), a database lives through the releases as a
user's would: migration 1, then the rows that release would have written (plain SQL in the
shape of that version's tables), migration 2, its rows, ... up to N. The current code then
opens it (upgrading the rest of the way), and the facts written at each step are read back
through the store's own methods: nothing lost, nothing changed in meaning. Every table that
existed at N keeps its rows. A migration added later gets this test for free; one that needs
rows of its own to prove its meaning adds a step to STEPS.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlite_utils import Database

from bot.cli import main
from bot.engagement.records import PostSet
from bot.store import Store
from bot.store.cipher import TokenCipher
from bot.store.schema import MIGRATIONS

KEY = Fernet.generate_key().decode()
BRAND, CREATOR = "1000000001", "1000000002"
OWNED, OTHER = "1860000000000000001", "1860000000000000002"
T1, C1 = "T0UPGRADE", "C0UPGRADE"


def at(text: str) -> str:
    """An instant as the store has always written it (fixed-width ISO-8601 UTC)."""
    return datetime.fromisoformat(text).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sealed(user_id: str, token: str, secret: str) -> str:
    body = json.dumps({"user_id": user_id, "token": token, "secret": secret}).encode()
    return Fernet(KEY.encode()).encrypt(body).decode()


# -- what each release wrote, and how the current code must read it ----------------------------


def rows_v1(db: sqlite3.Connection) -> None:
    db.execute("INSERT INTO users VALUES (?, 'sim_brand'), (?, 'sim_creator')", (BRAND, CREATOR))
    db.execute(
        "INSERT INTO accounts VALUES (?, 'sim_brand', NULL, ?)", (BRAND, at("2026-09-01T08:00"))
    )
    db.execute("INSERT INTO account_tokens VALUES (?, ?)", (BRAND, sealed(BRAND, "tok", "sec")))
    db.execute(
        "INSERT INTO posts (post_id, author_id, created_at) VALUES (?, ?, ?), (?, ?, ?)",
        (OWNED, BRAND, at("2026-09-01T09:00"), OTHER, CREATOR, at("2026-09-02T09:00")),
    )
    db.executemany(
        "INSERT INTO totals VALUES (?, ?, ?, ?)",
        [
            (OWNED, "likes", at("2026-09-10T00:00"), 10),
            (OWNED, "likes", at("2026-09-11T00:00"), 15),
            (OTHER, "likes", at("2026-09-11T00:00"), 7),
        ],
    )
    db.executemany(
        "INSERT INTO daily VALUES (?, 'favorites', ?, ?)",
        [(OWNED, "2026-09-01", 4), (OWNED, "2026-09-02", 5), (OWNED, "2026-09-03", 6)],
    )
    db.executemany(
        "INSERT INTO hourly VALUES (?, 'likes', ?, ?)",
        [(OWNED, at(f"2026-09-01T{h:02}:00"), h) for h in range(9, 12)],
    )
    db.executemany(
        "INSERT INTO api_calls (at, endpoint, owner_id, post_count, status, attempts)"
        " VALUES (?, ?, ?, ?, 200, 1)",
        [(at("2026-09-10T00:00"), "totals", BRAND, 2), (at("2026-09-11T00:00"), "28hr", BRAND, 1)],
    )


def read_v1(store: Store) -> None:
    (account,) = store.accounts.listed()
    assert (account.handle, account.workspace) == ("@sim_brand", None)
    auth = store.accounts.auth(BRAND)
    assert auth is not None
    assert (auth.access_token, auth.access_token_secret) == ("tok", "sec")
    infos = store.posts.infos([OWNED, OTHER])
    assert (infos[OWNED].author_id, infos[OTHER].author_id) == (BRAND, CREATOR)
    latest = store.series.latest_totals([OWNED, OTHER], ["likes"])
    assert (latest[OWNED]["likes"][0], latest[OTHER]["likes"][0]) == (15, 7)
    days = store.series.daily([OWNED], ["favorites"], date(2026, 9, 1), date(2026, 9, 4))
    assert list(days[OWNED]["favorites"].values()) == [4, 5, 6]
    # m002's running totals, computed from rows that existed before it: a leaderboard adds up.
    board = store.series.leaderboard(
        "favorites", since=date(2026, 9, 2), until=date(2026, 9, 4), post_ids=[OWNED], limit=5
    )
    assert board == [(OWNED, 11)]
    hours = store.series.hourly(
        [OWNED],
        ["likes"],
        datetime(2026, 9, 1, 9, tzinfo=UTC),
        datetime(2026, 9, 1, 12, tzinfo=UTC),
    )
    assert list(hours[OWNED]["likes"].values()) == [9, 10, 11]
    usage = store.usage.month("2026-09")
    assert dict(usage.calls) == {"totals": 1, "28hr": 1}


def rows_v3(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO channel_tracks VALUES (?, ?, 'account', 'sim_creator', 'U1', ?)",
        (T1, C1, at("2026-09-12T00:00")),
    )
    db.execute(
        "INSERT INTO channel_settings (team_id, channel_id, digest_enabled, digest_time, timezone,"
        " updated_at) VALUES (?, ?, 1, '08:30', 'Europe/Paris', ?)",
        (T1, C1, at("2026-09-12T00:00")),
    )
    db.execute(
        "INSERT INTO alert_rules (team_id, channel_id, kind, metric, threshold, post_id,"
        " created_by, created_at) VALUES (?, ?, 'threshold', 'likes', 100, ?, 'U1', ?)",
        (T1, C1, OWNED, at("2026-09-12T00:00")),
    )


def read_v3(store: Store) -> None:
    assert store.channels.tracked(T1, C1, "account") == ["sim_creator"]
    # A channel's board reads its tracked Posts through channel_tracks' primary key, named
    # (sqlite_autoindex_channel_tracks_1, bot/store/posts.py): a file made before holds it too.
    board = store.series.board(
        PostSet((OWNED,), (T1, C1)),
        "likes",
        owners=(),
        since=datetime(2026, 9, 1, tzinfo=UTC),
        until=date(2026, 9, 30),
        limit=5,
        public=True,
    )
    assert board.unknown == ()
    settings = store.channels.settings(T1, C1)
    assert settings.digest_enabled
    assert (str(settings.digest_time)[:5], settings.timezone) == ("08:30", "Europe/Paris")
    (rule,) = store.channels.alerts(T1, C1)
    assert (rule.kind, rule.metric, rule.threshold, rule.post_id) == (
        "threshold",
        "likes",
        100,
        OWNED,
    )


def rows_v4(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO digests VALUES (?, ?, '2026-09-12', ?, 'claim-1', '1726120000.000100', ?)",
        (T1, C1, at("2026-09-12T06:30"), at("2026-09-12T06:30")),
    )
    db.execute(
        "INSERT INTO digests (team_id, channel_id, local_date, claimed_at, claim_token)"
        " VALUES (?, ?, '2026-09-13', ?, 'claim-2')",
        (T1, C1, at("2026-09-13T06:30")),
    )


def read_v4(store: Store) -> None:
    posted = store.digests.get(T1, C1, date(2026, 9, 12))
    assert posted is not None
    assert posted.posted_ts == "1726120000.000100"
    claimed = store.digests.get(T1, C1, date(2026, 9, 13))
    assert claimed is not None
    assert claimed.posted_ts is None  # a claim left by a dead run stays to be reconciled
    assert store.digests.last_digest_date(T1, C1) == date(2026, 9, 12)  # the last posted
    # m011: an unposted claim could have posted any time after it was claimed.
    assert claimed.attempted_at == datetime(2026, 9, 13, 6, 30, tzinfo=UTC)


def rows_v5(db: sqlite3.Connection) -> None:
    db.execute(
        "UPDATE channel_settings SET quiet_start = '22:00', quiet_end = '07:00'"
        " WHERE team_id = ? AND channel_id = ?",
        (T1, C1),
    )
    db.execute(
        "INSERT INTO alert_firings (rule_id, post_id, hour, metric, value, baseline, fired_at,"
        " delivered_at, message_ts) VALUES (1, ?, ?, 'likes', 120, NULL, ?, ?, '1726200000.1')",
        (OWNED, at("2026-09-13T10:00"), at("2026-09-13T11:00"), at("2026-09-13T11:00")),
    )


def read_v5(store: Store) -> None:
    settings = store.channels.settings(T1, C1)
    assert (str(settings.quiet_start)[:5], str(settings.quiet_end)[:5]) == ("22:00", "07:00")
    firing = store.alert_log.get(1, OWNED, datetime(2026, 9, 13, 10, tzinfo=UTC))
    assert firing is not None
    assert (firing.value, firing.message_ts) == (120, "1726200000.1")
    assert store.alert_log.undelivered([1]) == []


def rows_v10(db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO account_exclusions VALUES (?, 'T0OTHER', ?)", (BRAND, at("2026-10-01T00:00"))
    )
    db.execute(
        "INSERT INTO api_calls (at, endpoint, owner_id, post_count, status, attempts, workspace)"
        " VALUES (?, 'totals', ?, 3, 200, 1, ?)",
        (at("2026-10-02T00:00"), BRAND, T1),
    )


def read_v10(store: Store) -> None:
    assert store.accounts.exclusions() == {BRAND: ("T0OTHER",)}
    assert BRAND not in store.accounts.connected_ids("T0OTHER")
    assert BRAND in store.accounts.connected_ids(T1)
    assert store.usage.month("2026-10", T1).total_calls == 1
    assert store.usage.month("2026-10", "T0OTHER").total_calls == 0


# What 0.2.0 wrote to `daily` (a row per Post, metric and day, with m002's running totals),
# around the v1 rows: two metrics, days missing here and there, a gap in the middle.
DAILY_V16 = (
    (OWNED, "impressions", "2026-09-02", 100, 100),
    (OWNED, "impressions", "2026-09-03", 0, 100),
    (OWNED, "impressions", "2026-09-05", 40, 140),
    (OWNED, "favorites", "2026-09-05", 2, 17),  # after v1's 4, 5 and 6 (1-3 September)
    (OWNED, "engagements", "2026-09-20", 7, 7),
    (OTHER, "impressions", "2026-09-03", 1_000_000_000, 1_000_000_000),
    (OTHER, "retweets", "2026-09-04", 3, 3),
    (OTHER, "user_profile_clicks", "2026-09-04", 1, 1),
)


def rows_v16(db: sqlite3.Connection) -> None:
    db.executemany("INSERT INTO daily VALUES (?, ?, ?, ?, ?)", DAILY_V16)


def read_v16(store: Store) -> None:
    facts = {(p, m, d): v for p, m, d, v, _ in DAILY_V16}
    facts.update({(OWNED, "favorites", f"2026-09-0{i}"): v for i, v in ((1, 4), (2, 5), (3, 6))})
    metrics = sorted({m for _, m, _ in facts})
    stored = store.series.daily([OWNED, OTHER], metrics, date(2026, 8, 1), date(2026, 10, 1))
    assert {
        (post_id, metric, day.isoformat()): value
        for post_id, series in stored.items()
        for metric, values in series.items()
        for day, value in values.items()
    } == facts
    # Running totals carried over: each range is the sum of its days.
    for metric, since, until, totals in (
        ("impressions", date(2026, 9, 3), date(2026, 9, 6), [(OTHER, 1_000_000_000), (OWNED, 40)]),
        ("favorites", date(2026, 9, 3), date(2026, 9, 30), [(OWNED, 8)]),
        ("retweets", date(2026, 9, 1), date(2026, 9, 30), [(OTHER, 3)]),
        ("user_profile_clicks", date(2026, 9, 1), date(2026, 9, 30), [(OTHER, 1)]),
        ("engagements", date(2026, 9, 1), date(2026, 9, 20), []),
    ):
        assert store.series.leaderboard(metric, since=since, until=until) == totals


@dataclass(frozen=True)
class Step:
    after: str  # the migration whose release wrote these rows
    write: Callable[[sqlite3.Connection], None]
    read: Callable[[Store], None]


STEPS = (
    Step("m001_initial", rows_v1, read_v1),
    Step("m003_channels", rows_v3, read_v3),
    Step("m004_digests", rows_v4, read_v4),
    Step("m005_alerting", rows_v5, read_v5),
    Step("m010_workspace_boundaries", rows_v10, read_v10),
    Step("m016_alert_mutes", rows_v16, read_v16),
)
NAMES = MIGRATIONS.names
PACKED = "m017_daily_by_post_day"


def build_at(path: Path, version: int) -> list[Step]:
    """A database at schema `version`, with every step's rows written when its release ran;
    the steps written."""
    written = []
    db = Database(path)
    for index, name in enumerate(NAMES[:version]):
        later = NAMES[index + 1 :]
        MIGRATIONS.apply(db, stop_before=later[0] if later else None)
        for step in STEPS:
            if step.after == name:
                with db.conn:
                    step.write(db.conn)
                written.append(step)
    db.close()
    return written


def table_rows(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        names = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


def test_the_steps_name_real_migrations() -> None:
    assert {step.after for step in STEPS} <= set(NAMES)


@pytest.mark.parametrize("version", range(1, len(NAMES) + 1))
def test_a_database_of_every_earlier_version_upgrades_without_losing_anything(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "engagement.db"
    written = build_at(path, version)
    before = table_rows(path)
    with Store.open(path, cipher=TokenCipher.from_keys([KEY])) as store:
        for step in written:
            step.read(store)
        assert store.sealed.unopenable() == {}
    after = table_rows(path)
    # m017 packs a Post-day's metrics into one row: read_v16 reads every fact of `daily` back.
    repacked = {"_sqlite_migrations"} | ({"daily"} if version < NAMES.index(PACKED) + 1 else set())
    assert {t: after[t] for t in before if t not in repacked} == {
        t: n for t, n in before.items() if t not in repacked
    }
    assert after["_sqlite_migrations"] == len(NAMES)


def test_a_database_from_a_newer_release_is_refused_and_left_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "engagement.db"
    build_at(path, len(NAMES))
    conn = sqlite3.connect(path)
    with conn:  # what a later release would have added
        conn.execute("CREATE TABLE campaigns_v2 (id INTEGER PRIMARY KEY)")
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
            " VALUES ('engagement-bot', 'm099_from_the_future', '2027-01-01 00:00:00+00:00')"
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENGAGEMENT_DB", str(path))
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", KEY)
    assert main(["accounts", "list"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "newer engagement-bot release" in err
    assert "m099_from_the_future" in err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_daily_rows_of_a_metric_without_a_column_stop_the_upgrade_and_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "engagement.db"
    build_at(path, NAMES.index(PACKED))
    conn = sqlite3.connect(path)
    with conn:  # no release asked X for it, but a hand-edited file might hold one
        conn.execute("INSERT INTO daily VALUES (?, 'likes', '2026-09-04', 9, 9)", (OWNED,))
    daily = conn.execute("SELECT * FROM daily ORDER BY post_id, metric, day").fetchall()
    conn.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENGAGEMENT_DB", str(path))
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", KEY)
    assert main(["accounts", "list"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "likes" in err
    assert "not upgraded" in err
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT * FROM daily ORDER BY post_id, metric, day").fetchall() == daily
    assert PACKED not in {name for (name,) in conn.execute("SELECT name FROM _sqlite_migrations")}
    conn.close()
