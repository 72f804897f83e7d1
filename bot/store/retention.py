"""Retention: what the store keeps, for how long, and the pruning that applies it.

docs/retention.md is the policy and why each default keeps every feature working. In short:
totals snapshots are written only on a change (bot/store/snapshots.py); older than
`snapshot_days` they are thinned to a day's last, older than `weekly_after_days` to a week's
last; the runs of readings behind "as of" go after a day (a Post's newest run stays); hour
buckets older than `hourly_days` roll into daily values (whole UTC days only, never over a
value X gave) and go; daily values older than `daily_days` go but each (Post, metric)'s last; API
calls of months older than `call_months` are summed per (month, workspace, endpoint, owner)
into `api_calls_monthly`, which `usage` reads alongside; Posts nobody tracks, no connected
account wrote and nothing read for `forget_days` are forgotten with all their rows.

Pruning runs in small transactions (a slice of Posts, or one month of calls, each): a command
waits at most one slice for the store's lock, and an interrupted prune leaves every slice either
done or untouched. A dry run does the same work and rolls each slice back, so what it reports is
exactly what a prune would remove.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from bot.config import RetentionSettings
from bot.engagement.snowflake import TWITTER_EPOCH_MS
from bot.store import days
from bot.store.sql import Db, instant, json_list, month_range

# Runs of readings serve "as of" (each Post's newest run, always kept) and alert baselines
# (the last 8 hours): a day of them is ample, and they are the bulk of a day's new rows.
RUNS_KEPT = timedelta(days=1)
# Posts per transaction: what a command may wait for. 500 took ~3.8 s a slice on the loaded
# 2-core machine for 10k Posts x 7 metrics x 16 readings plus 10 days of daily rows to thin.
POSTS_PER_SLICE = 50

Transaction = Callable[[], AbstractContextManager[None]]


@dataclass(frozen=True)
class Cutoffs:
    """The instants a prune at `now` compares rows with (text, as the store writes them)."""

    daily_snapshots: str
    weekly_snapshots: str
    runs: str
    hourly: str  # a UTC midnight: only whole days roll up
    daily: int  # a day number (bot/store/days.py)
    calls: str  # the first moment of the oldest month kept in full
    forget: str

    @classmethod
    def at(cls, now: datetime, policy: RetentionSettings) -> Cutoffs:
        day = timedelta(days=1)
        hourly = (now - policy.hourly_days * day).astimezone(UTC).date()
        return cls(
            instant(now - policy.snapshot_days * day),
            instant(now - max(policy.weekly_after_days, policy.snapshot_days) * day),
            instant(now - RUNS_KEPT),
            instant(datetime.combine(hourly, time(), UTC)),
            days.number((now - policy.daily_days * day).astimezone(UTC).date()),
            instant(_month_start(now.astimezone(UTC).date(), policy.call_months)),
            instant(now - policy.forget_days * day),
        )


def _month_start(today: date, months_back: int) -> datetime:
    index = today.year * 12 + today.month - 1 - months_back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


# A row goes when the next snapshot of its (Post, metric) is in the same period (a day, or a
# week: the Sunday that ends it) and also in the thinned past: each period keeps its last value.
_PERIOD = "CASE WHEN {t} < :weekly THEN 'w' || date({t}, 'weekday 0') ELSE date({t}) END"
_THIN_TOTALS = f"""
    DELETE FROM totals WHERE (post_id, metric, taken_at) IN (
        SELECT post_id, metric, taken_at FROM (
            SELECT post_id, metric, taken_at,
                LEAD(taken_at) OVER (PARTITION BY post_id, metric ORDER BY taken_at) AS next
            FROM totals WHERE post_id >= :first AND post_id <= :last AND taken_at < :daily)
        WHERE next IS NOT NULL AND {_PERIOD.format(t="taken_at")} = {_PERIOD.format(t="next")})"""
_OLD_RUNS = """
    DELETE FROM totals_seen AS s
    WHERE post_id >= :first AND post_id <= :last AND until < :runs
        AND since < (SELECT MAX(since) FROM totals_seen WHERE post_id = s.post_id)"""
# Days past their time but the last of each (Post, metric): its running total is the base that
# leaderboards subtract from (bot/store/days.py). A metric at a time (its two columns emptied),
# then the rows left with none.
_OLD_VALUES = """SELECT {counts} FROM daily
    WHERE post_id >= :first AND post_id <= :last AND day < :daily"""
_OLD_DAYS = """
    UPDATE daily SET {forget}
    WHERE post_id >= :first AND post_id <= :last AND day < :daily AND {value} IS NOT NULL
        AND EXISTS (SELECT 1 FROM daily AS later
            WHERE later.post_id = daily.post_id AND later.day > daily.day
                AND later.day < :daily AND {later} IS NOT NULL)"""
_EMPTY_DAYS = f"""
    DELETE FROM daily WHERE post_id >= :first AND post_id <= :last AND day < :daily
        AND {days.empty()}"""
# Whole UTC days of hour buckets, where X gave no daily row: day = Σ hours.
_ROLL_UP = f"""
    SELECT post_id, metric, unixepoch(substr(hour, 1, 10)) / 86400, SUM(value) FROM hourly
    WHERE post_id >= :first AND post_id <= :last AND hour < :hourly
        AND metric IN ({", ".join(f"'{m}'" for m in days.ORDERED)})
    GROUP BY post_id, metric, substr(hour, 1, 10) HAVING COUNT(*) = 24"""
_OLD_HOURS = "DELETE FROM hourly WHERE post_id >= :first AND post_id <= :last AND hour < :hourly"
_OLD_SPANS = """DELETE FROM hourly_spans
    WHERE post_id >= :first AND post_id <= :last AND span_end <= :hourly"""
_TRIM_SPANS = """UPDATE hourly_spans SET span_start = :hourly
    WHERE post_id >= :first AND post_id <= :last AND span_start < :hourly"""

# Unused: no channel tracks it or its author's handle, no connected account wrote it, and
# nothing read it (at any granularity) since the cutoff; one never read counts from its creation.
# A Post ID's creation time (bot/engagement/snowflake.py), to the second: enough for a cutoff
# in days. IDs from before snowflakes read as 2010, older than any cutoff.
_SNOWFLAKE_TIME = (
    "strftime('%Y-%m-%dT%H:%M:%S', "
    f"((CAST(p.post_id AS INTEGER) >> 22) + {TWITTER_EPOCH_MS}) / 1000.0, 'unixepoch')"
)
_UNUSED = f"""
    SELECT p.post_id FROM posts AS p
    WHERE p.post_id >= :first AND p.post_id <= :last
        AND COALESCE((SELECT MAX(refreshed_at) FROM refreshes AS r WHERE r.post_id = p.post_id),
            p.created_at, {_SNOWFLAKE_TIME}) < :forget
        AND NOT EXISTS (SELECT 1 FROM channel_tracks AS c
            WHERE c.kind = 'post' AND c.ref = p.post_id)
        AND NOT EXISTS (SELECT 1 FROM accounts AS a WHERE a.user_id = p.author_id)
        AND NOT EXISTS (SELECT 1 FROM users AS u JOIN channel_tracks AS c
            ON c.kind = 'account' AND c.ref = lower(u.username) WHERE u.user_id = p.author_id)"""
# Children first: they reference `posts`.
FORGETTABLE = (
    "totals",
    "totals_seen",
    "hourly",
    "hourly_spans",
    "daily",
    "refreshes",
    "post_refusals",
    "posts",
)

_MONTHS_TO_SUM = "SELECT DISTINCT substr(at, 1, 7) FROM api_calls WHERE at < :calls ORDER BY 1"
_SUM_MONTH = """
    INSERT INTO api_calls_monthly
        (month, workspace, endpoint, owner_id, calls, failed, attempts, post_count)
    SELECT :month, COALESCE(workspace, ''), endpoint, COALESCE(owner_id, ''), COUNT(*),
        SUM(status NOT BETWEEN 200 AND 299), SUM(attempts), SUM(post_count)
    FROM api_calls WHERE at >= :start AND at < :end
    GROUP BY COALESCE(workspace, ''), endpoint, COALESCE(owner_id, '')
    ON CONFLICT (month, workspace, endpoint, owner_id) DO UPDATE SET
        calls = calls + excluded.calls, failed = failed + excluded.failed,
        attempts = attempts + excluded.attempts, post_count = post_count + excluded.post_count"""
_DROP_MONTH = "DELETE FROM api_calls WHERE at >= :start AND at < :end"


@dataclass
class PruneCounts:
    """Rows removed (or, in a dry run, that would be) per kind."""

    snapshots: int = 0
    runs: int = 0
    hours: int = 0
    days_rolled_up: int = 0
    days: int = 0
    calls: int = 0
    months_summed: int = 0
    posts: int = 0
    post_rows: int = 0  # the forgotten Posts' measurements and refresh times

    @property
    def removed(self) -> int:
        removed = self.snapshots + self.runs + self.hours + self.days + self.calls
        return removed + self.posts + self.post_rows


class _DryRun(Exception):
    """Raised inside a slice's transaction to undo it after counting."""


def prune(
    db: Db,
    transaction: Transaction,
    *,
    now: datetime,
    policy: RetentionSettings,
    dry_run: bool = False,
    slice_posts: int = POSTS_PER_SLICE,
) -> PruneCounts:
    """Apply `policy` at `now`, a slice per transaction; the rows removed (or to be)."""
    cut = Cutoffs.at(now, policy)
    counts = PruneCounts()
    for first, last in post_slices(db, slice_posts):
        _in_slice(transaction, dry_run, partial(_prune_posts, db, cut, first, last, counts))
    for month in [row[0] for row in db.rows(_MONTHS_TO_SUM, {"calls": cut.calls})]:
        _in_slice(transaction, dry_run, partial(_sum_month, db, month, counts))
    return counts


def _in_slice(transaction: Transaction, dry_run: bool, work: Callable[[], None]) -> None:
    try:
        with transaction():
            work()
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass


def post_slices(db: Db, size: int = POSTS_PER_SLICE) -> Iterator[tuple[str, str]]:
    """[first, last] Post IDs (text order) of consecutive slices of `size` Posts."""
    after = ""
    while True:
        rows = db.rows(
            "SELECT post_id FROM posts WHERE post_id > ? ORDER BY post_id LIMIT ?", (after, size)
        )
        if not rows:
            return
        yield rows[0][0], rows[-1][0]
        after = rows[-1][0]


def _prune_posts(db: Db, cut: Cutoffs, first: str, last: str, counts: PruneCounts) -> None:
    bounds = {"first": first, "last": last}
    _forget(db, cut, bounds, counts)
    counts.snapshots += db.execute(
        _THIN_TOTALS, {**bounds, "daily": cut.daily_snapshots, "weekly": cut.weekly_snapshots}
    ).rowcount
    counts.runs += db.execute(_OLD_RUNS, {**bounds, "runs": cut.runs}).rowcount
    hourly = {**bounds, "hourly": cut.hourly}
    counts.days_rolled_up += days.write(db, db.rows(_ROLL_UP, hourly), replace=False)
    counts.hours += db.execute(_OLD_HOURS, hourly).rowcount
    db.execute(_OLD_SPANS, hourly)
    db.execute(_TRIM_SPANS, hourly)
    counts.days += _thin_days(db, {**bounds, "daily": cut.daily})


def _thin_days(db: Db, params: dict[str, object]) -> int:
    """Old days' values gone (each (Post, metric)'s last old one kept), then empty rows."""
    metrics = days.ORDERED
    counts = ", ".join(f"COUNT({days.value(metric)})" for metric in metrics)
    (old,) = db.rows(_OLD_VALUES.format(counts=counts), params)
    thinned = 0
    for metric, values in zip(metrics, old, strict=True):
        if values > 1:
            forget, value = days.forget_before(metric), days.value(metric)
            sql = _OLD_DAYS.format(forget=forget, value=value, later=days.value(metric, "later"))
            thinned += db.execute(sql, params).rowcount
    db.execute(_EMPTY_DAYS, params)
    return thinned


def _forget(db: Db, cut: Cutoffs, bounds: dict[str, str], counts: PruneCounts) -> None:
    unused = [row[0] for row in db.rows(_UNUSED, {**bounds, "forget": cut.forget})]
    if not unused:
        return
    ids = "post_id IN (SELECT value FROM json_each(?))"
    for table in FORGETTABLE:
        removed = db.execute(f"DELETE FROM {table} WHERE {ids}", (json_list(unused),)).rowcount
        if table == "posts":
            counts.posts += removed
        else:
            counts.post_rows += removed


def _sum_month(db: Db, month: str, counts: PruneCounts) -> None:
    start, end = month_range(month)
    params = {"month": month, "start": start, "end": end}
    db.execute(_SUM_MONTH, params)
    counts.calls += db.execute(_DROP_MONTH, {"start": start, "end": end}).rowcount
    counts.months_summed += 1
