"""The schema's one set of migrations (sqlite-utils applies them by name, in the order they
are registered: the release modules are imported in release order by the package)."""

from __future__ import annotations

from bot.store.migrations import Migrations

MIGRATIONS = Migrations("engagement-bot")

# An integer column that refuses anything else (SQLite would store "12" or 1.5 as given).
COUNT = "INTEGER NOT NULL CHECK (typeof({0}) = 'integer')"
