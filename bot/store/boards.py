"""Leaderboards read in one statement, whatever the number of Posts: the top N only.

Each Post costs a few B-tree seeks inside SQLite and no Python: which side it is on (posts +
post_refusals, the rule in posts.SIDE); owned Posts the running totals of X's daily series just
before the period's end and start (`daily`'s primary key); others their newest totals snapshot
and the newest at or before the period's start (`totals`' primary key: changes-only or thinned
snapshots stay right). The same statement names the Posts whose numbers are too old to rank on
(refreshes' 'day' time; the newest reading's, totals_seen), so deciding what to refresh is no extra
statement per Post either.

A channel's tracked Posts are read by the statement itself (posts.CHOSEN: a PostSet naming the
channel), in Post ID order, so the seeks into each table move forward through it instead of
jumping about the file; no list of them is built in Python or handed over as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from bot.engagement.records import Board, PostSet, Ranked
from bot.engagement.snowflake import PRE_SNOWFLAKE_LIMIT, TWITTER_EPOCH_MS, UNIX_EPOCH
from bot.store import days
from bot.store.posts import SIDE, SOURCES, chosen, sided
from bot.store.sql import Db, instant, json_list

_NEWEST = """(SELECT {column} FROM totals AS t
    WHERE t.post_id = s.post_id AND t.metric = :metric {bound}
    ORDER BY t.taken_at DESC LIMIT 1)"""

# The metric sets naming :metric are found once per statement (a list subquery), not by a
# join and a text search per run of readings.
_SEEN = """(SELECT MAX(r.until) FROM totals_seen AS r
    WHERE r.post_id = v.post_id AND r.metric_set IN
        (SELECT m.id FROM metric_sets AS m WHERE instr(m.metrics, ',' || :metric || ',')))"""

_RUNNING_BEFORE = f"""(SELECT {{column}} FROM daily AS d
    WHERE d.post_id = s.post_id AND {days.running("d")} IS NOT NULL AND d.day < {{bound}}
    ORDER BY d.day DESC LIMIT 1)"""

# Created before the period's start: its snapshot at the start is subtracted (else it counts
# from 0). No stored time: the snowflake's; a pre-snowflake ID is older than any period.
_BORN_BEFORE = f"""CASE
    WHEN s.created_at IS NOT NULL THEN s.created_at < :since
    WHEN CAST(s.post_id AS INTEGER) < {PRE_SNOWFLAKE_LIMIT} THEN 1
    ELSE ((CAST(s.post_id AS INTEGER) >> 22) + {TWITTER_EPOCH_MS}) * 1000 < :since_us END"""

# Instants are fixed-width text (bot/store/sql.py): the newest snapshot's time and value travel
# as one string, one seek, cut apart one level up.
_WIDTH = len("2026-11-26T12:30:00.000000Z")


# Each level is a co-routine producing one row per Post, each expression (and seek) evaluated
# once: "LIMIT -1 OFFSET 0" keeps SQLite from flattening a level into the one above, which
# could evaluate its expressions again wherever a column is named (the final WHERE, ORDER BY
# and result all name `value`). With :check, Posts of unknown ownership come out too, flagged
# like stale ones (no value, nothing to rank them on): the caller says they were left out.
# `source` is one of posts.SOURCES: the Posts ranked.
def _stream(source: str) -> str:
    return f"""SELECT g, k, post_id, side,
    CASE side
        WHEN 'owned' THEN upto - COALESCE(before, 0)
        ELSE MAX(CAST(substr(newest, {_WIDTH + 1}) AS INTEGER) - base, 0) END AS value,
    -- Stale: read before :stale_before. Others were last read at their newest snapshot or,
    -- when the value had not changed, at their newest reading (snapshots are written only
    -- when a value changes; the readings' runs, totals_seen, say when: bot/store/snapshots.py)
    -- which is looked up only when the newest snapshot is not recent enough itself.
    CASE WHEN NOT :check THEN 0
        WHEN side = 'owned' THEN COALESCE(as_of, '') < :stale_before
        WHEN side = 'unknown' THEN 1
        WHEN COALESCE(substr(newest, 1, {_WIDTH}), '') >= :stale_before THEN 0
        ELSE COALESCE({_SEEN}, '') < :stale_before END AS stale
FROM (
    SELECT s.g AS g, s.k AS k, s.post_id AS post_id, s.side AS side,
        CASE s.side WHEN 'owned' THEN (SELECT f.refreshed_at FROM refreshes AS f
            WHERE f.post_id = s.post_id AND f.granularity = 'day') END AS as_of,
        -- Owned: the running total on the newest day before the end, if that day is in the
        -- period (else there is no day to rank on), minus the one before the start.
        CASE s.side WHEN 'owned' THEN {
        _RUNNING_BEFORE.format(
            column=f"CASE WHEN d.day >= :since_day THEN {days.running('d')} END",
            bound=":until_day",
        )
    } END AS upto,
        CASE s.side WHEN 'owned' THEN {
        _RUNNING_BEFORE.format(column=days.running("d"), bound=":since_day")
    } END AS before,
        -- Others: the newest snapshot minus the newest at or before the start (none: unknown,
        -- not ranked).
        CASE s.side WHEN 'other' THEN {
        _NEWEST.format(column="t.taken_at || t.value", bound="")
    } END AS newest,
        CASE WHEN s.side = 'other' AND {_BORN_BEFORE} THEN {
        _NEWEST.format(column="t.value", bound="AND t.taken_at <= :since")
    } ELSE 0 END AS base
    FROM (
        SELECT c.g AS g, c.k AS k, c.post_id AS post_id, NULLIF(p.created_at, '') AS created_at,
            {SIDE} AS side
        FROM {sided(source)}
        LIMIT -1 OFFSET 0
    ) AS s WHERE s.side = 'owned' OR (s.side = 'other' AND :public)
        OR (s.side = 'unknown' AND :check)
    LIMIT -1 OFFSET 0
) AS v
LIMIT -1 OFFSET 0"""


def _statements(source: str) -> tuple[str, str]:
    stream = _stream(source)
    # The top rows; flagged Posts (stale, or of unknown ownership) sort first, so one is the
    # first row if there are any.
    top = f"""SELECT post_id, value, side, stale FROM ({stream})
    WHERE stale OR value IS NOT NULL
    ORDER BY stale DESC, value DESC, length(post_id), post_id
    LIMIT :limit"""
    # Every flagged Post, in the order given (posts.CHOSEN).
    flagged = f"""SELECT post_id, side FROM ({stream}) WHERE stale ORDER BY g, k, post_id"""
    return top, flagged


# The board's statement and the flagged Posts' for each of posts.SOURCES, built once.
STATEMENTS = {source: _statements(source) for source in SOURCES}

_SOURCES = {"owned": "daily", "other": "snapshots"}


def board_query(
    ids: Iterable[str] | PostSet,
    metric: str,
    *,
    owners: Iterable[str],
    since: datetime,
    until: date,
    limit: int,
    public: bool,
    stale_before: datetime | None,
) -> tuple[str, str, dict[str, Any]]:
    """The SQL of `board`'s statement and of its flagged Posts', and their parameters (tests
    read their query plans)."""
    source, chosen_params = chosen(ids)
    top, flagged = STATEMENTS[source]
    return (
        top,
        flagged,
        {
            **chosen_params,
            "owners": json_list(sorted(owners)),
            "metric": metric,
            "since": instant(since),
            "since_us": (since - UNIX_EPOCH) // timedelta(microseconds=1),
            "since_day": days.number(since.date()),
            "until_day": days.number(until),
            "limit": limit,
            "public": public,
            "check": stale_before is not None,
            "stale_before": "" if stale_before is None else instant(stale_before),
        },
    )


def board(
    db: Db,
    ids: Iterable[str] | PostSet,
    metric: str,
    *,
    owners: Iterable[str],
    since: datetime,
    until: date,
    limit: int,
    public: bool,
    stale_before: datetime | None,
) -> Board:
    sql, flagged_sql, params = board_query(
        ids,
        metric,
        owners=owners,
        since=since,
        until=until,
        limit=limit,
        public=public,
        stale_before=stale_before,
    )
    first = db.rows(sql, params)
    if not first or not first[0][3]:
        return Board(tuple(Ranked(p, value, _SOURCES[side]) for p, value, side, _ in first))
    flagged = db.rows(flagged_sql, params)
    return Board(
        (),
        tuple(p for p, side in flagged if side == "owned"),
        tuple(p for p, side in flagged if side == "other"),
        tuple(p for p, side in flagged if side == "unknown"),
    )
