"""Measurements: totals snapshots, hourly and daily buckets, leaderboards, refresh times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from bot.engagement.query import Granularity
from bot.engagement.records import Board, PostSet
from bot.store import boards, days, hourly_cells, posts, snapshots
from bot.store.rows import SeriesRow, TotalsRow
from bot.store.sql import (
    Db,
    Repository,
    hour,
    instant,
    json_list,
    names,
    parse_instant,
    post_ids,
)
from bot.store.sql import post_ids as checked_post_ids

_IN_IDS = "post_id IN (SELECT value FROM json_each(?))"
_IN_METRICS = "metric IN (SELECT value FROM json_each(?))"


def save_totals(db: Db, rows: Iterable[TotalsRow], taken_at: datetime) -> int:
    written, ids = snapshots.save(db, rows, taken_at)
    note_refreshed(db, ids, Granularity.TOTAL, taken_at)
    return written


def save_readings(db: Db, readings: Mapping[str, Mapping[str, int]], taken_at: datetime) -> int:
    written, ids = snapshots.save_readings(db, readings, taken_at)
    note_refreshed(db, ids, Granularity.TOTAL, taken_at)
    return written


def save_hourly(db: Db, rows: Iterable[SeriesRow], fetched_at: datetime | None) -> int:
    cells: dict[str, dict[str, dict[datetime | date, int | None]]] = {}
    for row in rows:
        cells.setdefault(row.post_id, {}).setdefault(row.metric, {})[row.bucket] = row.value
    return save_hourly_series(db, cells, fetched_at)


def save_hourly_series(
    db: Db,
    series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]],
    fetched_at: datetime | None,
) -> int:
    changed, ids = hourly_cells.save(db, series)
    if fetched_at is not None:
        note_refreshed(db, ids, Granularity.HOUR, fetched_at)
    return changed


def save_daily(db: Db, rows: Iterable[SeriesRow], fetched_at: datetime | None) -> int:
    facts = [(row.post_id, row.metric, days.number(row.bucket), row.value) for row in rows]
    ids = post_ids(post_id for post_id, *_ in facts)
    posts.ensure(db, ids)
    changed = days.write(db, facts)
    if fetched_at is not None:
        note_refreshed(db, ids, Granularity.DAY, fetched_at)
    return changed


def save_daily_series(
    db: Db,
    series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]],
    fetched_at: datetime,
) -> int:
    ids = post_ids(p for p, metrics in series.items() if _any_reading(metrics))
    posts.ensure(db, ids)
    changed = days.write_series(db, series)
    note_refreshed(db, ids, Granularity.DAY, fetched_at)
    return changed


def _any_reading(metrics: Mapping[str, Mapping[datetime | date, int | None]]) -> bool:
    return any(any(v is not None for v in buckets.values()) for buckets in metrics.values())


def note_refreshed(db: Db, ids: Iterable[str], granularity: str, at: datetime) -> None:
    kind = Granularity(granularity).value
    # Never move a refresh time backwards: a late writer of older data isn't a fresher read.
    # One statement over the IDs as JSON (no Python tuple per Post: a refresh has 100,000).
    db.execute(
        """INSERT INTO refreshes (post_id, granularity, refreshed_at)
        SELECT value, ?, ? FROM json_each(?) WHERE true
        ON CONFLICT (post_id, granularity)
            DO UPDATE SET refreshed_at = MAX(refreshed_at, excluded.refreshed_at)""",
        (kind, instant(at), json_list(post_ids(ids))),
    )


def last_refreshed(db: Db, ids: Iterable[str], granularity: str) -> dict[str, datetime]:
    rows = db.rows(
        f"SELECT post_id, refreshed_at FROM refreshes WHERE granularity = ? AND {_IN_IDS}",
        (Granularity(granularity).value, json_list(post_ids(ids))),
    )
    return {post_id: parse_instant(at) for post_id, at in rows}


def read_hourly(
    db: Db, ids: Iterable[str], metrics: Iterable[str], start: datetime, end: datetime
) -> dict[str, dict[str, dict[datetime, int]]]:
    sql = f"""SELECT post_id, metric, hour, value FROM hourly
        WHERE {_IN_IDS} AND {_IN_METRICS} AND hour >= ? AND hour < ? ORDER BY hour"""
    params = (json_list(post_ids(ids)), json_list(names(metrics)), instant(start), instant(end))
    return _by_hour(db.rows(sql, params))


def read_daily(
    db: Db, ids: Iterable[str], metrics: Iterable[str], start: date, end: date
) -> dict[str, dict[str, dict[date, int]]]:
    found: dict[str, dict[str, dict[date, int]]] = {}
    for post_id, metric, when, value in days.read(db, post_ids(ids), names(metrics), start, end):
        found.setdefault(post_id, {}).setdefault(metric, {})[when] = value
    return found


def _by_hour(rows: list[Any]) -> dict[str, dict[str, dict[datetime, int]]]:
    found: dict[str, dict[str, dict[datetime, int]]] = {}
    # A few dozen distinct hours recur for every Post and metric: parse each once.
    parsed: dict[str, datetime] = {}
    for post_id, metric, bucket, value in rows:
        key = parsed.get(bucket)
        if key is None:
            key = parsed[bucket] = parse_instant(bucket)
        found.setdefault(post_id, {}).setdefault(metric, {})[key] = value
    return found


LEADERBOARD_SQL = f"""
    SELECT post_id, total FROM (
        SELECT c.post_id AS post_id,
            (SELECT {days.running("d")} FROM daily AS d
             WHERE d.post_id = c.post_id AND {days.running("d")} IS NOT NULL AND d.day < :until
             ORDER BY d.day DESC LIMIT 1)
            - COALESCE((SELECT {days.running("d")} FROM daily AS d
             WHERE d.post_id = c.post_id AND {days.running("d")} IS NOT NULL AND d.day < :since
             ORDER BY d.day DESC LIMIT 1), 0) AS total
        FROM {{candidates}} AS c
        WHERE EXISTS (SELECT 1 FROM daily AS d
            WHERE d.post_id = c.post_id AND {days.running("d")} IS NOT NULL
                AND d.day >= :since AND d.day < :until)
    )
    ORDER BY total DESC, length(post_id), post_id
    LIMIT :limit"""
_ALL_POSTS = "posts"
_GIVEN_POSTS = "(SELECT DISTINCT value AS post_id FROM json_each(:ids))"


def leaderboard_query(
    metric: str, since: date, until: date, ids: Iterable[str] | None, limit: int
) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of `leaderboard` (tests read its query plan)."""
    params: dict[str, Any] = {
        "metric": metric,
        "since": days.number(since),
        "until": days.number(until),
        "limit": limit,
    }
    if ids is None:
        return LEADERBOARD_SQL.format(candidates=_ALL_POSTS), params
    params["ids"] = json_list(post_ids(ids))
    return LEADERBOARD_SQL.format(candidates=_GIVEN_POSTS), params


def leaderboard(
    db: Db, metric: str, since: date, until: date, ids: Iterable[str] | None, limit: int
) -> list[tuple[str, int]]:
    """SUM(value) per Post over days [since, until), as the difference of two running totals.

    Ties go to the smaller Post ID (numerically: canonical IDs compare by length first).
    """
    if limit <= 0 or since >= until:
        return []
    sql, params = leaderboard_query(metric, since, until, ids, limit)
    return [(post_id, total) for post_id, total in db.rows(sql, params)]


# -- settled hours ------------------------------------------------------------------------------


def note_hourly_spans(
    db: Db, keys: Iterable[tuple[str, str]], start: datetime, end: datetime
) -> None:
    """Record that every hour bucket in [start, end) of these (Post, metric)s is stored and
    settled. A span touching the one already kept joins it; a disjoint one replaces it when
    it is newer (the recent past is what queries ask for again)."""
    wanted = list(dict.fromkeys(keys))
    if not wanted or end <= start:
        return
    new_start, new_end = hour(start), hour(end)
    kept = {
        (post_id, metric): (first, last)
        for post_id, metric, first, last in db.rows(
            f"""SELECT post_id, metric, span_start, span_end FROM hourly_spans
            WHERE {_IN_IDS}""",
            (json_list(post_ids(p for p, _ in wanted)),),
        )
    }
    params = []
    for key in wanted:
        first, last = new_start, new_end
        if (old := kept.get(key)) is not None:
            if old[0] <= new_end and new_start <= old[1]:  # overlapping or adjacent: join
                first, last = min(old[0], new_start), max(old[1], new_end)
            elif old[1] > new_end:  # the kept span is the more recent one
                continue
            if (first, last) == old:  # an hourly refresh of hours already settled
                continue
        params.append((*key, first, last))
    posts.ensure(db, post_ids(p for p, _ in wanted))
    db.many(
        """INSERT INTO hourly_spans (post_id, metric, span_start, span_end) VALUES (?, ?, ?, ?)
        ON CONFLICT (post_id, metric) DO UPDATE
            SET span_start = excluded.span_start, span_end = excluded.span_end""",
        params,
    )


def hourly_spans(
    db: Db, ids: Iterable[str], metrics: Iterable[str]
) -> dict[str, dict[str, tuple[datetime, datetime]]]:
    """post → metric → the [start, end) of settled hours stored, for Posts not known to be
    deleted or protected; absent = none."""
    rows = db.rows(
        f"""SELECT s.post_id, s.metric, s.span_start, s.span_end FROM hourly_spans AS s
        JOIN posts ON posts.post_id = s.post_id AND posts.state = 'ok'
        WHERE s.{_IN_IDS} AND s.{_IN_METRICS}""",
        (json_list(post_ids(ids)), json_list(names(metrics))),
    )
    found: dict[str, dict[str, tuple[datetime, datetime]]] = {}
    for post_id, metric, first, last in rows:
        found.setdefault(post_id, {})[metric] = (parse_instant(first), parse_instant(last))
    return found


class Series(Repository):
    """Measurements and when they were last fetched: `store.series`."""

    def save_totals(self, rows: Iterable[TotalsRow], *, taken_at: datetime) -> int:
        """A snapshot per (Post, metric) whose value differs from the one before it; rows
        written. Notes the reading in `totals_seen` and marks the Posts refreshed ("total")."""
        with self._transaction():
            return save_totals(self._db, rows, taken_at)

    def save_readings(
        self, readings: Mapping[str, Mapping[str, int]], *, taken_at: datetime
    ) -> int:
        """save_totals of {post: {metric: value}}: a refresh's readings without a row object
        per value."""
        with self._transaction():
            return save_readings(self._db, readings, taken_at)

    def save_hourly(self, rows: Iterable[SeriesRow], *, fetched_at: datetime | None = None) -> int:
        """Idempotent upsert; rows new or changed. `fetched_at` marks the Posts refreshed."""
        with self._transaction():
            return save_hourly(self._db, rows, fetched_at)

    def save_hourly_series(
        self,
        series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]],
        *,
        fetched_at: datetime | None = None,
    ) -> int:
        """save_hourly of a Report's series ({post: {metric: {hour: value}}}), without a row
        object per cell; a None value is no reading."""
        with self._transaction():
            return save_hourly_series(self._db, series, fetched_at)

    def save_daily(self, rows: Iterable[SeriesRow], *, fetched_at: datetime | None = None) -> int:
        """Idempotent upsert; rows new or changed. `fetched_at` marks the Posts refreshed."""
        with self._transaction():
            return save_daily(self._db, rows, fetched_at)

    def save_daily_series(
        self,
        series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]],
        *,
        fetched_at: datetime,
    ) -> int:
        """save_daily of a Report's series ({post: {metric: {day: value}}}), without a row
        object per value; a None value is no reading. Marks the Posts refreshed ("day")."""
        with self._transaction():
            return save_daily_series(self._db, series, fetched_at)

    def mark_refreshed(self, post_ids: Iterable[str], granularity: str, *, at: datetime) -> None:
        """Record a fetch that wrote no rows (granularity "total" | "hour" | "day")."""
        with self._transaction():
            ids = checked_post_ids(post_ids)
            posts.ensure(self._db, ids)
            note_refreshed(self._db, ids, granularity, at)

    def last_refreshed(self, post_ids: Iterable[str], granularity: str) -> dict[str, datetime]:
        """Posts fetched at that granularity, and when last; absent = never."""
        with self._lock:
            return last_refreshed(self._db, post_ids, granularity)

    def latest_totals(
        self, post_ids: Iterable[str], metrics: Iterable[str]
    ) -> dict[str, dict[str, tuple[int, datetime]]]:
        """post → metric → (value, as of): the newest snapshot's value, and the last reading of
        it (snapshots are written only on a change); absent = none stored."""
        with self._lock:
            return snapshots.latest_totals(self._db, post_ids, metrics)

    def totals_before(
        self, post_id: str, metric: str, when: datetime
    ) -> tuple[int, datetime] | None:
        """The value at `when` (the newest snapshot at or before it) and the last reading at or
        before `when` (to within SEEN_GAP: `when` itself when the Post was being read
        continuously then), for deltas."""
        with self._lock:
            return snapshots.totals_before(self._db, post_id, metric, when)

    def hourly(
        self, post_ids: Iterable[str], metrics: Iterable[str], start: datetime, end: datetime
    ) -> dict[str, dict[str, dict[datetime, int]]]:
        """Stored hour buckets in [start, end); absent = not stored."""
        with self._lock:
            return read_hourly(self._db, post_ids, metrics, start, end)

    def note_hourly_spans(
        self, keys: Iterable[tuple[str, str]], *, start: datetime, end: datetime
    ) -> None:
        """The hour buckets in [start, end) of these (Post, metric)s are stored and settled."""
        with self._transaction():
            note_hourly_spans(self._db, keys, start, end)

    def hourly_spans(
        self, post_ids: Iterable[str], metrics: Iterable[str]
    ) -> dict[str, dict[str, tuple[datetime, datetime]]]:
        """post → metric → [start, end) of the settled hours stored (Posts in state ok)."""
        with self._lock:
            return hourly_spans(self._db, post_ids, metrics)

    def daily(
        self, post_ids: Iterable[str], metrics: Iterable[str], start: date, end: date
    ) -> dict[str, dict[str, dict[date, int]]]:
        """Stored days in [start, end); absent = not stored."""
        with self._lock:
            return read_daily(self._db, post_ids, metrics, start, end)

    def leaderboard(
        self,
        metric: str,
        *,
        since: date,
        until: date,
        post_ids: Iterable[str] | None = None,
        limit: int = 10,
    ) -> list[tuple[str, int]]:
        """The sum of daily rows per Post over [since, until), highest first, ties by Post ID;
        only Posts with a row in the range. `post_ids` None: every Post."""
        with self._lock:
            return leaderboard(self._db, metric, since, until, post_ids, limit)

    def board(
        self,
        post_ids: Iterable[str] | PostSet,
        metric: str,
        *,
        owners: Iterable[str],
        since: datetime,
        until: date,
        limit: int,
        public: bool,
        stale_before: datetime | None = None,
    ) -> Board:
        """The top `limit` of these Posts by `metric` since `since` (bot/store/boards.py):
        those `owners` wrote by their daily rows in [since's day, until), the others (when
        `public`) by the difference of their totals snapshots; Posts of unknown ownership sit
        out. With `stale_before`, also the Posts whose numbers were fetched before it."""
        with self._lock:
            return boards.board(
                self._db,
                post_ids,
                metric,
                owners=owners,
                since=since,
                until=until,
                limit=limit,
                public=public,
                stale_before=stale_before,
            )
