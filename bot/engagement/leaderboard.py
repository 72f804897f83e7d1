"""Leaderboards: the top Posts by one metric over the last 24h/7d/28d/90d.

Owned Posts rank by X's daily series, kept in the store and refreshed first when stale; others
by the difference of their totals snapshots across the period. The store ranks them and names
the stale ones in one statement (bot/store/boards.py), so a board over 100,000 Posts costs a
few statements and no work per Post here; only stale Posts go back to X.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from bot.engagement.authors import Authors
from bot.engagement.knowledge import KnowledgeStore
from bot.engagement.models import PUBLIC_METRICS
from bot.engagement.query import EngagementQuery, Granularity, Report
from bot.engagement.records import Board, PostSet, Ranked

PERIODS: Mapping[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "28d": timedelta(days=28),
    "90d": timedelta(days=90),
}

Ask = Callable[[EngagementQuery, datetime, str | None], Report]
"""How a leaderboard refreshes stale numbers: the service's report(query, now, workspace)."""


__all__ = ["PERIODS", "Ask", "Board", "Leaderboards", "PostSet", "Ranked"]


class Leaderboards:
    """Ranks Posts for the service; see the module docstring."""

    def __init__(
        self, *, store: KnowledgeStore, authors: Authors, ask: Ask, stale_after: timedelta
    ) -> None:
        self._store = store
        self._authors = authors
        self._ask = ask
        self._stale_after = stale_after

    def rank(
        self,
        post_ids: Iterable[str] | PostSet,
        metric: str,
        *,
        period: str,
        limit: int,
        now: datetime,
        workspace: str | None = None,
    ) -> Board:
        """The top `limit` Posts by `metric` over `period` (one of PERIODS), and those of
        unknown ownership left out."""
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}")
        # A channel's tracked Posts stay in the store (PostSet): no list of them passes here.
        ids = post_ids if isinstance(post_ids, PostSet) else PostSet(tuple(post_ids))
        since = now - PERIODS[period]
        self._authors.learn(ids, now=now, handles={})
        first = self._read(ids, metric, since, now, limit, workspace, check=True)
        if not (first.stale_daily or first.stale_snapshots or first.unknown):
            return first
        if first.stale_daily:
            query = EngagementQuery(first.stale_daily, (metric,), Granularity.DAY, since, now)
            self._ask(query, now, workspace)
        if first.stale_snapshots:
            self._ask(EngagementQuery(first.stale_snapshots, (metric,)), now, workspace)
        again = self._read(ids, metric, since, now, limit, workspace, check=False)
        return Board(again.rows, unknown=first.unknown)

    def _read(
        self,
        ids: PostSet,
        metric: str,
        since: datetime,
        now: datetime,
        limit: int,
        workspace: str | None,
        *,
        check: bool,
    ) -> Board:
        # Ranking a Post of unknown authorship by public snapshots would pass it off as
        # someone else's: it sits this board out (the caller says so) and is asked again next.
        # (The first read names those Posts, with the stale ones.)
        return self._store.series.board(
            ids,
            metric,
            owners=self._store.accounts.connected_ids(workspace),
            since=since,
            until=now.date() + timedelta(days=1),
            limit=limit,
            # Snapshots are shared by every workspace: only public numbers may be read across.
            public=metric in PUBLIC_METRICS,
            stale_before=now - self._stale_after if check else None,
        )
