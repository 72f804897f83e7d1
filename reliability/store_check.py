"""What a run left in its SQLite file: integrity, and the measurements to compare across runs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

# The latest snapshot of each (Post, metric): taken_at is the bot's wall clock and differs
# between runs; the value must not.
QUERIES = {
    "posts": "SELECT post_id, author_id, created_at, state FROM posts",
    "totals": """SELECT post_id, metric, value FROM totals AS t
        WHERE taken_at = (SELECT MAX(taken_at) FROM totals
                          WHERE post_id = t.post_id AND metric = t.metric)""",
    "hourly": "SELECT post_id, metric, hour, value FROM hourly",
    "daily": "SELECT * FROM daily",  # a row per (Post, day): its metrics are columns
}

Snapshot = dict[str, set[tuple[object, ...]]]


def _open(db: Path) -> sqlite3.Connection:
    # read-write: after a SIGKILL, opening replays the WAL exactly as the restarted bot would
    return sqlite3.connect(db, timeout=10)


def integrity(db: Path) -> str:
    with closing(_open(db)) as conn:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows)


def snapshot(db: Path) -> Snapshot:
    with closing(_open(db)) as conn:
        return {name: set(conn.execute(sql).fetchall()) for name, sql in QUERIES.items()}


def sizes(snap: Snapshot) -> str:
    return ", ".join(f"{name} {len(rows)}" for name, rows in snap.items() if name != "posts")


def differences(
    expected: Snapshot,
    got: Snapshot,
    *,
    only: set[str] | None = None,
    skip: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    """One line per table that differs: rows missing from `got` and rows it has extra; only
    the rows of the Posts in `only` (when given) and not in `skip` (a row starts with its
    Post's ID)."""

    def keep(rows: set[tuple[object, ...]]) -> set[tuple[object, ...]]:
        return {r for r in rows if (only is None or r[0] in only) and r[0] not in skip}

    out = []
    for name in QUERIES:
        want, have = keep(expected[name]), keep(got[name])
        missing, extra = want - have, have - want
        if missing or extra:
            sample = sorted(missing, key=str)[:2] or sorted(extra, key=str)[:2]
            out.append(f"{name}: {len(missing)} missing, {len(extra)} extra, e.g. {sample}")
    return out


def digest_rows(db: Path, channel: str) -> list[tuple[object, ...]]:
    with closing(_open(db)) as conn:
        return conn.execute(
            "SELECT local_date, claimed_at, posted_ts FROM digests WHERE channel_id = ?",
            (channel,),
        ).fetchall()


def paused_reason(db: Path, channel: str) -> str | None:
    with closing(_open(db)) as conn:
        row = conn.execute(
            "SELECT paused_reason FROM channel_settings WHERE channel_id = ?", (channel,)
        ).fetchone()
    return None if row is None else row[0]
