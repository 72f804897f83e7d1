"""How values are written in SQLite, and the one connection wrapper the store's modules share.

Instants are ISO-8601 UTC text of fixed width ("2026-11-26T12:30:00.000000Z") so that text order
is time order and range queries can compare strings; the daily table's days are numbers
(bot/store/days.py); counts are integers.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from bot.store.failures import classified

if TYPE_CHECKING:
    from sqlite_utils import Database

Tracer = Callable[[str, Any], None]
Params = Sequence[Any] | dict[str, Any]

_INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


Transaction = Callable[[], AbstractContextManager[None]]


# Statements that open or close a transaction themselves: never committed behind their back.
_TRANSACTION_CONTROL = frozenset({"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
_FIRST_WORD = re.compile(r"\s*(\w*)")


class Db:
    """The store's one sqlite3 connection, its statements routed through the tracer; sqlite3's
    errors about the file come out as StoreErrors (bot/store/failures.py).

    Statements run on the raw connection, as sqlite-utils' Database.execute would run them (a
    write outside a transaction is committed at once; a failed one leaves no transaction open):
    importing sqlite-utils costs a one-shot command more than its whole run (it imports numpy
    when installed, and its plugin machinery). `database`, the sqlite-utils Database on the same
    connection, is made on first use: for its table API and Migrations (bot/store/schema/)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        tracer: Tracer | None,
        *,
        name: str,
        busy_seconds: float,
    ) -> None:
        self.conn = conn
        self._tracer = tracer
        self.name = name
        self.busy_seconds = busy_seconds

    @functools.cached_property
    def database(self) -> Database:
        from sqlite_utils import Database

        return Database(self.conn, tracer=self._tracer)

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        with classified(self.name, busy_seconds=self.busy_seconds):
            return self._run(sql, params)

    def rows(self, sql: str, params: Params = ()) -> list[Any]:
        with classified(self.name, busy_seconds=self.busy_seconds):
            return self._run(sql, params).fetchall()

    def many(self, sql: str, params: Sequence[Params]) -> int:
        """Run `sql` once per parameter set; the number of rows it changed."""
        if not params:
            return 0
        if self._tracer is not None:
            self._tracer(sql, params)
        with classified(self.name, busy_seconds=self.busy_seconds):
            return self.conn.executemany(sql, params).rowcount

    def enable_wal(self) -> None:
        """Write-ahead logging, so readers in other processes keep reading while we write."""
        if self.execute("PRAGMA journal_mode;").fetchone()[0] != "wal":
            level = self.conn.isolation_level
            self.conn.isolation_level = None  # the journal mode changes outside a transaction
            try:
                self.execute("PRAGMA journal_mode=wal;")
            finally:
                self.conn.isolation_level = level

    def close(self) -> None:
        self.conn.close()

    def _run(self, sql: str, params: Params) -> sqlite3.Cursor:
        if self._tracer is not None:
            self._tracer(sql, params)
        was_in_transaction = self.conn.in_transaction
        try:
            cursor = self.conn.execute(sql, params)
        except Exception:
            if not was_in_transaction and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")  # else it would capture every later write
            raise
        if (
            not was_in_transaction
            and self.conn.in_transaction
            and cursor.description is None
            and _first_word(sql) not in _TRANSACTION_CONTROL
        ):
            self.conn.execute("COMMIT")  # an implicit transaction the statement opened
        return cursor


def _first_word(sql: str) -> str:
    match = _FIRST_WORD.match(sql)
    return match[1].upper() if match else ""


@functools.lru_cache(maxsize=4096)  # series repeat the same few dozen hours row after row
def instant(when: datetime) -> str:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{when!r} is naive; the store takes aware datetimes only")
    return when.astimezone(UTC).strftime(_INSTANT_FORMAT)


def parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def hour(bucket: datetime | date) -> str:
    if not isinstance(bucket, datetime):
        raise TypeError(f"an hourly bucket is a datetime, not {bucket!r}")
    if (bucket.minute, bucket.second, bucket.microsecond) != (0, 0, 0):
        raise ValueError(f"an hourly bucket starts on the hour, not at {bucket.isoformat()}")
    return instant(bucket)


def post_ids(ids: Iterable[str]) -> list[str]:
    """Distinct canonical Post IDs in first-seen order; ValueError names a malformed one."""
    if isinstance(ids, str):
        raise TypeError("pass an iterable of Post IDs, not one string")
    seen = list(dict.fromkeys(ids))
    if seen and not _all_canonical(seen):
        for post_id in seen:
            if not (post_id.isascii() and post_id.isdigit() and post_id == str(int(post_id))):
                raise ValueError(f"{post_id!r} is not a canonical Post ID (decimal digits)")
    return seen


def _all_canonical(ids: list[str]) -> bool:
    """Whether every one is ASCII digits without a leading zero, checked with a few string
    operations over them all (a leaderboard hands over 100,000 at a time) rather than a Python
    step per ID; False also for the ID "0", which the caller's exact check then accepts."""
    joined = "\n".join(ids)
    digits = joined.replace("\n", "")
    lines = f"\n{joined}\n"
    return (
        digits.isascii()
        and digits.isdigit()
        and len(digits) + len(ids) - 1 == len(joined)  # no ID holds a line break
        and "\n\n" not in lines  # none is empty
        and "\n0" not in lines  # none starts with 0
    )


def names(values: Iterable[str]) -> list[str]:
    if isinstance(values, str):
        raise TypeError("pass an iterable of names, not one string")
    return list(dict.fromkeys(values))


def json_list(values: Iterable[str]) -> str:
    """One parameter for `IN (SELECT value FROM json_each(?))`: no limit on the list's length."""
    return json.dumps(list(values))


def month_range(month: str) -> tuple[str, str]:
    """ "YYYY-MM" → the instants [first moment of the month, first moment of the next)."""
    match = _MONTH.fullmatch(month)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)")
    year, number = int(match[1]), int(match[2])
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return instant(start), instant(end)


class Repository:
    """One part of the store: its statements run on the store's connection, under the store's
    lock (reads) and transactions (writes: all or nothing, nested ones as savepoints)."""

    def __init__(self, db: Db, lock: threading.RLock, transaction: Transaction) -> None:
        self._db = db
        self._lock = lock
        self._transaction = transaction
