"""sqlite3's errors as the project's StoreError family: the one place they are classified.

The store raises these from opening the file, from every statement and from every transaction,
so the CLI prints one line and Slack answers "locked / full, nothing was lost" instead of a
traceback or a bare "something went wrong". An error that is not about the file (a bug: bad
SQL, a closed connection) is left as it is.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.copy import operator
from bot.errors import (
    DatabaseCorrupt,
    DatabaseFull,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseUnavailable,
    StoreError,
)

# SQLite's primary result codes (https://sqlite.org/rescode.html).
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT = 3, 5, 6, 8, 10, 11
_FULL, _CANTOPEN, _NOTADB = 13, 14, 26


def classify(error: sqlite3.Error, path: str, *, busy_seconds: float) -> StoreError | None:
    """The StoreError for `error` on the database at `path`; None if it isn't about the file."""
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    detail = str(error)
    if primary in (_CORRUPT, _NOTADB):
        return DatabaseCorrupt(operator.database_corrupt(path, detail))
    if primary in (_READONLY, _PERM) or (primary == _CANTOPEN and not _writable(path)):
        return DatabaseReadOnly(operator.database_read_only(path))
    if primary in (_BUSY, _LOCKED):
        return DatabaseLocked(operator.database_locked(path, busy_seconds))
    if primary == _FULL:
        return DatabaseFull(operator.database_full(path))
    if primary in (_CANTOPEN, _IOERR):
        return DatabaseUnavailable(operator.database_unavailable(path, detail))
    return None


def _writable(path: str) -> bool:
    """Whether the file (if it exists) and its directory may be written: SQLite reports a
    read-only folder as "unable to open" when it needs its -wal or -shm file there."""
    target = Path(path)
    folder = target.parent
    if target.exists() and not os.access(target, os.W_OK):
        return False
    return os.access(folder, os.W_OK)


@contextmanager
def classified(path: str, *, busy_seconds: float) -> Iterator[None]:
    """Re-raise sqlite3 errors about the file at `path` as StoreErrors."""
    try:
        yield
    except sqlite3.Error as error:
        mapped = classify(error, path, busy_seconds=busy_seconds)
        if mapped is None:
            raise
        raise mapped from error
