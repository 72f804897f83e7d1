"""Who holds the database: every open Store holds a shared lock on `<database>.lock` for as long
as it is open (the bot's `run`, a `query`, a digest), and `restore` takes it exclusively.

A restore under an open Store would pull the file from under it: the Store would go on writing
pages of the old database into the new one. flock locks are released by the kernel when the
process exits, so a crashed bot never leaves the database "in use".
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.copy import maintenance
from bot.errors import DatabaseInUse

LOCK_SUFFIX = ".lock"
_PRIVATE_MODE = 0o600


def lock_path_for(db_path: Path) -> Path:
    """`engagement.db` → `engagement.db.lock`, in the same directory."""
    return db_path.with_name(db_path.name + LOCK_SUFFIX)


def hold_shared(db_path: Path) -> int | None:
    """A shared hold on the database (a descriptor to pass to `release`); DatabaseInUse while a
    restore replaces it; None where no lock file can be made (a read-only folder: nothing can
    restore into it either)."""
    fd = _open(db_path)
    if fd is None:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseInUse(maintenance.database_being_restored(str(db_path))) from None
    return fd


def release(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor drops its flock


@contextmanager
def held_exclusively(db_path: Path) -> Iterator[None]:
    """The database to ourselves, or DatabaseInUse at once (another process has it open)."""
    fd = _open(db_path)
    if fd is None:
        raise DatabaseInUse(maintenance.database_in_use(str(db_path)))
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DatabaseInUse(maintenance.database_in_use(str(db_path))) from None
    try:
        yield
    finally:
        os.close(fd)


def _open(db_path: Path) -> int | None:
    try:
        return os.open(lock_path_for(db_path), os.O_RDWR | os.O_CREAT, _PRIVATE_MODE)
    except OSError:
        return None
