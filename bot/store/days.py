"""X's daily series in the store: the `daily` table, one row per (Post, UTC day).

A day is a number (days since 1970-01-01). Each metric has a value (X's, that day; NULL: none
stored) and a running total (the sum of that metric's stored values up to and including the
day): the daily tally's metrics in two columns of their own (`<metric>`, `<metric>_running`),
the others as `"<metric>": [value, running total]` in the JSON column `more` (m017 says why).
A leaderboard over [since, until) is two seeks per Post: the running total on the newest day
before `until` minus the one before `since`. Everywhere outside this module a fact is still
(Post, metric, day, value): only here is it packed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime

from bot.store.schema.release_0_2 import DAY_COLUMNS, DAY_MORE
from bot.store.sql import Db, json_list

_EPOCH = date(1970, 1, 1).toordinal()
ORDERED = DAY_COLUMNS + DAY_MORE
METRICS = frozenset(ORDERED)


def value(metric: str, table: str = "daily") -> str:
    """SQL: `metric`'s value in row `table` (NULL: none that day)."""
    if metric in DAY_COLUMNS:
        return f"{table}.{metric}"
    return f"json_extract({table}.more, '$.{_place(metric)}[0]')"


def running_of(metric: str, table: str = "daily") -> str:
    """SQL: `metric`'s running total in row `table` (NULL where the day has no value of it)."""
    if metric in DAY_COLUMNS:
        return f"{table}.{metric}_running"
    return f"json_extract({table}.more, '$.{_place(metric)}[1]')"


def running(table: str) -> str:
    """SQL: the running total of the metric the `:metric` parameter names, in row `table` (NULL
    for a metric the table has no place for): one statement serves every metric, so its text
    and query plan don't depend on which is asked for."""
    cases = " ".join(f"WHEN '{m}' THEN {running_of(m, table)}" for m in ORDERED)
    return f"CASE :metric {cases} END"


def _place(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"no daily series for the metric {metric!r}")
    return metric


def number(day: date) -> int:
    """A day as the table stores it: days since 1970-01-01."""
    # A datetime is a date too; taking its date part silently would hide a caller's mix-up.
    if isinstance(day, datetime):
        raise TypeError(f"a daily bucket is a date, not the datetime {day.isoformat()}")
    return day.toordinal() - _EPOCH


def from_number(day: int) -> date:
    return date.fromordinal(day + _EPOCH)


def write(db: Db, facts: Iterable[tuple[str, str, int, int]], *, replace: bool = True) -> int:
    """Upsert (post_id, metric, day number, value) facts; those new or changed. `replace`
    False keeps a value already stored (a roll-up never overwrites what X said). Running
    totals are brought up to date from each (Post, metric)'s earliest written day on.
    ValueError, before anything is written, for a metric the table has no place for."""
    in_columns: dict[tuple[str, int], dict[str, int]] = {}
    in_json: dict[str, list[tuple[str, int, int]]] = {}
    for post_id, metric, day, count in facts:
        if metric in DAY_COLUMNS:
            in_columns.setdefault((post_id, day), {})[metric] = count
        else:
            in_json.setdefault(_place(metric), []).append((post_id, day, count))
    return _write(db, in_columns, in_json, replace)


class _Numbers(dict[datetime | date, int]):
    """Each day as the table stores it (`number`), made once: a series names the same days
    for every Post and metric."""

    def __missing__(self, day: datetime | date) -> int:
        made = self[day] = number(day)  # TypeError for a datetime
        return made


def write_series(
    db: Db, series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]]
) -> int:
    """write() of {post: {metric: {day: value}}} (a None value is no reading), without a
    fact per value on the way."""
    numbers = _Numbers()
    in_columns: dict[tuple[str, int], dict[str, int]] = {}
    in_json: dict[str, list[tuple[str, int, int]]] = {}
    for post_id, metrics in series.items():
        for metric, buckets in metrics.items():
            if metric not in DAY_COLUMNS:
                rows = [(post_id, numbers[d], n) for d, n in buckets.items() if n is not None]
                if rows:
                    in_json.setdefault(_place(metric), []).extend(rows)
                continue
            for day, count in buckets.items():
                if count is not None:
                    in_columns.setdefault((post_id, numbers[day]), {})[metric] = count
    return _write(db, in_columns, in_json, True)


def _write(
    db: Db,
    in_columns: dict[tuple[str, int], dict[str, int]],
    in_json: dict[str, list[tuple[str, int, int]]],
    replace: bool,
) -> int:
    changed = _write_columns(db, in_columns, replace) if in_columns else 0
    for metric, rows in in_json.items():
        changed += db.many(_upsert(metric, replace), _json(rows))
        earliest: dict[str, int] = {}
        for post_id, day, _ in rows:
            earliest[post_id] = min(day, earliest.get(post_id, day))
        recompute_running(db, metric, earliest)
    return changed


# A Post-day's row with every column metric, set whole: the values come merged with what was
# stored (one statement per Post-day, not one per metric).
_SET_COLUMNS = f"""INSERT INTO daily (post_id, day, {", ".join(DAY_COLUMNS)})
    VALUES (?, ?, {", ".join("?" for _ in DAY_COLUMNS)})
    ON CONFLICT (post_id, day) DO UPDATE SET
        {", ".join(f"{m} = excluded.{m}" for m in DAY_COLUMNS)}"""


def _write_columns(db: Db, given: dict[tuple[str, int], dict[str, int]], replace: bool) -> int:
    """The column metrics' facts: the stored rows read once, compared here, each changed
    Post-day written in one statement; then each touched Post's running totals."""
    ids = sorted({post_id for post_id, _ in given})
    first, last = min(day for _, day in given), max(day for _, day in given)
    stored = {
        (post_id, day): values
        for post_id, day, *values in db.rows(
            f"""SELECT post_id, day, {", ".join(DAY_COLUMNS)} FROM daily
            WHERE post_id IN (SELECT value FROM json_each(?)) AND day BETWEEN ? AND ?""",
            (json_list(ids), first, last),
        )
    }
    empty = [None] * len(DAY_COLUMNS)
    rows: list[tuple[object, ...]] = []
    changed, earliest = 0, dict[str, int]()
    for (post_id, day), counts in given.items():
        values = list(stored.get((post_id, day), empty))
        wrote = False
        for at, metric in enumerate(DAY_COLUMNS):
            if metric not in counts:
                continue
            old, new = values[at], counts[metric]
            if old != new if replace else old is None:
                values[at], wrote = new, True
                changed += 1
        if wrote:
            rows.append((post_id, day, *values))
            earliest[post_id] = min(day, earliest.get(post_id, day))
    db.many(_SET_COLUMNS, rows)
    _recompute_columns(db, earliest)
    return changed


def _recompute_columns(db: Db, earliest: dict[str, int]) -> None:
    """recompute_running for every column metric at once, from each Post's earliest written
    day on (a metric not written there comes out as it was)."""
    sums = ", ".join(
        f"""CASE WHEN {m} IS NOT NULL THEN SUM({m}) OVER (ORDER BY day) + COALESCE((
            SELECT b.{m}_running FROM daily AS b WHERE b.post_id = :post AND b.day < :from
                AND b.{m}_running IS NOT NULL ORDER BY b.day DESC LIMIT 1), 0) END AS {m}"""
        for m in DAY_COLUMNS
    )
    db.many(
        f"""UPDATE daily SET {", ".join(f"{m}_running = fresh.{m}" for m in DAY_COLUMNS)}
        FROM (SELECT day, {sums} FROM daily WHERE post_id = :post AND day >= :from) AS fresh
        WHERE daily.post_id = :post AND daily.day = fresh.day
            AND ({" OR ".join(f"{m}_running IS NOT fresh.{m}" for m in DAY_COLUMNS)})""",
        [{"post": post_id, "from": first} for post_id, first in earliest.items()],
    )


def _upsert(metric: str, replace: bool) -> str:
    old, new = value(metric), value(metric, "excluded")
    keep = f"{old} IS NOT {new}" if replace else f"{old} IS NULL"
    if metric in DAY_COLUMNS:
        return f"""INSERT INTO daily (post_id, day, {metric}) VALUES (?, ?, ?)
            ON CONFLICT (post_id, day) DO UPDATE SET {metric} = excluded.{metric} WHERE {keep}"""
    # The pair goes in whole, the running total as stored (recompute_running follows).
    return f"""INSERT INTO daily (post_id, day, more) VALUES (?, ?, json_object('{metric}',
            json_array(?, NULL)))
        ON CONFLICT (post_id, day) DO UPDATE SET more = json_set(COALESCE(daily.more, '{{}}'),
            '$.{metric}', json_array({new}, {running_of(metric)})) WHERE {keep}"""


def _json(rows: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    """Counts as integers, as the columns' affinity and CHECK make them: JSON has neither."""
    checked = []
    for post_id, day, count in rows:
        if isinstance(count, str) and count.isascii() and count.lstrip("-").isdigit():
            count = int(count)
        if type(count) is not int:
            raise ValueError(f"a daily value is a whole number, not {count!r}")
        checked.append((post_id, day, count))
    return checked


def recompute_running(db: Db, metric: str, earliest: dict[str, int]) -> None:
    """Bring `metric`'s running totals up to date from each Post's earliest written day on.

    Earlier days are untouched, so the running total on the newest day before that one is the
    base. Rows whose running total is already right are not rewritten.
    """
    run, base = running_of(metric), running_of(metric, "before")
    if metric in DAY_COLUMNS:
        assign = f"{metric}_running = fresh.running"
    else:
        assign = f"more = json_set(more, '$.{metric}[1]', fresh.running)"
    db.many(
        f"""UPDATE daily SET {assign}
        FROM (
            SELECT day, SUM({value(metric)}) OVER (ORDER BY day) + COALESCE((
                SELECT {base} FROM daily AS before
                WHERE before.post_id = :post AND before.day < :from AND {base} IS NOT NULL
                ORDER BY before.day DESC LIMIT 1), 0) AS running
            FROM daily WHERE post_id = :post AND day >= :from AND {value(metric)} IS NOT NULL
        ) AS fresh
        WHERE daily.post_id = :post AND daily.day = fresh.day AND {run} IS NOT fresh.running""",
        [{"post": post_id, "from": first} for post_id, first in earliest.items()],
    )


def empty(table: str = "daily") -> str:
    """SQL: row `table` holds no value of any metric."""
    return f"COALESCE({', '.join(f'{table}.{m}' for m in DAY_COLUMNS)}, {table}.more) IS NULL"


def forget_before(metric: str) -> str:
    """SQL (an UPDATE's SET): `metric`'s value and running total gone from a row."""
    if metric in DAY_COLUMNS:
        return f"{metric} = NULL, {metric}_running = NULL"
    return f"more = NULLIF(json_remove(more, '$.{_place(metric)}'), '{{}}')"


def read(
    db: Db, ids: list[str], metrics: Iterable[str], start: date, end: date
) -> Iterator[tuple[str, str, date, int]]:
    """(post_id, metric, day, value) of the stored days in [start, end), in day order; a
    metric the table has no place for has none."""
    wanted = [m for m in dict.fromkeys(metrics) if m in METRICS]
    if not wanted:
        return
    rows = db.rows(
        f"""SELECT post_id, day, {", ".join(value(m) for m in wanted)} FROM daily
        WHERE post_id IN (SELECT value FROM json_each(?)) AND day >= ? AND day < ?
        ORDER BY day""",
        (json_list(ids), number(start), number(end)),
    )
    for post_id, day, *values in rows:
        when = from_number(day)
        for metric, count in zip(wanted, values, strict=True):
            if count is not None:
                yield post_id, metric, when, count
