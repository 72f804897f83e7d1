"""Totals snapshots: a row only when a value changes, and runs of readings for "as of".

`totals` holds a (Post, metric)'s value from the moment it was first read until the next row;
`totals_seen` holds when each Post was read (docs/retention.md). bot/store/series.py's Series
repository reads and writes through these functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from bot.store import posts
from bot.store.rows import TotalsRow
from bot.store.sql import Db, instant, json_list, names, parse_instant, post_ids

# Readings of a Post no further apart than this form one run in `totals_seen`: within a run
# the Post counts as read at any moment, since a reading at most this long before it exists.
# Below the alerts' 25 minutes of slack, so a run never claims a reading they would refuse.
SEEN_GAP = timedelta(minutes=20)

# Readings: {post: {metric: value}} as one JSON object, in key order (a refresh writes
# 700,000 values for 100,000 Posts: SQLite walks them, with no Python object per value).
_READINGS = """SELECT p.key AS new_post, m.key AS new_metric, m.value AS new_value
    FROM json_each(:readings) AS p, json_each(p.value) AS m"""
# A reading adds a row only when it differs from the (Post, metric)'s value at :at (one seek per
# key to its newest row at or before :at); a repeated save at the same instant corrects it.
_SAVE_CHANGED = f"""
    INSERT INTO totals (post_id, metric, taken_at, value)
    SELECT new_post, new_metric, :at, new_value FROM ({_READINGS})
    WHERE new_value IS NOT (SELECT value FROM totals
        WHERE post_id = new_post AND metric = new_metric AND taken_at <= :at
        ORDER BY taken_at DESC LIMIT 1)
    ON CONFLICT (post_id, metric, taken_at) DO UPDATE SET value = excluded.value
        WHERE totals.value != excluded.value"""
# A reading older than the Post's newest (a refresh that finished after a later one): the later
# readings equal to the value then were not written, so the value in effect before :at is
# written again at the newest reading, unless a row after :at already says what came next.
_RESTORE = f"""
    INSERT INTO totals (post_id, metric, taken_at, value)
    SELECT new_post, new_metric, :newest, old_value FROM (
        SELECT new_post, new_metric, new_value, (SELECT value FROM totals
            WHERE post_id = new_post AND metric = new_metric AND taken_at <= :at
            ORDER BY taken_at DESC LIMIT 1) AS old_value
        FROM ({_READINGS}))
    WHERE old_value IS NOT NULL AND old_value IS NOT new_value AND NOT EXISTS (
        SELECT 1 FROM totals WHERE post_id = new_post AND metric = new_metric AND taken_at > :at)
    ON CONFLICT (post_id, metric, taken_at) DO NOTHING"""
# The Posts read after :at, and when last.
_READ_LATER = """SELECT post_id, MAX(until) FROM totals_seen
    WHERE post_id IN (SELECT value FROM json_each(:ids)) AND until > :at GROUP BY post_id"""
# The newest run of readings of :post, as one row (since, until, metric_set).
_NEWEST_RUN = """SELECT since, until, metric_set FROM totals_seen WHERE post_id = {post}
    ORDER BY since DESC LIMIT 1"""
# {post: metric_set id} as one JSON object.
_KINDS = "SELECT p.key AS seen_post, p.value AS seen_kind FROM json_each(:kinds) AS p"
# A Post whose newest run read the same metrics and ended no longer than SEEN_GAP before :at
# (and not at or after it) has its run extended to :at.
_EXTEND = f"""
    UPDATE totals_seen SET until = :at FROM ({_KINDS}) AS n
    WHERE totals_seen.post_id = n.seen_post AND totals_seen.metric_set = n.seen_kind
        AND totals_seen.since = (SELECT MAX(since) FROM totals_seen AS s
            WHERE s.post_id = n.seen_post)
        AND totals_seen.until >= :after AND totals_seen.until < :at"""
# Any other Post starts a run at :at, unless its newest run (extended or not) already covers
# :at with the same metrics (a repeated save).
_START = f"""
    INSERT INTO totals_seen (post_id, since, until, metric_set)
    SELECT seen_post, :at, :at, seen_kind FROM ({_KINDS})
    WHERE NOT EXISTS (SELECT 1 FROM ({_NEWEST_RUN.format(post="seen_post")}) AS newest
        WHERE newest.metric_set = seen_kind AND newest.since <= :at AND :at <= newest.until)
    ON CONFLICT (post_id, since) DO UPDATE SET until = MAX(until, excluded.until)"""


def save(db: Db, rows: Iterable[TotalsRow], taken_at: datetime) -> tuple[int, list[str]]:
    """Write the readings whose value changed; the rows written and the Posts read."""
    readings: dict[str, dict[str, int]] = {}
    for row in rows:
        readings.setdefault(row.post_id, {})[row.metric] = row.value
    return save_readings(db, readings, taken_at)


def save_readings(
    db: Db, readings: Mapping[str, Mapping[str, int]], taken_at: datetime
) -> tuple[int, list[str]]:
    """Write the readings ({post: {metric: value}}) whose value changed; the rows written and
    the Posts read."""
    ids = sorted(post_ids(readings))  # key order: each B-tree is walked once, front to back
    posts.ensure(db, ids)
    at = instant(taken_at)
    for post, newest in db.rows(_READ_LATER, {"ids": json_list(ids), "at": at}):
        late = json.dumps({post: readings[post]})
        db.execute(_RESTORE, {"readings": late, "at": at, "newest": newest})
    doc = json.dumps({post: readings[post] for post in ids})
    written = db.execute(_SAVE_CHANGED, {"readings": doc, "at": at}).rowcount
    note_seen(db, {post: readings[post].keys() for post in ids}, taken_at)
    return written, ids


def note_seen(db: Db, read: Mapping[str, Iterable[str]], taken_at: datetime) -> None:
    """Record that each Post's metrics ({post: metrics}) were read at `taken_at` (runs in
    `totals_seen`): the Post's newest run is extended when it read the same metrics no longer
    than SEEN_GAP before, else a run starts (a run already covering the instant: a repeated
    save)."""
    spelled: dict[tuple[str, ...], str] = {}  # a few sets of metrics recur for every Post
    kinds: dict[str, str] = {}
    for post, metrics in read.items():
        key = tuple(metrics)
        spelling = spelled.get(key)
        if spelling is None:
            spelling = spelled[key] = metric_set(key)
        kinds[post] = spelling
    sets = metric_set_ids(db, set(spelled.values()))
    params = {
        "kinds": json.dumps({post: sets[spelling] for post, spelling in kinds.items()}),
        "at": instant(taken_at),
        "after": instant(taken_at - SEEN_GAP),
    }
    db.execute(_EXTEND, params)
    db.execute(_START, params)


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
