"""`engagement-bot backup` and `restore`, tried as an operator would: a backup taken while the
bot is answering commands and another connection keeps writing, checked and restored; a restore
refused while the bot holds the database, or with a key that does not open the backup."""

from __future__ import annotations

import sqlite3
import stat
import threading
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.cli import main
from bot.simulator.server import RunningSimulator
from bot.store import Store
from bot.store.cipher import TokenCipher, key_path_for
from tests.support.fake_slack import FakeSlack
from tests.support.paths import REPO
from tests.support.running import Running, post_command, settings_for
from tests.support.universe import point_env_at

CREATOR = ["--token", "1000000002-simtoken-sim_creator", "--secret", "simsecret-sim_creator"]


def row_counts(path: Path) -> dict[str, int]:
    """Rows per table, read with plain sqlite3 (not the code under test)."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def env(sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("ENGAGEMENT_SECRET_KEY", raising=False)
    point_env_at(monkeypatch, tmp_path, sim.url)
    return tmp_path / "engagement.db"


@pytest.fixture
def linked(env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A database holding a linked account's sealed tokens (the key in the key file)."""
    assert main(["accounts", "add", *CREATOR]) == 0
    capsys.readouterr()
    return env


class Writer:
    """Another connection logging X calls as fast as it can until stopped."""

    def __init__(self, db_path: Path) -> None:
        self.written = 0
        self._stop = threading.Event()
        self._store = Store.open(db_path, cipher=TokenCipher.from_keys([Fernet.generate_key()]))
        self._thread = threading.Thread(target=self._write, daemon=True)

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=20)
        self._store.close()

    def _write(self) -> None:
        start = datetime(2026, 11, 1, tzinfo=UTC)
        while not self._stop.is_set():
            self._store.usage.log_call(
                at=start + timedelta(seconds=self.written),
                endpoint="totals",
                owner_id=None,
                post_count=250,
                status=200,
                attempts=1,
                workspace="T1",
            )
            self.written += 1


@pytest.fixture
def running(
    fake: FakeSlack, sim: RunningSimulator, linked: Path, tmp_path: Path
) -> Iterator[Running]:
    running = Running(settings_for(fake, sim, tmp_path, db_path=linked), sim)
    yield running
    running.close()


def test_a_backup_taken_while_the_bot_answers_and_another_connection_writes_is_whole(
    running: Running, fake: FakeSlack, linked: Path, tmp_path: Path, capsys
) -> None:
    copy = tmp_path / "backups" / "monday.db"
    copy.parent.mkdir()
    with Writer(linked) as writer:
        assert post_command(running.url, "help", fake).status_code == 200
        while writer.written < 200:  # the writer is well under way before the copy starts
            pass
        assert main(["backup", str(copy)]) == 0
        during = writer.written
    out = capsys.readouterr().out
    assert "integrity check passed" in out
    assert "key is not in the backup" in out
    assert integrity(copy) == "ok"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    copied = row_counts(copy)
    assert copied["accounts"] == 1
    assert copied["account_tokens"] == 1
    # One consistent moment of a database being written: some of the writer's rows, not all.
    assert 200 <= copied["api_calls"] <= during + 1


def test_restore_is_refused_while_the_bot_holds_the_database(
    running: Running, linked: Path, tmp_path: Path, capsys
) -> None:
    copy = tmp_path / "copy.db"
    assert main(["backup", str(copy)]) == 0
    before = row_counts(linked)
    capsys.readouterr()
    assert main(["restore", str(copy)]) == 1
    assert "open in another engagement-bot process" in capsys.readouterr().err
    assert row_counts(linked) == before


def test_restore_brings_back_the_rows_of_the_backup(linked: Path, tmp_path: Path, capsys) -> None:
    copy = tmp_path / "copy.db"
    assert main(["backup", str(copy)]) == 0
    backed_up = row_counts(copy)
    assert main(["accounts", "remove", "@sim_creator"]) == 0
    assert row_counts(linked)["accounts"] == 0
    capsys.readouterr()
    assert main(["restore", str(copy)]) == 0
    assert "integrity check and key passed" in capsys.readouterr().out
    assert row_counts(linked) == backed_up
    assert main(["accounts", "list"]) == 0
    assert "sim_creator" in capsys.readouterr().out  # its tokens open with the key file's key


def test_a_restore_whose_backup_the_key_cannot_open_replaces_nothing(
    linked: Path, tmp_path: Path, capsys
) -> None:
    copy = tmp_path / "copy.db"
    assert main(["backup", str(copy)]) == 0
    assert main(["accounts", "remove", "@sim_creator"]) == 0
    before = row_counts(linked)
    key_path_for(linked).write_bytes(Fernet.generate_key())  # another key than the backup's
    capsys.readouterr()
    assert main(["restore", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "key" in err
    assert len(err.strip().splitlines()) == 1
    assert row_counts(linked) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == []  # no trial left


def test_bad_backup_and_restore_paths_fail_in_one_line(linked: Path, tmp_path: Path, capsys):
    copy = tmp_path / "copy.db"
    copy.write_text("already here")
    assert main(["backup", str(copy)]) == 1
    assert copy.read_text() == "already here"  # a backup never overwrites a file
    assert main(["restore", str(tmp_path / "missing.db")]) == 1
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    before = row_counts(linked)
    assert main(["restore", str(garbage)]) == 1
    assert row_counts(linked) == before
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    assert "Traceback" not in "".join(lines)
    assert "already exists" in lines[0]
    assert "no such backup" in lines[1]
    assert "not a SQLite database" in lines[2]


def test_version_prints_the_installed_release(capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    released = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out == f"engagement-bot {released}\n"
