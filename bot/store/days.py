"""X's daily series in the store: the `daily` table, one row per (Post, UTC day).

A day is a number (days since 1970-01-01) and each metric has two columns (the schema's
DAY_METRICS, m017): `<metric>`, X's value that day (NULL: none stored), and `<metric>_running`,
the sum of that metric's stored values up to and including the day. A leaderboard over
[since, until) is then two seeks per Post: the running total on the newest day before `until`
minus the one before `since`. A fact is still (Post, metric, day) everywhere outside this
module; only the row layout is packed (docs/retention.md says what it saves).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from bot.store.schema.release_0_2 import DAY_METRICS
from bot.store.sql import Db, json_list

_EPOCH = date(1970, 1, 1).toordinal()
METRICS = frozenset(DAY_METRICS)

# A metric's running total in a row aliased `{table}`, by the :metric parameter: one statement
# serves every metric, so its text (and query plan) doesn't depend on which is asked for.
_RUNNING_CASE = (
    "CASE :metric "
    + " ".join(f"WHEN '{m}' THEN {{table}}.{m}_running" for m in DAY_METRICS)
    + " END"
)


def running(table: str) -> str:
    """SQL: the running total of the metric named by the `:metric` parameter in row `table`
    (NULL where the day has no value of it, or for a metric without a column)."""
    return _RUNNING_CASE.format(table=table)


def number(day: date) -> int:
    """A day as the table stores it: days since 1970-01-01."""
    # A datetime is a date too; taking its date part silently would hide a caller's mix-up.
    if isinstance(day, datetime):
        raise TypeError(f"a daily bucket is a date, not the datetime {day.isoformat()}")
    return day.toordinal() - _EPOCH


def from_number(day: int) -> date:
    return date.fromordinal(day + _EPOCH)


def column(metric: str) -> str:
    """The value column of `metric`; ValueError for one the table has no column for."""
    if metric not in METRICS:
        raise ValueError(f"no daily series for the metric {metric!r}")
    return metric


def write(db: Db, facts: Iterable[tuple[str, str, int, int]], *, replace: bool = True) -> int:
    """Upsert (post_id, metric, day number, value) facts; those new or changed. `replace`
    False keeps a value already stored (a roll-up never overwrites what X said). Running
    totals are brought up to date from each (Post, metric)'s earliest written day on."""
    by_metric: dict[str, list[tuple[str, int, int]]] = {}
    for post_id, metric, day, value in facts:
        by_metric.setdefault(column(metric), []).append((post_id, day, value))
    changed = 0
    for metric, rows in by_metric.items():
        stored = f"daily.{metric}"
        when = f"{stored} IS NOT excluded.{metric}" if replace else f"{stored} IS NULL"
        changed += db.many(
            f"""INSERT INTO daily (post_id, day, {metric}) VALUES (?, ?, ?)
            ON CONFLICT (post_id, day) DO UPDATE SET {metric} = excluded.{metric} WHERE {when}""",
            rows,
        )
        earliest: dict[str, int] = {}
        for post_id, day, _ in rows:
            earliest[post_id] = min(day, earliest.get(post_id, day))
        recompute_running(db, metric, earliest)
    return changed


def recompute_running(db: Db, metric: str, earliest: dict[str, int]) -> None:
    """Bring `<metric>_running` up to date from each Post's earliest written day on.

    Earlier days are untouched, so the running total on the newest day before that one is the
    base. Rows whose running total is already right are not rewritten.
    """
    run = f"{column(metric)}_running"
    db.many(
        f"""UPDATE daily SET {run} = fresh.running
        FROM (
            SELECT day, SUM({metric}) OVER (ORDER BY day) + COALESCE((
                SELECT {run} FROM daily AS before
                WHERE before.post_id = :post AND before.day < :from
                    AND before.{run} IS NOT NULL
                ORDER BY before.day DESC LIMIT 1), 0) AS running
            FROM daily WHERE post_id = :post AND day >= :from AND {metric} IS NOT NULL
        ) AS fresh
        WHERE daily.post_id = :post AND daily.day = fresh.day
            AND daily.{run} IS NOT fresh.running""",
        [{"post": post_id, "from": first} for post_id, first in earliest.items()],
    )


def read(
    db: Db, ids: list[str], metrics: Iterable[str], start: date, end: date
) -> Iterator[tuple[str, str, date, int]]:
    """(post_id, metric, day, value) of the stored days in [start, end), in day order; a
    metric without a column has none."""
    wanted = [m for m in dict.fromkeys(metrics) if m in METRICS]
    if not wanted:
        return
    rows = db.rows(
        f"""SELECT post_id, day, {", ".join(wanted)} FROM daily
        WHERE post_id IN (SELECT value FROM json_each(?)) AND day >= ? AND day < ?
        ORDER BY day""",
        (json_list(ids), number(start), number(end)),
    )
    for post_id, day, *values in rows:
        when = from_number(day)
        for metric, value in zip(wanted, values, strict=True):
            if value is not None:
                yield post_id, metric, when, value
