"""Leaderboards: the top Posts by one metric over the last 24h/7d/28d/90d.

Owned Posts rank by X's daily series, kept in the store and refreshed first when stale; others
by the difference of their totals snapshots across the period.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.engagement.authors import Authors
from bot.engagement.knowledge import KnowledgeStore
from bot.engagement.models import PUBLIC_METRICS
from bot.engagement.query import EngagementQuery, Granularity, Report

PERIODS: Mapping[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "28d": timedelta(days=28),
    "90d": timedelta(days=90),
}

Ask = Callable[[EngagementQuery, datetime, str | None], Report]
"""How a leaderboard refreshes stale numbers: the service's report(query, now, workspace)."""


@dataclass(frozen=True)
class Ranked:
    """One leaderboard row: `value` over the period; `source` says where it came from."""

    post_id: str
    value: int
    source: str  # "daily" (owned: X's daily series) or "snapshots" (difference of totals)


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
        post_ids: Iterable[str],
        metric: str,
        *,
        period: str,
        limit: int,
        now: datetime,
        workspace: str | None = None,
    ) -> list[Ranked]:
        """The top `limit` Posts by `metric` over `period` (one of PERIODS)."""
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}")
        ids = list(dict.fromkeys(post_ids))
        since = now - PERIODS[period]
        self._authors.learn(ids, now=now, handles={})
        infos = self._store.posts.infos(ids)
        owners = self._store.accounts.connected_ids(workspace)
        owned = [i for i in ids if infos[i].author_id in owners]
        # Ranking a Post of unknown authorship by public snapshots would pass it off as
        # someone else's: it sits this board out (the caller says so) and is asked again next.
        left_out = self._authors.unknown_among(infos, owners) | frozenset(owned)
        others = [i for i in ids if i not in left_out]
        ranked = self._rank_owned(owned, metric, since, now, workspace) + self._rank_others(
            others, metric, since, now, workspace
        )
        ranked.sort(key=lambda r: (-r.value, int(r.post_id)))
        return ranked[:limit]

    def _rank_owned(
        self, ids: list[str], metric: str, since: datetime, now: datetime, workspace: str | None
    ) -> list[Ranked]:
        if not ids:
            return []
        refreshed = self._store.series.last_refreshed(ids, Granularity.DAY.value)
        stale = [
            i for i in ids if now - refreshed.get(i, since - timedelta(days=1)) > self._stale_after
        ]
        if stale:
            query = EngagementQuery(tuple(stale), (metric,), Granularity.DAY, since, now)
            self._ask(query, now, workspace)
        rows = self._store.series.leaderboard(
            metric,
            since=since.date(),
            until=now.date() + timedelta(days=1),
            post_ids=ids,
            limit=len(ids),
        )
        return [Ranked(post_id, value, "daily") for post_id, value in rows]

    def _rank_others(
        self, ids: list[str], metric: str, since: datetime, now: datetime, workspace: str | None
    ) -> list[Ranked]:
        # Snapshots are shared by every workspace: only public numbers may be read across.
        if not ids or metric not in PUBLIC_METRICS:
            return []
        latest = self._store.series.latest_totals(ids, [metric])
        stale = [
            i
            for i in ids
            if metric not in latest.get(i, {}) or now - latest[i][metric][1] > self._stale_after
        ]
        if stale:
            self._ask(EngagementQuery(tuple(stale), (metric,)), now, workspace)
            latest = self._store.series.latest_totals(ids, [metric])
        infos = self._store.posts.infos(ids)
        ranked = []
        for post_id in ids:
            if metric not in latest.get(post_id, {}):
                continue
            value = latest[post_id][metric][0]
            created = infos[post_id].created_at
            if created is None or created < since:
                before = self._store.series.totals_before(post_id, metric, since)
                if before is None:
                    continue  # no reading from the period's start: the difference is unknown
                value -= before[0]
            ranked.append(Ranked(post_id, max(value, 0), "snapshots"))
        return ranked
