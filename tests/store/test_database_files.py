"""The database file and its key, tried as an operator meets them: `engagement-bot` run on a real
SQLite file whose key is wrong or lost, whose file is garbage, read-only, locked or full; and
the files it creates, private to their owner."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.app import build_service
from bot.channels.deps import Deps
from bot.cli import main
from bot.errors import DatabaseFull
from bot.simulator.server import RunningSimulator
from bot.slack.app import build_app
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.clocks import FakeClock
from tests.support.fake_slack import FakeSlack
from tests.support.simhttp import x_client
from tests.support.slack_app import settings_for
from tests.support.slack_requests import slash
from tests.support.universe import SIM_START, point_env_at

CREATOR = ["--token", "1000000002-simtoken-sim_creator", "--secret", "simsecret-sim_creator"]
SLACK = {"SLACK_BOT_TOKEN": "xoxb-fake-token", "SLACK_SIGNING_SECRET": "fake-signing-secret"}


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def one_line_failure(capsys: pytest.CaptureFixture[str]) -> str:
    """What the command printed on stderr: one line, no traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
def env(sim: RunningSimulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's environment pointed at the simulator, the database in tmp_path, no key
    setting: the key lives in the file beside the database."""
    monkeypatch.delenv("ENGAGEMENT_SECRET_KEY", raising=False)
    point_env_at(monkeypatch, tmp_path, sim.url)
    return tmp_path / "engagement.db"


@pytest.fixture
def linked(env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """An account linked with `accounts add`: its tokens sealed with the key file's key."""
    assert main(["accounts", "add", *CREATOR]) == 0
    capsys.readouterr()
    return env


# -- the key ------------------------------------------------------------------------------------


def test_a_fresh_database_gets_a_private_key_file(env: Path, capsys) -> None:
    previous = os.umask(0o022)
    try:
        assert main(["accounts", "list"]) == 0
    finally:
        os.umask(previous)
    key_file = env.with_name("engagement.db.key")
    assert mode_of(key_file) == 0o600
    TokenCipher.from_keys([key_file.read_text().strip()])  # a real key


@pytest.mark.parametrize("command", [["accounts", "list"], ["run"], ["query", "totals", "1"]])
def test_a_wrong_secret_key_refuses_to_start_and_names_the_setting(
    linked: Path, monkeypatch: pytest.MonkeyPatch, capsys, command: list[str]
) -> None:
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", Fernet.generate_key().decode())
    assert main(command) == 1
    line = one_line_failure(capsys)
    assert "ENGAGEMENT_SECRET_KEY" in line
    assert "does not match the X account tokens (1)" in line
    assert str(linked) in line


def test_a_deleted_key_file_is_an_error_naming_it_never_a_new_key(linked: Path, capsys) -> None:
    key_file = linked.with_name("engagement.db.key")
    key_file.unlink()
    assert main(["accounts", "list"]) == 1
    line = one_line_failure(capsys)
    assert f"the key file {key_file} is missing" in line
    assert not key_file.exists()
    assert main(["accounts", "add", *CREATOR]) == 1  # nothing is sealed with a new key either
    assert f"the key file {key_file} is missing" in one_line_failure(capsys)
    assert not key_file.exists()


def test_a_key_that_opens_the_accounts_but_not_a_connect_link_is_refused(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    old, new = (Fernet.generate_key().decode() for _ in range(2))
    with Store.open(env, cipher=TokenCipher.from_keys([old])) as store:
        link = store.connect_links.create(
            team_id="T1", channel_id="C1", user_id="U1", response_url=None, now=SIM_START
        )
        store.connect_links.set_request_token(link.link_id, "req", "req-secret", now=SIM_START)
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", new)
    assert main(["accounts", "list"]) == 1
    assert "connect link secrets (1)" in one_line_failure(capsys)
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", f"{new},{old}")  # the old key listed after
    assert main(["accounts", "list"]) == 0


# -- files private to their owner ---------------------------------------------------------------


def test_a_command_that_writes_creates_the_database_and_key_0600(env: Path, capsys) -> None:
    previous = os.umask(0o022)
    try:
        assert main(["accounts", "add", *CREATOR]) == 0
    finally:
        os.umask(previous)
    assert mode_of(env) == 0o600
    assert mode_of(env.with_name("engagement.db.key")) == 0o600


def test_the_wal_and_shm_files_are_as_private_as_the_database(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        store = Store.open(tmp_path / "engagement.db", cipher=TokenCipher.generate())
        try:
            store.connect_links.create(
                team_id="T1", channel_id="C1", user_id="U1", response_url=None, now=SIM_START
            )
            files = sorted(p.name for p in tmp_path.iterdir())
            # The .lock is held shared while the store is open: `restore` waits for it.
            assert files == [
                "engagement.db",
                "engagement.db-shm",
                "engagement.db-wal",
                "engagement.db.lock",
            ]
            assert {name: mode_of(tmp_path / name) for name in files} == dict.fromkeys(files, 0o600)
        finally:
            store.close()
    finally:
        os.umask(previous)


def test_run_checks_its_whole_configuration_before_creating_any_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "ENGAGEMENT_DB", "ENGAGEMENT_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)
    assert main(["run"]) == 1
    assert "no X credentials" in one_line_failure(capsys)
    assert list(tmp_path.iterdir()) == []


# -- a database that cannot be used ----------------------------------------------------------------


@pytest.mark.parametrize("command", [["accounts", "list"], ["query", "totals", "1"], ["run"]])
def test_a_garbage_file_as_database_is_one_line_not_a_traceback(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys, command: list[str]
) -> None:
    for name, value in SLACK.items():
        monkeypatch.setenv(name, value)
    env.write_bytes(b"these are not the droids you are looking for\n" * 200)
    assert main(command) == 1
    line = one_line_failure(capsys)
    assert f"{env} is not a SQLite database (or is corrupt)" in line
    assert not env.with_name("engagement.db.key").exists()


@pytest.mark.parametrize("command", [["accounts", "remove", "@sim_creator"], ["accounts", "list"]])
def test_a_read_only_database_is_one_line_not_a_traceback(
    linked: Path, capsys, command: list[str]
) -> None:
    with read_only(linked.parent):
        assert main(command) == 1
        assert f"{linked} is read-only" in one_line_failure(capsys)
    assert main(["accounts", "list"]) == 0
    assert "@sim_creator" in capsys.readouterr().out  # nothing was lost


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """The folder and its files unwritable, as on a read-only mount. Modes stop anyone but
    root; root is stopped by the immutable attribute (chattr +i), where the file system has it."""
    files = [folder, *folder.iterdir()]
    if os.geteuid() != 0:
        for path in files:
            path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            for path in files:
                path.chmod(0o755 if path.is_dir() else 0o600)
        return
    if subprocess.run(["chattr", "+i", *map(str, files)], check=False).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: nothing is read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, files)], check=True)


def test_a_database_locked_by_another_process_is_one_line(linked: Path, capsys) -> None:
    other = sqlite3.connect(linked)
    other.execute("BEGIN EXCLUSIVE")
    try:
        # Waits out the store's busy timeout (10 s) on the real lock, then gives up.
        assert main(["accounts", "remove", "@sim_creator"]) == 1
        assert "the database is locked by another process" in one_line_failure(capsys)
    finally:
        other.rollback()
        other.close()
    assert main(["accounts", "list"]) == 0
    assert "@sim_creator" in capsys.readouterr().out  # nothing was lost


def fill_up(store: Store) -> None:
    """Cap the file at its size (SQLite's max_page_count: a real SQLITE_FULL) and write until
    the store says it is full, as a full disk would."""
    pages = store.database.execute("PRAGMA page_count").fetchone()[0]
    store.database.execute(f"PRAGMA max_page_count = {pages}")
    for padding in (500, 0):  # big rows, then small ones into what is left
        with pytest.raises(DatabaseFull, match="the disk is full"):
            _links_until_it_fails(store, padding)


def _links_until_it_fails(store: Store, padding: int) -> None:
    for n in range(2000):
        store.connect_links.create(
            team_id="T1",
            channel_id="C1",
            user_id=f"U{n}",
            response_url="h" + "x" * padding,
            now=SIM_START + timedelta(seconds=n),
        )


def test_the_store_says_full_when_sqlite_is(tmp_path: Path) -> None:
    with Store.open(tmp_path / "engagement.db", cipher=TokenCipher.generate()) as store:
        fill_up(store)


# -- in Slack ------------------------------------------------------------------------------------


@pytest.fixture
def slack_bot(
    sim: RunningSimulator, fake: FakeSlack, tmp_path: Path
) -> Iterator[tuple[Any, Store]]:
    """The real Bolt app and commands on a SQLite file whose busy timeout is short."""
    store = Store.open(tmp_path / "engagement.db", cipher=TokenCipher.generate(), busy_timeout=0.2)
    settings = settings_for(fake)
    with x_client(sim) as x:
        clock = FakeClock()
        service = build_service(x, store, sleep=clock.sleep, monotonic=clock.monotonic)
        deps = Deps(service, store, settings, x_oauth=x)
        yield build_app(settings, deps, clock=sim.state.now, process_before_response=True), store
    store.close()


def test_in_slack_a_locked_database_says_so_and_loses_nothing(slack_bot, fake) -> None:
    app, store = slack_bot
    other = sqlite3.connect(store.database.conn.execute("PRAGMA database_list").fetchone()[2])
    other.execute("BEGIN EXCLUSIVE")
    try:
        slash(app, "track 1796874333705080832", response_url=fake.response_url())
    finally:
        other.rollback()
        other.close()
    text = fake.responses()[-1]["text"]
    assert (
        "The bot's database is locked right now — nothing was lost; try again in a minute" in text
    )
    assert "Something went wrong" not in text
    slash(app, "track 1796874333705080832", response_url=fake.response_url())  # a minute later
    assert store.channels.tracked("T0FAKE", "C0GENERAL", "post") == ["1796874333705080832"]


def test_in_slack_a_full_database_says_so(slack_bot, fake) -> None:
    app, store = slack_bot
    fill_up(store)
    slash(app, "connect", response_url=fake.response_url())
    text = fake.responses()[-1]["text"]
    assert "The bot's database is full right now — nothing was lost; try again in a minute" in text
