"""CPU per Post of saving a /totals refresh's readings, statement by statement, and what one
`totals` row per reading (a column per metric) would cost instead of seven.

    .venv/bin/python bench/totals_save.py [--posts 100000] [--pragma "PRAGMA cache_size=-65536"]

A real store file (Store.open: every migration, the store's PRAGMAs; `--pragma` adds one, to
try a setting), `--posts` Posts known, then the readings of seven metrics for each saved the
way a refresh saves them (`Series.save_readings`, one transaction per 10,000 Posts, as
bot/engagement/plan_batches.py cuts a refresh): first every value new, then the same values an
hour later (steady state: nothing changed, no `totals` row written). CPU seconds
(time.process_time) per Post, in all and per statement.

The wide-row comparison runs SQLite alone on a scratch file with the same layout as `totals`
(WITHOUT ROWID, foreign key into `posts`): the same readings as one row per Post with seven
value columns, against seven rows per Post with the changes-only statement's seek; both from the
same JSON document, so only the table's shape differs.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.engagement.records import PostRecord  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store import sql as store_sql  # noqa: E402
from bot.store.cipher import TokenCipher  # noqa: E402

START = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
METRICS = (
    "impressions",
    "engagements",
    "likes",
    "retweets",
    "replies",
    "quote_tweets",
    "bookmarks",
)
BATCH = 10_000


def post_ids(count: int) -> list[str]:
    """19-digit IDs, in key order (a refresh is planned in ID order)."""
    return sorted(str(1_800_000_000_000_000_000 + i * 7_919_000) for i in range(count))


def readings(ids: list[str]) -> dict[str, dict[str, int]]:
    rnd = random.Random(14)
    return {i: {m: rnd.randrange(10**6) for m in METRICS} for i in ids}


@contextmanager
def timed_statements() -> Iterator[Counter[str]]:
    """CPU seconds per statement (its first words) run through the store's Db meanwhile."""
    spent: Counter[str] = Counter()
    run = store_sql.Db._run

    def timing(self: store_sql.Db, sql: str, params: Any) -> sqlite3.Cursor:
        started = time.process_time()
        try:
            return run(self, sql, params)
        finally:
            spent[" ".join(sql.split())[:48]] += time.process_time() - started

    store_sql.Db._run = timing  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        store_sql.Db._run = run  # type: ignore[method-assign]


def save_rounds(folder: Path, ids: list[str], pragma: str | None) -> None:
    store = Store.open(folder / "engagement.db", cipher=TokenCipher.generate())
    if pragma:
        store._db.execute(pragma)  # a setting tried on the store's own connection
    store.posts.save(PostRecord(i, "1000000001", None) for i in ids)
    values = readings(ids)
    for name, at in (
        ("new values", START),
        ("unchanged, an hour later", START + timedelta(hours=1)),
    ):
        with timed_statements() as spent:
            started = time.process_time()
            for first in range(0, len(ids), BATCH):
                part = {i: values[i] for i in ids[first : first + BATCH]}
                with store.transaction():
                    store.series.save_readings(part, taken_at=at)
            total = time.process_time() - started
        print(f"save_readings, {name}: {total / len(ids) * 1e6:5.1f} µs/Post")
        for statement, seconds in spent.most_common(7):
            print(f"  {seconds / len(ids) * 1e6:5.1f}  {statement}")
        print(f"  {(total - sum(spent.values())) / len(ids) * 1e6:5.1f}  (Python around them)")
    store.close()


_NARROW = """
    INSERT INTO narrow (post_id, metric, taken_at, value)
    SELECT p.key, m.key, :at, m.value FROM json_each(:doc) AS p, json_each(p.value) AS m
    WHERE m.value IS NOT (SELECT value FROM narrow
        WHERE post_id = p.key AND metric = m.key AND taken_at <= :at
        ORDER BY taken_at DESC LIMIT 1)
    ON CONFLICT (post_id, metric, taken_at) DO UPDATE SET value = excluded.value"""
_COLUMNS = ", ".join(METRICS)
_WIDE = f"""
    INSERT INTO wide (post_id, taken_at, {_COLUMNS})
    SELECT post, :at, {_COLUMNS} FROM (
        SELECT p.key AS post, {", ".join(f"p.value ->> {n} AS {m}" for n, m in enumerate(METRICS))}
        FROM json_each(:doc) AS p) AS new
    WHERE NOT EXISTS (SELECT 1 FROM (SELECT {_COLUMNS} FROM wide
            WHERE post_id = new.post AND taken_at <= :at ORDER BY taken_at DESC LIMIT 1) AS old
        WHERE {" AND ".join(f"old.{m} = new.{m}" for m in METRICS)})
    ON CONFLICT (post_id, taken_at) DO NOTHING"""


def shapes(folder: Path, ids: list[str]) -> None:
    db = sqlite3.connect(folder / "shapes.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = wal")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("CREATE TABLE posts (post_id TEXT PRIMARY KEY)")
    db.executemany("INSERT INTO posts VALUES (?)", [(i,) for i in ids])
    key = "post_id TEXT NOT NULL REFERENCES posts (post_id), taken_at TEXT NOT NULL"
    db.execute(
        f"""CREATE TABLE narrow ({key}, metric TEXT NOT NULL, value INTEGER,
        PRIMARY KEY (post_id, metric, taken_at)) WITHOUT ROWID"""
    )
    columns = ", ".join(f"{m} INTEGER" for m in METRICS)
    db.execute(
        f"CREATE TABLE wide ({key}, {columns}, PRIMARY KEY (post_id, taken_at)) WITHOUT ROWID"
    )
    values = readings(ids)
    for name, statement in (("seven rows a Post (today)", _NARROW), ("one row a Post", _WIDE)):
        line = []
        for at in ("2026-11-26T12:30:00.000000Z", "2026-11-26T13:30:00.000000Z"):
            started = time.process_time()
            for first in range(0, len(ids), BATCH):
                part = {i: values[i] for i in ids[first : first + BATCH]}
                # one row a Post: its values in the columns' order, {post: [value, ...]}
                shaped = (
                    part if statement is _NARROW else {i: [*v.values()] for i, v in part.items()}
                )
                doc = json.dumps(shaped)
                db.execute("BEGIN")
                db.execute(statement, {"doc": doc, "at": at})
                db.execute("COMMIT")
            line.append((time.process_time() - started) / len(ids) * 1e6)
        print(f"  {name:26} new values {line[0]:5.1f} µs/Post; unchanged {line[1]:5.1f} µs/Post")
    db.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--pragma")
    args = parser.parse_args()
    ids = post_ids(args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{args.posts:,} Posts x {len(METRICS)} metrics, {BATCH:,} Posts a transaction")
        save_rounds(Path(tmp), ids, args.pragma)
        print("The totals insert alone (SQLite, JSON in; the table's shape):")
        shapes(Path(tmp), ids)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
