"""The schema's migrations, registered without importing sqlite-utils and applied by it only when
the file is behind.

Importing sqlite-utils costs more than a whole one-Post `engagement-bot query` (it imports numpy
when installed, and its plugin machinery), and nearly every open finds the file up to date: one
raw query on `_sqlite_migrations` says so. Only a file that is behind is migrated by sqlite-utils'
own Migrations, in its own table, so the record is the one sqlite-utils (and its CLI) reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from bot.store.sql import Db

if TYPE_CHECKING:
    import sqlite_utils

Step = Callable[["sqlite_utils.Database"], None]
StepT = TypeVar("StepT", bound=Step)

TABLE = "_sqlite_migrations"  # sqlite-utils' Migrations.migrations_table


class Migrations:
    """A named, ordered set of migration functions, as sqlite_utils.Migrations registers them
    (`@MIGRATIONS()` on a function; its name is the migration's name), without the import.
    A name registered twice is refused by sqlite-utils when it loads them (`loaded()`: every
    open of a new file, and the store's tests)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._steps: list[tuple[str, Step, bool]] = []

    def __call__(
        self, *, name: str | None = None, transactional: bool = True
    ) -> Callable[[StepT], StepT]:
        def register(step: StepT) -> StepT:
            self._steps.append((name or step.__name__, step, transactional))
            return step

        return register

    @property
    def names(self) -> list[str]:
        return [step_name for step_name, _, _ in self._steps]

    def behind(self, db: Db) -> bool:
        """Whether the file lacks any of these migrations: one or two reads, no sqlite-utils."""
        exists = db.rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,))
        if not exists:
            return bool(self._steps)
        applied = db.rows(f"SELECT name FROM {TABLE} WHERE migration_set = ?", (self.name,))
        return not set(self.names) <= {name for (name,) in applied}

    def unknown(self, db: Db) -> list[str]:
        """The migrations the file has applied that these do not include, in the order they
        were applied: a newer release upgraded it (one read, no sqlite-utils)."""
        exists = db.rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,))
        if not exists:
            return []
        applied = db.rows(
            f"SELECT name FROM {TABLE} WHERE migration_set = ? ORDER BY rowid", (self.name,)
        )
        known = set(self.names)
        return [name for (name,) in applied if name not in known]

    def migrate(self, db: Db) -> None:
        """Apply what is missing (with sqlite-utils), or nothing after one read if nothing is."""
        if self.behind(db):
            self.apply(db.database)

    def apply(
        self, database: sqlite_utils.Database, *, stop_before: str | Iterable[str] | None = None
    ) -> None:
        self.loaded().apply(database, stop_before=stop_before)

    def pending(self, database: sqlite_utils.Database) -> list[sqlite_utils.Migrations._Migration]:
        return self.loaded().pending(database)

    def loaded(self) -> sqlite_utils.Migrations:
        """sqlite-utils' own Migrations with these steps, in order."""
        import sqlite_utils

        real = sqlite_utils.Migrations(self.name)
        for step_name, step, transactional in self._steps:
            real(name=step_name, transactional=transactional)(step)
        return real
