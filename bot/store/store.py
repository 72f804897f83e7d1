"""Store: the engagement bot's one SQLite file, and the one way into it.

The Store opens the file, holds its lock, its transactions and its cipher; everything else is
a repository among its attributes (`store.accounts`, `store.posts`, `store.series`,
`store.usage`, `store.sealed`, `store.channels`, `store.digests` (with `weekly_digests`,
`monthly_digests` and `digest_schedules`), `store.alert_log`, `store.connect_links`,
`store.slack_installations`, `store.forgetting`, `store.campaigns`, `store.housekeeping`), each
with intention-named methods.

Every write method runs in a transaction, and `transaction()` groups several, of any
repositories, into one: a crash or an exception part-way leaves the rows as they were before it
began. One connection serves every thread; a re-entrant lock makes each method (and each whole
transaction) exclusive, so one thread's half-done transaction is never seen or joined by
another.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.copy import maintenance
from bot.errors import DatabaseTooNew, StoreError
from bot.store.accounts import Accounts
from bot.store.cipher import TokenCipher
from bot.store.failures import classified
from bot.store.holders import hold_shared, release
from bot.store.posts import Posts
from bot.store.schema import MIGRATIONS
from bot.store.sealed import Sealed
from bot.store.series import Series
from bot.store.sql import Db, Tracer
from bot.store.usage import CallLog

if TYPE_CHECKING:
    from sqlite_utils import Database

    from bot.store.alert_log import AlertLog
    from bot.store.campaigns import Campaigns
    from bot.store.channels import Channels
    from bot.store.connect_links import ConnectLinks
    from bot.store.digest_schedules import DigestSchedules
    from bot.store.digests import Digests
    from bot.store.forgetting import Forgetting
    from bot.store.housekeeping import Housekeeping
    from bot.store.slack_installations import SlackInstallationRows

MEMORY = ":memory:"
BUSY_TIMEOUT_SECONDS = 10.0  # how long to wait for another process's write (the CLI's, say)
_PRIVATE_MODE = 0o600


class Store:
    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        cipher: TokenCipher,
        tracer: Tracer | None,
        name: str,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
        hold: int | None = None,
    ):
        self._hold = hold  # the shared lock that keeps `restore` away (bot/store/holders.py)
        self._db = Db(conn, tracer, name=name, busy_seconds=busy_timeout)
        self._cipher = cipher
        self._name = name
        self._lock = threading.RLock()
        self._depth = 0
        self.accounts = Accounts(self._db, self._lock, self.transaction, cipher)
        self.posts = Posts(self._db, self._lock, self.transaction)
        self.series = Series(self._db, self._lock, self.transaction)
        self.usage = CallLog(self._db, self._lock, self.transaction)
        self.sealed = Sealed(self._db, self._lock, self.transaction, cipher)

    # The repositories of Slack's side are made (and their modules imported) on first use: a
    # one-shot command such as `query` never touches them.

    @functools.cached_property
    def channels(self) -> Channels:
        from bot.store.channels import Channels

        return Channels(self._db, self._lock, self.transaction)

    @functools.cached_property
    def digests(self) -> Digests:
        from bot.store.digests import Digests

        return Digests(self._db, self._lock, self.transaction)

    @functools.cached_property
    def digest_schedules(self) -> DigestSchedules:
        from bot.store.digest_schedules import DigestSchedules

        return DigestSchedules(self._db, self._lock, self.transaction)

    @functools.cached_property
    def weekly_digests(self) -> Digests:
        from bot.store.digests import Digests

        return Digests(self._db, self._lock, self.transaction, table="weekly_digests")

    @functools.cached_property
    def monthly_digests(self) -> Digests:
        from bot.store.digests import Digests

        return Digests(self._db, self._lock, self.transaction, table="monthly_digests")

    @functools.cached_property
    def alert_log(self) -> AlertLog:
        from bot.store.alert_log import AlertLog

        return AlertLog(self._db, self._lock, self.transaction)

    @functools.cached_property
    def connect_links(self) -> ConnectLinks:
        from bot.store.connect_links import ConnectLinks

        return ConnectLinks(self._db, self._lock, self.transaction, self._cipher)

    @functools.cached_property
    def slack_installations(self) -> SlackInstallationRows:
        from bot.store.slack_installations import SlackInstallationRows

        return SlackInstallationRows(self._db, self._lock, self.transaction)

    @functools.cached_property
    def campaigns(self) -> Campaigns:
        from bot.store.campaigns import Campaigns

        return Campaigns(self._db, self._lock, self.transaction)

    @functools.cached_property
    def housekeeping(self) -> Housekeeping:
        from bot.store.housekeeping import Housekeeping

        return Housekeeping(self._db, self._lock, self.transaction)

    @functools.cached_property
    def forgetting(self) -> Forgetting:
        from bot.store.forgetting import Forgetting

        return Forgetting(self._db, self._lock, self.transaction)

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        cipher: TokenCipher,
        tracer: Tracer | None = None,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ) -> Store:
        """Open (creating if need be, private to its owner) the database at `path`, or
        ":memory:", and migrate it. StoreError says why a file can't be used."""
        name = str(path)
        with classified(name, busy_seconds=busy_timeout):
            hold = None
            if name != MEMORY:
                _create_private(Path(name))
                hold = hold_shared(Path(name))  # `restore` waits for every holder to close
            try:
                # One connection shared by threads under our lock; sqlite3's check would refuse.
                conn = sqlite3.connect(name, timeout=busy_timeout, check_same_thread=False)
            except BaseException:
                release(hold)
                raise
            store = cls(
                conn, cipher=cipher, tracer=tracer, name=name, busy_timeout=busy_timeout, hold=hold
            )
            try:
                store._prepare(memory=name == MEMORY)
            except BaseException:
                store.close()
                raise
        return store

    def _prepare(self, *, memory: bool) -> None:
        if unknown := MIGRATIONS.unknown(self._db):  # before anything writes to the file
            raise DatabaseTooNew(maintenance.database_too_new(self._name, unknown))
        if not self._db.rows("SELECT 1 FROM sqlite_master LIMIT 1"):
            # Settable only before the first table: a new file gives the pages a prune frees
            # back to the disk (store.housekeeping); older files need one VACUUM.
            self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")
        # As sqlite-utils' Database(conn) sets it, which opened the store until the raw
        # connection took over.
        self._db.execute("PRAGMA recursive_triggers=on;")
        if not memory:
            self._db.enable_wal()  # readers in other processes keep reading while we write
        self._db.execute("PRAGMA foreign_keys = ON")
        MIGRATIONS.migrate(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()
            release(self._hold)
            self._hold = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._name!r})"

    @property
    def database(self) -> Database:
        """The sqlite-utils Database (made on first use), for tests and one-off inspection; the
        bot goes through the repositories."""
        return self._db.database

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing. Nested blocks are savepoints: an inner failure that the caller
        catches undoes only the inner block."""
        # `classified`: BEGIN and COMMIT fail with the same StoreErrors as the statements.
        with self._lock, classified(self._name, busy_seconds=self._db.busy_seconds):
            begin, commit, undo = _transaction_sql(self._depth)
            self._db.execute(begin)
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                self._undo(undo)
                raise
            self._depth -= 1
            try:
                self._db.execute(commit)
            except BaseException:
                self._undo(undo)
                raise

    def unready(self) -> str | None:
        """None when the database answers a read (GET /readyz); else why not, in one line. A
        busy writer makes it wait at most the busy timeout."""
        try:
            with self._lock:
                self._db.rows("SELECT count(*) FROM sqlite_master")
        except (StoreError, sqlite3.Error) as error:
            return maintenance.database_not_ready(str(error))
        return None

    @property
    def cipher(self) -> TokenCipher:
        """The key everything sealed in this file is sealed with (Slack installations too)."""
        return self._cipher

    def _undo(self, statements: tuple[str, ...]) -> None:
        # An error such as SQLITE_FULL may already have rolled the transaction back.
        if self._db.conn.in_transaction:
            for statement in statements:
                self._db.execute(statement)


def _create_private(path: Path) -> None:
    """Create the database file 0600 if it doesn't exist: it holds connect links and
    response_urls, and SQLite gives its -wal and -shm files the database file's mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
    except FileExistsError:
        return
    except OSError:
        return  # a read-only or missing directory: sqlite3's own error says it, classified
    try:
        os.fchmod(fd, _PRIVATE_MODE)  # the umask may only take bits away, but be exact
    finally:
        os.close(fd)


def _transaction_sql(depth: int) -> tuple[str, str, tuple[str, ...]]:
    """Begin, commit and undo statements for a transaction at nesting `depth`."""
    if depth == 0:
        # IMMEDIATE takes the write lock at once, so a concurrent writer in another process
        # makes us wait (busy timeout) rather than fail half-way through.
        return "BEGIN IMMEDIATE", "COMMIT", ("ROLLBACK",)
    point = f"store_{depth}"
    return f"SAVEPOINT {point}", f"RELEASE {point}", (f"ROLLBACK TO {point}", f"RELEASE {point}")
