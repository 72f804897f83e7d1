"""Leaderboards read in one statement, whatever the number of Posts: the top N only.

Each Post costs a few B-tree seeks inside SQLite and no Python: which side it is on (posts +
post_refusals, the rule in posts.SIDE); owned Posts the running totals of X's daily series just
before the period's end and start (`daily`'s primary key); others their newest totals snapshot
and the newest at or before the period's start (`totals`' primary key: changes-only or thinned
snapshots stay right). The same statement names the Posts whose numbers are too old to rank on
(refreshes' 'day' time; the newest snapshot's time), so deciding what to refresh is no extra
statement per Post either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from bot.engagement.records import Board, Ranked
from bot.engagement.snowflake import PRE_SNOWFLAKE_LIMIT, TWITTER_EPOCH_MS, UNIX_EPOCH
from bot.store.posts import CANDIDATES, SIDE
from bot.store.sql import Db, day, instant, json_list, post_ids

_NEWEST = """(SELECT t.{column} FROM totals AS t
    WHERE t.post_id = o.post_id AND t.metric = :metric {bound}
    ORDER BY t.taken_at DESC LIMIT 1)"""

# Created before the period's start: its snapshot at the start is subtracted (else it counts
# from 0). No stored time: the snowflake's; a pre-snowflake ID is older than any period.
_BORN_BEFORE = f"""CASE
    WHEN o.created_at IS NOT NULL THEN o.created_at < :since
    WHEN CAST(o.post_id AS INTEGER) < {PRE_SNOWFLAKE_LIMIT} THEN 1
    ELSE ((CAST(o.post_id AS INTEGER) >> 22) + {TWITTER_EPOCH_MS}) * 1000 < :since_us END"""

BOARD_SQL = f"""
WITH c AS MATERIALIZED {CANDIDATES},
side AS MATERIALIZED (
    SELECT c.k AS k, c.post_id AS post_id, {SIDE} AS side,
        NULLIF(p.created_at, '') AS created_at
    FROM c LEFT JOIN posts AS p ON p.post_id = c.post_id
),
owned AS MATERIALIZED (
    -- The newest day before the end, if it lies in the period (else: no day to rank on).
    SELECT o.k AS k, o.post_id AS post_id,
        (SELECT CASE WHEN d.day >= :since_day THEN d.running_total END FROM daily AS d
         WHERE d.post_id = o.post_id AND d.metric = :metric AND d.day < :until_day
         ORDER BY d.day DESC LIMIT 1) AS upto
    FROM side AS o WHERE o.side = 'owned'
),
others AS MATERIALIZED (
    SELECT o.k AS k, o.post_id AS post_id, o.created_at AS created_at,
        {_NEWEST.format(column="value", bound="")} AS latest,
        {_NEWEST.format(column="taken_at", bound="")} AS taken_at
    FROM side AS o WHERE o.side = 'other' AND :public
)
SELECT post_id, value, source, NULL FROM (SELECT * FROM (
    SELECT o.post_id AS post_id, o.upto - COALESCE(
            (SELECT d.running_total FROM daily AS d
             WHERE d.post_id = o.post_id AND d.metric = :metric AND d.day < :since_day
             ORDER BY d.day DESC LIMIT 1), 0) AS value, 'daily' AS source
    FROM owned AS o WHERE o.upto IS NOT NULL
    UNION ALL
    SELECT post_id, MAX(latest - base, 0), 'snapshots' FROM (
        SELECT o.post_id AS post_id, o.latest AS latest,
            CASE WHEN {_BORN_BEFORE}
                THEN {_NEWEST.format(column="value", bound="AND t.taken_at <= :since")}
                ELSE 0 END AS base
        FROM others AS o WHERE o.latest IS NOT NULL
    ) WHERE base IS NOT NULL)
    ORDER BY value DESC, length(post_id), post_id
    LIMIT :limit
)
UNION ALL
SELECT o.post_id, NULL, 'daily', o.k FROM owned AS o
WHERE :check AND COALESCE((SELECT f.refreshed_at FROM refreshes AS f
    WHERE f.post_id = o.post_id AND f.granularity = 'day'), '') < :stale_before
UNION ALL
SELECT o.post_id, NULL, 'snapshots', o.k FROM others AS o
WHERE :check AND COALESCE(o.taken_at, '') < :stale_before"""


def board_query(
    ids: Iterable[str],
    metric: str,
    *,
    owners: Iterable[str],
    since: datetime,
    until: date,
    limit: int,
    public: bool,
    stale_before: datetime | None,
) -> tuple[str, dict[str, Any]]:
    """The SQL and parameters of `board` (tests read its query plan)."""
    return BOARD_SQL, {
        "ids": json_list(post_ids(ids)),
        "owners": json_list(sorted(owners)),
        "metric": metric,
        "since": instant(since),
        "since_us": (since - UNIX_EPOCH) // timedelta(microseconds=1),
        "since_day": day(since.date()),
        "until_day": day(until),
        "limit": limit,
        "public": public,
        "check": stale_before is not None,
        "stale_before": "" if stale_before is None else instant(stale_before),
    }


def board(
    db: Db,
    ids: Iterable[str],
    metric: str,
    *,
    owners: Iterable[str],
    since: datetime,
    until: date,
    limit: int,
    public: bool,
    stale_before: datetime | None,
) -> Board:
    sql, params = board_query(
        ids,
        metric,
        owners=owners,
        since=since,
        until=until,
        limit=limit,
        public=public,
        stale_before=stale_before,
    )
    rows: list[Ranked] = []
    stale: dict[str, list[tuple[int, str]]] = {"daily": [], "snapshots": []}
    for post_id, value, source, k in db.rows(sql, params):
        if k is None:
            rows.append(Ranked(post_id, value, source))
        else:
            stale[source].append((k, post_id))
    return Board(
        tuple(rows),
        tuple(p for _, p in sorted(stale["daily"])),
        tuple(p for _, p in sorted(stale["snapshots"])),
    )
