"""The database schema, as Migrations (bot/store/migrations.py: sqlite-utils', registered without
importing it) applied in order on every open that finds the file behind.

A migration, once released, never changes: a new need gets a new function at the end. Each runs
in a transaction together with its record in `_sqlite_migrations`, so it applies exactly once.

Keys make every write an idempotent upsert: a Post is its ID; a snapshot is (Post, metric,
taken_at); a bucket is (Post, metric, hour or day). The measurement tables are WITHOUT ROWID,
so their primary key *is* the table, ordered by Post, then metric, then time: one B-tree seek
finds a Post's latest snapshot or the running total just before a day.
"""

from __future__ import annotations

# Each release module registers its steps on import: imported in release order, they are
# applied in that order.
from bot.store.schema import release_0_1, release_0_2  # noqa: F401
from bot.store.schema.steps import MIGRATIONS

__all__ = ["MIGRATIONS"]
