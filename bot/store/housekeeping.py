"""`store.housekeeping`: what the file holds (rows, bytes, oldest row per table), pruning by
the retention policy (bot/store/retention.py), and giving freed pages back to the disk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.config import RetentionSettings
from bot.store.retention import POSTS_PER_SLICE, PruneCounts, prune
from bot.store.sql import Db, Repository

# Per table the column its age is read from (None: the table has none worth showing).
AGED: dict[str, str | None] = {
    "posts": "created_at",
    "totals": "taken_at",
    "totals_seen": "since",
    "hourly": "hour",
    "hourly_spans": "span_start",
    "daily": "date(day * 86400, 'unixepoch')",  # days since 1970 (bot/store/days.py)
    "refreshes": "refreshed_at",
    "api_calls": "at",
    "api_calls_monthly": "month",
    "alert_firings": "fired_at",
    "digests": "claimed_at",
}
AUTO_VACUUM = {0: "none", 1: "full", 2: "incremental"}
# Give pages back after a prune when at least this share of the file is free: a store in its
# steady state reuses what a prune frees, and handing it back only to grow again costs writes.
FREE_SHARE_TO_RECLAIM = 0.25
PAGES_PER_STEP = 1_000


@dataclass(frozen=True)
class TableStats:
    name: str
    rows: int
    bytes: int  # its pages and its indexes' pages
    oldest: str | None  # the smallest value of its AGED column


@dataclass(frozen=True)
class StoreStats:
    tables: tuple[TableStats, ...]
    page_size: int
    pages: int
    free_pages: int
    auto_vacuum: str

    @property
    def bytes(self) -> int:
        return self.page_size * self.pages


def stats(db: Db) -> StoreStats:
    names = [
        row[0]
        for row in db.rows(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE '\\_%' ESCAPE '\\' ORDER BY name"
        )
    ]
    sizes = dict(
        db.rows(
            """SELECT s.tbl_name, SUM(d.pgsize) FROM dbstat AS d
            JOIN sqlite_schema AS s ON s.name = d.name GROUP BY s.tbl_name"""
        )
    )
    tables = []
    for name in names:
        column = AGED.get(name)
        select = f"COUNT(*), MIN({column})" if column else "COUNT(*), NULL"
        count, oldest = db.rows(f"SELECT {select} FROM {name}")[0]
        tables.append(TableStats(name, count, int(sizes.get(name) or 0), oldest))

    def pragma(name: str) -> int:
        return int(db.rows(f"PRAGMA {name}")[0][0])

    return StoreStats(
        tuple(tables),
        pragma("page_size"),
        pragma("page_count"),
        pragma("freelist_count"),
        AUTO_VACUUM.get(pragma("auto_vacuum"), "unknown"),
    )


class Housekeeping(Repository):
    """Store size and retention: `store.housekeeping`."""

    def stats(self) -> StoreStats:
        """Rows, bytes and the oldest row of each table, and the file's pages."""
        with self._lock:
            return stats(self._db)

    def prune(
        self,
        *,
        now: datetime,
        policy: RetentionSettings,
        dry_run: bool = False,
        slice_posts: int = POSTS_PER_SLICE,
    ) -> PruneCounts:
        """Apply the retention policy, a slice of Posts or a month of calls per transaction
        (a dry run rolls each back); then, if a quarter of the file is free and the file
        allows it, give the free pages back."""
        counts = prune(
            self._db,
            self._transaction,
            now=now,
            policy=policy,
            dry_run=dry_run,
            slice_posts=slice_posts,
        )
        if not dry_run:
            self.reclaim()
        return counts

    def reclaim(self) -> int:
        """Give free pages back to the disk when at least a quarter of the file is free and
        the file allows it (auto_vacuum incremental); how many pages. A thousand pages per
        transaction, so that nothing waits long for the store."""
        with self._lock:
            free = reclaimable(self._db)
        given = 0
        while given < free:
            step = min(PAGES_PER_STEP, free - given)
            with self._transaction():
                for _ in range(step):
                    # sqlite3 runs a statement that returns no row one step at a time, and
                    # incremental_vacuum moves one page per step: one page per execute.
                    self._db.execute("PRAGMA incremental_vacuum")
            given += step
        return given

    def vacuum(self) -> None:
        """Rewrite the file compactly, set to give freed pages back from now on (a one-off for
        files made before the store set this itself; it needs the file to itself a moment)."""
        with self._lock:
            self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self._db.execute("VACUUM")


def reclaimable(db: Db) -> int:
    """Free pages worth giving back: all of them when the file allows it (incremental
    auto_vacuum) and they are at least FREE_SHARE_TO_RECLAIM of it; else none."""
    free = int(db.rows("PRAGMA freelist_count")[0][0])
    pages = int(db.rows("PRAGMA page_count")[0][0])
    if int(db.rows("PRAGMA auto_vacuum")[0][0]) != 2 or free < pages * FREE_SHARE_TO_RECLAIM:
        return 0
    return free
