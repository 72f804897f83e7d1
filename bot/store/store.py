"""Store: the engagement bot's one SQLite file, behind intention-named methods.

Every write method runs in a transaction, and `transaction()` groups several into one: a crash
or an exception part-way leaves the rows as they were before it began. One connection serves
every thread; a re-entrant lock makes each method (and each whole transaction) exclusive, so
one thread's half-done transaction is never seen or joined by another.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from sqlite_utils import Database

from bot.engagement.models import UserAuth
from bot.engagement.query import PostInfo
from bot.errors import SecretKeyError
from bot.secrets import TokenCipher
from bot.store import accounts, posts, sealed, series
from bot.store import usage as usage_log
from bot.store.alert_log import AlertLog
from bot.store.channels import Channels
from bot.store.connect_links import ConnectLinks
from bot.store.digests import Digests
from bot.store.failures import classified
from bot.store.rows import Account, PostRecord, PostState, SeriesRow, TotalsRow, Usage
from bot.store.schema import MIGRATIONS
from bot.store.slack_installations import SlackInstallationRows
from bot.store.sql import Db, Tracer
from bot.store.sql import post_ids as checked_post_ids

MEMORY = ":memory:"
BUSY_TIMEOUT_SECONDS = 10.0  # how long to wait for another process's write (the CLI's, say)
_PRIVATE_MODE = 0o600


class Store:
    def __init__(
        self,
        db: Database,
        *,
        cipher: TokenCipher,
        tracer: Tracer | None,
        name: str,
        busy_timeout: float = BUSY_TIMEOUT_SECONDS,
    ):
        self._db = Db(db, tracer, name=name, busy_seconds=busy_timeout)
        self._cipher = cipher
        self._name = name
        self._lock = threading.RLock()
        self._depth = 0
        self.channels = Channels(self._db, self._lock, self.transaction)
        self.digests = Digests(self._db, self._lock, self.transaction)
        self.alert_log = AlertLog(self._db, self._lock, self.transaction)
        self.connect_links = ConnectLinks(self._db, self._lock, self.transaction, cipher)
        self.slack_installations = SlackInstallationRows(self._db, self._lock, self.transaction)

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
            if name != MEMORY:
                _create_private(Path(name))
            # One connection shared by threads under our lock; sqlite3's own check would refuse.
            conn = sqlite3.connect(name, timeout=busy_timeout, check_same_thread=False)
            db = Database(conn, tracer=tracer)
            try:
                if name != MEMORY:
                    db.enable_wal()  # readers in other processes keep reading while we write
                db.execute("PRAGMA foreign_keys = ON")
                MIGRATIONS.apply(db)
            except BaseException:
                db.close()
                raise
        return cls(db, cipher=cipher, tracer=tracer, name=name, busy_timeout=busy_timeout)

    def close(self) -> None:
        with self._lock:
            self._db.database.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._name!r})"

    @property
    def database(self) -> Database:
        """The sqlite-utils Database, for tests and one-off inspection; writes go via methods."""
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

    @property
    def cipher(self) -> TokenCipher:
        """The key everything sealed in this file is sealed with (Slack installations too)."""
        return self._cipher

    def _undo(self, statements: tuple[str, ...]) -> None:
        # An error such as SQLITE_FULL may already have rolled the transaction back.
        if self._db.database.conn.in_transaction:
            for statement in statements:
                self._db.execute(statement)

    # --- accounts ------------------------------------------------------------------------------

    def save_account(
        self,
        *,
        user_id: str,
        screen_name: str,
        auth: UserAuth,
        workspace: str | None,
        now: datetime,
    ) -> None:
        """Add or replace a connected account and its (encrypted) tokens."""
        with self.transaction():
            accounts.save(
                self._db,
                self._cipher,
                user_id=user_id,
                screen_name=screen_name,
                auth=auth,
                workspace=workspace,
                now=now,
            )

    def accounts(self, workspace: str | None = None) -> list[Account]:
        """All accounts (None), or a workspace's plus those linked with no workspace."""
        with self._lock:
            return accounts.listed(self._db, workspace)

    def account_auth(self, user_id: str) -> UserAuth | None:
        """The decrypted tokens; SecretKeyError when the key does not match them."""
        with self._lock:
            return accounts.auth(self._db, self._cipher, user_id)

    def find_account(self, user_id_or_handle: str, workspace: str | None = None) -> Account | None:
        """By user ID, or by handle with or without "@", case-insensitive; with a workspace,
        only an account serving it."""
        with self._lock:
            return accounts.find(self._db, user_id_or_handle, workspace)

    def exclude_account(self, user_id: str, workspace: str, *, now: datetime) -> None:
        """An account linked for every workspace stops serving `workspace`; its tokens stay
        for the others (connecting it again from that workspace undoes this)."""
        with self.transaction():
            accounts.exclude(self._db, user_id, workspace, now)

    def account_exclusions(self) -> dict[str, tuple[str, ...]]:
        """user ID → the workspaces that disconnected an account linked for every workspace."""
        with self._lock:
            return accounts.exclusions(self._db)

    def remove_account(self, user_id: str) -> bool:
        """Forget the account and delete its tokens; False if it was not connected."""
        with self.transaction():
            return accounts.remove(self._db, user_id)

    def connected_user_ids(self, workspace: str | None = None) -> frozenset[str]:
        """Who counts as an owner: every connected account, or those one workspace may use
        (its own and the ones linked for every workspace)."""
        with self._lock:
            return accounts.connected_ids(self._db, workspace)

    def sealed_counts(self) -> dict[str, int]:
        """What the file holds sealed with a key: noun → how many (X tokens, Slack
        installations, connect links' secrets)."""
        with self._lock:
            return sealed.counts(self._db)

    def unopenable(self) -> dict[str, int]:
        """The sealed values this store's key cannot open: noun → how many (empty: all open)."""
        with self._lock:
            return sealed.unopenable(self._db, self._cipher)

    def verify_key(self) -> None:
        """Raise SecretKeyError, naming the accounts, unless the key opens every stored token."""
        with self._lock:
            failed = accounts.undecryptable(self._db, self._cipher)
        if failed:
            raise SecretKeyError(
                f"the secret key does not match the stored X tokens of account(s) "
                f"{', '.join(failed)}: restore the old key (listed after the new one) or "
                f"disconnect and reconnect them"
            )

    def rotate_tokens(self, *, now: datetime | None = None) -> int:
        """Re-encrypt every account token under the cipher's first key; how many were
        rewritten. With `now`, also the request secrets of connect links still open (and
        those of expired links are dropped)."""
        with self.transaction():
            if now is not None:
                self.connect_links.rotate(self._cipher, now=now)
            return accounts.rotate(self._db, self._cipher)

    # --- Posts ---------------------------------------------------------------------------------

    def post_infos(self, post_ids: Iterable[str]) -> dict[str, PostInfo]:
        """Every ID: its author (None if unknown, or if X refused that author's token for it)
        and its creation time (stored, else from the snowflake)."""
        with self._lock:
            return posts.infos(self._db, post_ids)

    def author_handles(self, post_ids: Iterable[str]) -> dict[str, str]:
        """Post ID → its author's handle (without "@"), for those whose handle we know."""
        with self._lock:
            return posts.author_handles(self._db, post_ids)

    def unknown_authors(self, post_ids: Iterable[str]) -> list[str]:
        """IDs, in the order given, whose author we never learned and that aren't deleted."""
        with self._lock:
            return posts.unknown_authors(self._db, post_ids)

    def save_posts(self, records: Iterable[PostRecord]) -> None:
        """Upsert; a None field keeps what is stored. Also remembers authors' usernames."""
        with self.transaction():
            posts.save(self._db, records)

    def mark_posts(self, post_ids: Iterable[str], *, state: str, now: datetime) -> None:
        """State "deleted" | "protected" | "ok" (ValueError for anything else)."""
        with self.transaction():
            posts.mark(self._db, post_ids, state, now)

    def post_states(self, post_ids: Iterable[str]) -> dict[str, PostState]:
        with self._lock:
            return posts.states(self._db, post_ids)

    def mark_not_owned_by(self, post_ids: Iterable[str], owner_id: str) -> None:
        """A 403 said these aren't `owner_id`'s: forget that authorship and remember the
        refusal, so post_infos never offers that owner for them again."""
        with self.transaction():
            posts.mark_not_owned_by(self._db, post_ids, owner_id)

    def refused_owners(self, post_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        with self._lock:
            return posts.refused_owners(self._db, post_ids)

    # --- measurements --------------------------------------------------------------------------

    def save_totals(self, rows: Iterable[TotalsRow], *, taken_at: datetime) -> int:
        """One snapshot per (Post, metric, taken_at); rows new or changed. Also marks the
        Posts refreshed ("total") at `taken_at`."""
        with self.transaction():
            return series.save_totals(self._db, rows, taken_at)

    def save_hourly(self, rows: Iterable[SeriesRow], *, fetched_at: datetime | None = None) -> int:
        """Idempotent upsert; rows new or changed. `fetched_at` marks the Posts refreshed."""
        with self.transaction():
            return series.save_hourly(self._db, rows, fetched_at)

    def save_daily(self, rows: Iterable[SeriesRow], *, fetched_at: datetime | None = None) -> int:
        """Idempotent upsert; rows new or changed. `fetched_at` marks the Posts refreshed."""
        with self.transaction():
            return series.save_daily(self._db, rows, fetched_at)

    def mark_refreshed(self, post_ids: Iterable[str], granularity: str, *, at: datetime) -> None:
        """Record a fetch that wrote no rows (granularity "total" | "hour" | "day")."""
        with self.transaction():
            ids = checked_post_ids(post_ids)
            posts.ensure(self._db, ids)
            series.note_refreshed(self._db, ids, granularity, at)

    def last_refreshed(self, post_ids: Iterable[str], granularity: str) -> dict[str, datetime]:
        """Posts fetched at that granularity, and when last; absent = never."""
        with self._lock:
            return series.last_refreshed(self._db, post_ids, granularity)

    def latest_totals(
        self, post_ids: Iterable[str], metrics: Iterable[str]
    ) -> dict[str, dict[str, tuple[int, datetime]]]:
        """post → metric → (value, taken_at) of the newest snapshot; absent = none stored."""
        with self._lock:
            return series.latest_totals(self._db, post_ids, metrics)

    def totals_before(
        self, post_id: str, metric: str, when: datetime
    ) -> tuple[int, datetime] | None:
        """The newest snapshot taken at or before `when`, for deltas."""
        with self._lock:
            return series.totals_before(self._db, post_id, metric, when)

    def hourly(
        self, post_ids: Iterable[str], metrics: Iterable[str], start: datetime, end: datetime
    ) -> dict[str, dict[str, dict[datetime, int]]]:
        """Stored hour buckets in [start, end); absent = not stored."""
        with self._lock:
            return series.read_hourly(self._db, post_ids, metrics, start, end)

    def note_hourly_spans(
        self, keys: Iterable[tuple[str, str]], *, start: datetime, end: datetime
    ) -> None:
        """The hour buckets in [start, end) of these (Post, metric)s are stored and settled."""
        with self.transaction():
            series.note_hourly_spans(self._db, keys, start, end)

    def hourly_spans(
        self, post_ids: Iterable[str], metrics: Iterable[str]
    ) -> dict[str, dict[str, tuple[datetime, datetime]]]:
        """post → metric → [start, end) of the settled hours stored (Posts in state ok)."""
        with self._lock:
            return series.hourly_spans(self._db, post_ids, metrics)

    def daily(
        self, post_ids: Iterable[str], metrics: Iterable[str], start: date, end: date
    ) -> dict[str, dict[str, dict[date, int]]]:
        """Stored days in [start, end); absent = not stored."""
        with self._lock:
            return series.read_daily(self._db, post_ids, metrics, start, end)

    def leaderboard(
        self,
        metric: str,
        *,
        since: date,
        until: date,
        post_ids: Iterable[str] | None = None,
        limit: int = 10,
    ) -> list[tuple[str, int]]:
        """The sum of daily rows per Post over [since, until), highest first, ties by Post ID;
        only Posts with a row in the range. `post_ids` None: every Post."""
        with self._lock:
            return series.leaderboard(self._db, metric, since, until, post_ids, limit)

    # --- API call log --------------------------------------------------------------------------

    def log_call(
        self,
        *,
        at: datetime,
        endpoint: str,
        owner_id: str | None,
        post_count: int,
        status: int,
        attempts: int = 1,
        workspace: str | None = None,
    ) -> None:
        """One API call; `owner_id` None for app-only auth, `status` 0 when nothing came back,
        `workspace` the Slack team it was made for (None: the operator's, or no one's)."""
        with self.transaction():
            usage_log.log_call(
                self._db,
                at=at,
                endpoint=endpoint,
                owner_id=owner_id,
                post_count=post_count,
                status=status,
                attempts=attempts,
                workspace=workspace,
            )

    def usage(self, month: str, workspace: str | None = None) -> Usage:
        """Calls per endpoint in a UTC month ("YYYY-MM"), and the owners billed for it: every
        call (None), or the calls made for one workspace."""
        with self._lock:
            return usage_log.usage(self._db, month, workspace)


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
