"""Copies of the database, made and put back with SQLite's online backup API.

Copying the file while the bot writes is a known way to lose data: the newest pages may still
be in the -wal file, and a copy taken between two writes is torn. The backup API copies pages
through SQLite itself, under its locks, so the copy is one consistent state of the database,
including what is still in the WAL. The key is never part of a copy (it lives in its own file or
in ENGAGEMENT_SECRET_KEY): a backup is only readable with the key it was sealed with.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.copy import maintenance, operator
from bot.errors import StoreError
from bot.store.failures import classified

_BUSY_SECONDS = 10.0  # how long a step waits for the bot's write to finish
# One step: the copy reads one snapshot under one read transaction, which in WAL mode never
# blocks the bot's writers. Several steps would restart from scratch after each write another
# connection makes, and a busy bot could keep a backup restarting for ever.
ALL_PAGES = -1
_PRIVATE_MODE = 0o600


@dataclass(frozen=True)
class Copied:
    """What a backup or restore copied: rows per table (the operator compares them)."""

    path: Path
    rows: dict[str, int]
    size: int


def back_up(db_path: Path, target: Path) -> Copied:
    """Copy the database at `db_path` to the new file `target` (made private to its owner),
    consistent while other connections write, then check the copy. StoreError says why not;
    an existing `target` is never overwritten."""
    if not db_path.is_file():
        raise StoreError(maintenance.backup_no_database(str(db_path)))
    _create_private(target)
    try:
        with (
            classified(str(db_path), busy_seconds=_BUSY_SECONDS),
            closing(_connect(db_path)) as source,
            closing(_connect(target)) as copy,
        ):
            source.backup(copy, pages=ALL_PAGES)
        return checked(target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def copy_into(source: Path, db_path: Path) -> None:
    """Replace the contents of the database at `db_path` with those of `source`, through the
    backup API: other connections see the old state or the new one, never a mix."""
    if not db_path.exists():
        _create_private(db_path)  # a restore onto a new machine: private from the start
    with (
        classified(str(db_path), busy_seconds=_BUSY_SECONDS),
        closing(_connect(source)) as src,
        closing(_connect(db_path)) as dst,
    ):
        src.backup(dst, pages=ALL_PAGES)


def checked(path: Path) -> Copied:
    """`path`'s rows per table after SQLite's integrity check passed; StoreError if it fails
    or the file is not a database."""
    with classified(str(path), busy_seconds=_BUSY_SECONDS), closing(_connect(path)) as conn:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            raise StoreError(maintenance.backup_damaged(str(path), "; ".join(problems[:3])))
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        rows = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    return Copied(path, rows, path.stat().st_size)


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=_BUSY_SECONDS)


def _create_private(path: Path) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
    except FileExistsError:
        raise StoreError(maintenance.backup_target_exists(str(path))) from None
    except OSError as error:
        raise StoreError(operator.database_unavailable(str(path), error.strerror or "")) from None
    os.close(fd)
