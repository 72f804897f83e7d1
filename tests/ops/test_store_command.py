"""`engagement-bot store stats` and `store prune` as an operator runs them (bot.cli.main, a
SQLite file, the real clock: the rows are written relative to it)."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlite_utils import Database

from bot.cli import main
from bot.config import Settings
from bot.engagement import snowflake
from bot.store import MIGRATIONS, TotalsRow
from bot.store.opening import open_store

NOW = datetime.now(UTC)  # noqa: TID251 - the CLI prunes at the real time: rows are set around it
OLD_MONTH = (NOW - timedelta(days=31 * 15)).strftime("%Y-%m")
POST = str(snowflake.make_id(snowflake.epoch_ms(NOW - timedelta(days=40))))
STALE = str(snowflake.make_id(snowflake.epoch_ms(NOW - timedelta(days=400)), sequence=1))


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "engagement.db"
    monkeypatch.setenv("ENGAGEMENT_DB", str(path))
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", Fernet.generate_key().decode())
    return path


def fill(path: Path) -> None:
    settings = Settings.from_env(os.environ)  # noqa: TID251 - the key the fixture set
    with open_store(settings) as store:
        for hours in range(0, 24 * 30, 3):
            at = NOW - timedelta(hours=hours)
            store.series.save_totals([TotalsRow(POST, "favorites", 9_000 - hours)], taken_at=at)
        store.series.save_totals(
            [TotalsRow(STALE, "favorites", 1)], taken_at=NOW - timedelta(days=300)
        )
        for n in range(12):
            store.usage.log_call(
                at=NOW - timedelta(days=31 * 15 + n),
                endpoint=("totals", "28hr")[n % 2],
                owner_id="1000000001" if n % 3 else None,
                post_count=n + 1,
                status=200 if n % 4 else 429,
            )


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, _ = capsys.readouterr()
    return code, out


def test_stats_shows_rows_and_the_oldest_row_per_table(db: Path, capsys: Any) -> None:
    fill(db)

    code, out = run(capsys, "store", "stats")

    assert code == 0
    totals = next(line.split() for line in out.splitlines() if line.startswith("totals "))
    assert totals[1] == "241"  # 240 readings, every one a change, and STALE's
    oldest = (NOW - timedelta(days=300)).strftime("%Y-%m-%dT%H:%M")
    assert totals[-1].startswith(oldest)
    assert "auto_vacuum: incremental" in out


def test_a_dry_run_changes_nothing_and_says_what_prune_then_removes(db: Path, capsys: Any) -> None:
    fill(db)
    before = dump(db)

    code, dry = run(capsys, "store", "prune", "--dry-run")

    assert code == 0
    assert dump(db) == before
    code, done = run(capsys, "store", "prune")
    assert code == 0
    assert dump(db) != before
    assert dry.replace("would remove", "removed") == done
    assert "1 unused Posts forgotten" in done


def test_usage_reads_the_same_after_a_prune(db: Path, capsys: Any) -> None:
    fill(db)
    code, before = run(capsys, "usage", "--month", OLD_MONTH)
    assert code == 0
    assert ": 12 API calls" in before

    assert run(capsys, "store", "prune")[0] == 0

    assert run(capsys, "usage", "--month", OLD_MONTH) == (0, before)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM api_calls").fetchone() == (0,)


def test_vacuum_converts_a_file_made_before_the_store_set_auto_vacuum(
    db: Path, capsys: Any
) -> None:
    MIGRATIONS.apply(Database(db))  # as an older version made it: auto_vacuum none
    fill(db)
    assert "auto_vacuum: none" in run(capsys, "store", "stats")[1]

    code, out = run(capsys, "store", "prune", "--vacuum")

    assert code == 0
    assert "rewritten" in out
    assert "auto_vacuum: incremental" in run(capsys, "store", "stats")[1]


def test_a_dry_run_cannot_vacuum(db: Path, capsys: Any) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["store", "prune", "--dry-run", "--vacuum"])
    assert exited.value.code == 2


def test_a_database_that_cannot_be_opened_exits_1_saying_so(
    db: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db.mkdir()  # a directory where the file should be

    code = main(["store", "prune"])

    assert code == 1
    err = capsys.readouterr().err
    assert str(db) in err
    assert len(err.splitlines()) == 1
