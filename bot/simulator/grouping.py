"""The nesting of grouped engagement replies (docs/simulator.md#nesting).

The engine first computes one number per (Post, metric, bucket) — after the age-limit zeroing — and
`render` then folds that table into the nested objects a grouping asks for. Levels follow the
`group_by` order; a dimension that is not named is summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.engagement.models import GroupBy


@dataclass(frozen=True)
class Table:
    """Counts per available Post (ID string, request order) and metric (request order).

    `buckets[p][m]` lists one count per hour of the window (`hours`); `sums[p][m]` is their sum,
    or the lifetime value on /totals, where there are no buckets.
    """

    posts: tuple[str, ...]
    metrics: tuple[str, ...]
    sums: dict[str, dict[str, int]]
    buckets: dict[str, dict[str, list[int]]]
    days: tuple[str, ...]  # "YYYY-MM-DD" of each bucket
    hours: tuple[str, ...]  # "HH" of each bucket


def bucket_labels(start: datetime, count: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The day and hour keys of `count` hourly buckets from `start`."""
    instants = [start + timedelta(hours=j) for j in range(count)]
    return (
        tuple(t.strftime("%Y-%m-%d") for t in instants),
        tuple(t.strftime("%H") for t in instants),
    )


def render(levels: Sequence[GroupBy], table: Table) -> dict[str, Any]:
    """One grouping's object; `{}` when it is keyed by Post and no Post is available."""
    if GroupBy.TWEET_ID in levels and not table.posts:
        return {}
    return _Renderer(table).level(tuple(levels), table.posts, table.metrics, None, ())


# The time labels fixed by the outer levels, e.g. ((engagement.day, "2025-03-01"),). It determines
# which buckets are still selected, so it keys the cache of bucket groups.
_TimePath = tuple[tuple[GroupBy, str], ...]
_Groups = list[tuple[str, list[int]]]


class _Renderer:
    def __init__(self, table: Table) -> None:
        self.table = table
        self._groups: dict[tuple[GroupBy, _TimePath], _Groups] = {}

    def level(
        self,
        levels: tuple[GroupBy, ...],
        posts: tuple[str, ...],
        metrics: tuple[str, ...],
        idx: list[int] | None,  # the buckets still selected; None = all of them
        path: _TimePath,
    ) -> dict[str, Any]:
        head, rest = levels[0], levels[1:]
        if head is GroupBy.TWEET_ID:
            return {p: self.node(rest, (p,), metrics, idx, path) for p in posts}
        if head is GroupBy.ENGAGEMENT_TYPE:
            if not rest and len(posts) == 1 and idx is None:
                row = self.table.sums[posts[0]]  # the common /totals leaf, kept cheap
                return {m: str(row[m]) for m in metrics}
            return {m: self.node(rest, posts, (m,), idx, path) for m in metrics}
        groups = self.groups(head, idx, path)
        if rest:
            return {
                label: self.level(rest, posts, metrics, group, (*path, (head, label)))
                for label, group in groups
            }
        if len(posts) == 1 and len(metrics) == 1:
            series = self.table.buckets[posts[0]][metrics[0]]
            return {
                label: str(series[group[0]] if len(group) == 1 else sum([series[i] for i in group]))
                for label, group in groups
            }
        return {label: str(self.total(posts, metrics, group)) for label, group in groups}

    def node(
        self,
        levels: tuple[GroupBy, ...],
        posts: tuple[str, ...],
        metrics: tuple[str, ...],
        idx: list[int] | None,
        path: _TimePath,
    ) -> dict[str, Any] | str:
        if levels:
            return self.level(levels, posts, metrics, idx, path)
        return str(self.total(posts, metrics, idx))

    def total(self, posts: tuple[str, ...], metrics: tuple[str, ...], idx: list[int] | None) -> int:
        if idx is None:
            sums = self.table.sums
            return sum(sums[p][m] for p in posts for m in metrics)
        buckets = self.table.buckets
        return sum(buckets[p][m][i] for p in posts for m in metrics for i in idx)

    def groups(self, head: GroupBy, idx: list[int] | None, path: _TimePath) -> _Groups:
        """The selected buckets grouped by their day or hour label, labels ascending.

        Hour after a day: that day's hours. Hour without a day: hour-of-day sums over the window.
        A day after an hour: only the days that contain that hour.
        """
        key = (head, path)
        cached = self._groups.get(key)
        if cached is None:
            labels = self.table.days if head is GroupBy.ENGAGEMENT_DAY else self.table.hours
            grouped: dict[str, list[int]] = {}
            for i in range(len(labels)) if idx is None else idx:
                grouped.setdefault(labels[i], []).append(i)
            cached = self._groups[key] = sorted(grouped.items())
        return cached
