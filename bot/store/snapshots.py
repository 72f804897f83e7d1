"""Totals snapshots: a row only when a value changes, and runs of readings for "as of".

`totals` holds a (Post, metric)'s value from the moment it was first read until the next row;
`totals_seen` holds when each Post was read (docs/retention.md). bot/store/series.py's Series
repository reads and writes through these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.store import posts
from bot.store.rows import TotalsRow
from bot.store.sql import Db, instant, json_list, names, parse_instant, post_ids

# Readings of a Post no further apart than this form one run in `totals_seen`: within a run
# the Post counts as read at any moment, since a reading at most this long before it exists.
# Below the alerts' 25 minutes of slack, so a run never claims a reading they would refuse.
SEEN_GAP = timedelta(minutes=20)

# The values each (Post, metric) had at :at, read in one statement (a seek per key) so that
# only changed values are written: a value that didn't change adds no row.
_VALUES_AT = """
    SELECT p.value, m.value, (SELECT value FROM totals
        WHERE post_id = p.value AND metric = m.value AND taken_at <= :at
        ORDER BY taken_at DESC LIMIT 1) AS known
    FROM json_each(:posts) AS p, json_each(:metrics) AS m WHERE known IS NOT NULL"""
_SAVE = """
    INSERT INTO totals (post_id, metric, taken_at, value) VALUES (?, ?, ?, ?)
    ON CONFLICT (post_id, metric, taken_at) DO UPDATE SET value = excluded.value
        WHERE totals.value != excluded.value"""
# Each Post's newest run of readings.
_NEWEST_RUNS = """
    SELECT s.post_id, s.since, s.until, s.metric_set FROM json_each(?) AS p
    JOIN totals_seen AS s ON s.post_id = p.value
        AND s.since = (SELECT MAX(since) FROM totals_seen WHERE post_id = p.value)"""


def save(db: Db, rows: Iterable[TotalsRow], taken_at: datetime) -> tuple[int, list[str]]:
    """Write the readings whose value changed; the rows written and the Posts read."""
    at, read = instant(taken_at), list(rows)
    ids = post_ids(row.post_id for row in read)
    posts.ensure(db, ids)
    metrics = names(row.metric for row in read)
    known = {
        (post, metric): value
        for post, metric, value in db.rows(
            _VALUES_AT, {"posts": json_list(ids), "metrics": json_list(metrics), "at": at}
        )
    }
    changed = [
        (row.post_id, row.metric, at, row.value)
        for row in read
        if known.get((row.post_id, row.metric)) != row.value
    ]
    written = db.many(_SAVE, changed)
    note_seen(db, read, taken_at)
    return written, ids


def note_seen(db: Db, rows: list[TotalsRow], taken_at: datetime) -> None:
    """Record that each Post's metrics were read at `taken_at` (runs in `totals_seen`): the
    Post's newest run is extended when it read the same metrics no longer than SEEN_GAP
    before, else a run starts (a run already covering the instant: a repeated save)."""
    read: dict[str, set[str]] = {}
    for row in rows:
        read.setdefault(row.post_id, set()).add(row.metric)
    at, after = instant(taken_at), instant(taken_at - SEEN_GAP)
    spelled = {post: metric_set(metrics) for post, metrics in read.items()}
    sets = metric_set_ids(db, set(spelled.values()))
    newest = {
        post: (since, until, kind)
        for post, since, until, kind in db.rows(_NEWEST_RUNS, (json_list(read),))
    }
    extend, start = [], []
    for post, spelling in spelled.items():
        kind = sets[spelling]
        since, until, was = newest.get(post, ("", "", None))
        if was == kind and since <= at <= until:
            continue
        if was == kind and after <= until <= at:
            extend.append((at, post, since))
        else:
            start.append((post, at, at, kind))
    db.many("UPDATE totals_seen SET until = ? WHERE post_id = ? AND since = ?", extend)
    db.many(
        """INSERT INTO totals_seen (post_id, since, until, metric_set) VALUES (?, ?, ?, ?)
        ON CONFLICT (post_id, since) DO UPDATE SET until = MAX(until, excluded.until)""",
        start,
    )


def metric_set_ids(db: Db, sets: set[str]) -> dict[str, int]:
    """The id of each set of metrics (as `metric_set` spells them), added if new."""
    db.many("INSERT OR IGNORE INTO metric_sets (metrics) VALUES (?)", [(s,) for s in sets])
    rows = db.rows(
        "SELECT metrics, id FROM metric_sets WHERE metrics IN (SELECT value FROM json_each(?))",
        (json_list(sets),),
    )
    return {metrics: set_id for metrics, set_id in rows}


def metric_set(metrics: Iterable[str]) -> str:
    """How `metric_sets.metrics` spells a set of metrics: sorted, comma-joined, commas around
    (so `instr(metrics, ',likes,')` finds one)."""
    return "," + ",".join(sorted(metrics)) + ","


# The last reading of a Post's metric at or before :when: the newest run that read it, capped
# at :when (inside a run the Post was read at most SEEN_GAP before any moment).
_SEEN = """SELECT MIN(until, {when}) FROM totals_seen
    WHERE post_id = {post} AND since <= {when} AND metric_set IN (
        SELECT id FROM metric_sets WHERE instr(metrics, ',' || {metric} || ',') > 0)
    ORDER BY since DESC LIMIT 1"""
_NEWEST = """SELECT {column} FROM totals WHERE post_id = {post} AND metric = {metric}
    AND taken_at <= {when} ORDER BY taken_at DESC LIMIT 1"""


def latest_totals(
    db: Db, ids: Iterable[str], metrics: Iterable[str]
) -> dict[str, dict[str, tuple[int, datetime]]]:
    # Each newest snapshot is one seek to the end of its (Post, metric) key range; "as of" is
    # the later of it and the Post's last reading (a value unchanged since adds no snapshot).
    keys = {"post": "p.value", "metric": "m.value", "when": "'9999'"}  # after every instant
    rows = db.rows(
        f"""SELECT post_id, metric, newest_value, MAX(taken_at, COALESCE(seen, taken_at)) FROM (
            SELECT p.value AS post_id, m.value AS metric,
                ({_NEWEST.format(column="value", **keys)}) AS newest_value,
                ({_NEWEST.format(column="taken_at", **keys)}) AS taken_at,
                ({_SEEN.format(**keys)}) AS seen
            FROM json_each(?) AS p, json_each(?) AS m
        ) WHERE taken_at IS NOT NULL""",
        (json_list(post_ids(ids)), json_list(names(metrics))),
    )
    found: dict[str, dict[str, tuple[int, datetime]]] = {}
    for post_id, metric, value, as_of in rows:
        found.setdefault(post_id, {})[metric] = (value, parse_instant(as_of))
    return found


def totals_before(db: Db, post_id: str, metric: str, when: datetime) -> tuple[int, datetime] | None:
    """The value at `when` and the last reading at or before it that shows it."""
    keys = {"post": ":post", "metric": ":metric", "when": ":when"}
    rows = db.rows(
        f"""SELECT value, MAX(taken_at, COALESCE(({_SEEN.format(**keys)}), taken_at)) FROM (
            SELECT value, taken_at FROM totals
            WHERE post_id = :post AND metric = :metric AND taken_at <= :when
            ORDER BY taken_at DESC LIMIT 1)""",
        {"post": post_ids((post_id,))[0], "metric": metric, "when": instant(when)},
    )
    return (rows[0][0], parse_instant(rows[0][1])) if rows else None
