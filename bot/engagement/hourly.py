"""An hourly question answered from the store's settled hours where it can, and from X for
the rest (bot/engagement/settled.py says which hours are settled), merged in the query's order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.engagement.fetch import Fetcher
from bot.engagement.knowledge import KnowledgeStore
from bot.engagement.models import LIMITS
from bot.engagement.planner import series_refusal
from bot.engagement.query import EngagementQuery, Reason, Report
from bot.engagement.settled import reach, split
from bot.engagement.windows import hour_buckets, series_range


@dataclass(frozen=True)
class _Stored:
    """What the store answers: `whole` Posts entirely, those in `until` before that hour."""

    series: Mapping[str, Mapping[str, Mapping[datetime, int]]]
    whole: AbstractSet[str]
    until: Mapping[str, datetime]
    hours: list[datetime]


class Hourly:
    """Answers hourly questions for the service; see the module docstring."""

    def __init__(self, *, store: KnowledgeStore, fetcher: Fetcher) -> None:
        self._store = store
        self._fetcher = fetcher

    def answer(self, query: EngagementQuery, *, now: datetime, workspace: str | None) -> Report:
        """The hourly Report: settled hours from the store, only the rest from X."""
        known = self._reaches(query, now=now, workspace=workspace)
        if known is None:
            return replace(self._fetcher.fetch(query, now=now, workspace=workspace), query=query)
        start, end, reaches = known
        parts = split(reaches, query.post_ids, start, end)
        resume, fetch = dict(parts.resume), list(parts.fetch)
        whole = frozenset(parts.stored)
        if resume and not self._resuming_is_cheaper(query, resume, now=now, workspace=workspace):
            fetch = [p for p in query.post_ids if p not in whole]
            resume = {}
        until = {post: at for at, posts in resume.items() for post in posts}
        stored_ids = [*parts.stored, *until]
        rows = (
            self._store.series.hourly(stored_ids, query.metrics, start, end) if stored_ids else {}
        )
        fetched = [
            self._fetcher.fetch(
                replace(query, post_ids=posts, start=at), now=now, workspace=workspace
            )
            for at, posts in resume.items()
        ]
        if fetch:
            rest = replace(query, post_ids=tuple(fetch))
            fetched.append(self._fetcher.fetch(rest, now=now, workspace=workspace))
        stored = _Stored(rows, whole, until, hour_buckets(start, end))
        return combine(query, fetched, stored, now=now)

    def _reaches(
        self, query: EngagementQuery, *, now: datetime, workspace: str | None
    ) -> tuple[datetime, datetime, dict[str, datetime]] | None:
        """The query's hour range and, for each Post this workspace owns, how far into it the
        store's settled hours reach; None when the range is not one (the planner says why)."""
        try:
            start, end = series_range(
                query.granularity, query.start, query.end, now=now, limits=LIMITS
            )
        except ValueError:
            return None
        owners = self._store.accounts.connected_ids(workspace)
        infos = self._store.posts.infos(query.post_ids)
        servable = [
            post_id
            for post_id in query.post_ids
            if (info := infos.get(post_id)) is not None
            and info.author_id in owners
            and all(series_refusal(info, m, owned=True, now=now) is None for m in query.metrics)
        ]
        spans = self._store.series.hourly_spans(servable, query.metrics) if servable else {}
        return start, end, {p: reach(spans.get(p, {}), query.metrics, start, end) for p in servable}

    def _resuming_is_cheaper(
        self,
        query: EngagementQuery,
        resume: Mapping[datetime, tuple[str, ...]],
        *,
        now: datetime,
        workspace: str | None,
    ) -> bool:
        """Whether asking X for each group's missing tail takes no more calls than asking for
        those Posts' whole range (groups resuming at different hours batch separately)."""
        plan = self._fetcher.plan
        tails = sum(
            len(plan(replace(query, post_ids=posts, start=at), now=now, workspace=workspace).calls)
            for at, posts in resume.items()
        )
        everyone = tuple(p for posts in resume.values() for p in posts)
        whole = plan(replace(query, post_ids=everyone), now=now, workspace=workspace)
        return tails <= len(whole.calls)


def combine(
    query: EngagementQuery, fetched: Iterable[Report], stored: _Stored, *, now: datetime
) -> Report:
    """One hourly Report from X's answers and the store: a Post in `stored.whole` comes from
    the store; one in `stored.until` from the store before that hour and from X after it (a
    metric X failed to give stays missing, not half filled); the rest from X."""
    series: dict[str, dict[str, dict[datetime | date, int | None]]] = {}
    missing: dict[tuple[str, str], Reason] = {}
    answered: dict[str, Mapping[str, Mapping[datetime | date, int | None]]] = {}
    calls = 0
    for report in fetched:
        answered.update(report.series)
        missing.update(report.missing)
        calls += report.calls_made
    for post in query.post_ids:
        kept = stored.series.get(post, {})
        if post in stored.whole:
            series[post] = {m: _kept(kept, m, stored.hours) for m in query.metrics}
        elif post in stored.until:
            tail = answered.get(post, {})
            before = [h for h in stored.hours if h < stored.until[post]]
            joined = {
                metric: {**_kept(kept, metric, before), **tail[metric]}
                for metric in query.metrics
                if metric in tail and (post, metric) not in missing
            }
            if joined:
                series[post] = joined
        elif post in answered:
            series[post] = {m: dict(buckets) for m, buckets in answered[post].items()}
    return Report(query, series=series, missing=missing, calls_made=calls, fetched_at=now)


def _kept(
    kept: Mapping[str, Mapping[datetime, int]], metric: str, hours: Iterable[datetime]
) -> dict[datetime | date, int | None]:
    """The stored buckets of `metric` at these hours, 0 where no row is kept."""
    buckets = kept.get(metric, {})
    return {h: buckets.get(h, 0) for h in hours}
