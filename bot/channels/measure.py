"""A set of Posts measured as one thing: the numbers behind a campaign's report and each side
of a comparison. Slack-free; every number comes through the one engagement service.

    totals  one TOTAL query over every Post, each once: the planner pools them into /totals
            calls of 250 per auth (owned ones with their owner's token, the rest app-only)
    series  one DAY query over the owned Posts only: X serves day-by-day numbers to the author
            alone, so asking for the others would only produce gaps
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from bot.channels.deps import Deps
from bot.engagement.models import LIMITS, PUBLIC_METRICS, SERIES_METRICS
from bot.engagement.query import EngagementQuery, Granularity, Report

# Metrics drawn day by day when none are named (the chart has room for this many panels).
DEFAULT_SERIES = ("impressions", "engagements", "favorites")
MAX_SERIES = 3
TOP_POSTS = 5


@dataclass(frozen=True)
class Period:
    """Days [start, end], both inclusive, UTC."""

    start: date
    end: date

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return (
            datetime.combine(self.start, time(), UTC),
            datetime.combine(self.end + timedelta(days=1), time(), UTC),
        )

    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class Numbers:
    """One set of Posts measured: sums of each metric over the Posts that have it, how many
    Posts each sum covers, the owned Posts' daily sums, and the top Posts by `top_metric`."""

    label: str
    post_ids: tuple[str, ...]
    owned: int
    metrics: tuple[str, ...]
    totals: Mapping[str, int | None] = field(default_factory=dict)
    counted: Mapping[str, int] = field(default_factory=dict)
    series: Mapping[str, Mapping[date, int]] = field(default_factory=dict)
    top: tuple[tuple[str, int], ...] = ()
    top_metric: str | None = None
    calls: int = 0

    @property
    def posts(self) -> int:
        return len(self.post_ids)

    @property
    def public_only(self) -> bool:
        """No Post by a connected account: X shows only the public metrics."""
        return self.owned == 0

    @property
    def all_owned(self) -> bool:
        return bool(self.post_ids) and self.owned == len(self.post_ids)

    def partial(self, metric: str) -> bool:
        """A private metric that covers only the connected accounts' Posts."""
        return metric not in PUBLIC_METRICS and 0 < self.counted.get(metric, 0) < self.posts


def measure(
    deps: Deps,
    label: str,
    post_ids: Iterable[str],
    *,
    metrics: Sequence[str],
    period: Period,
    now: datetime,
    workspace: str | None,
    handles: Mapping[str, str] | None = None,
) -> Numbers:
    """The Posts' numbers (each Post once); see the module docstring for the calls."""
    ids = tuple(dict.fromkeys(post_ids))
    if not ids:
        return Numbers(label, (), 0, tuple(metrics))
    report = deps.service.report(
        EngagementQuery(ids, tuple(metrics)), now=now, handles=handles, workspace=workspace
    )
    owners = deps.store.accounts.connected_ids(workspace)
    infos = deps.store.posts.infos(ids)
    owned = tuple(i for i in ids if infos[i].author_id in owners)
    totals, counted = sums(report, ids, metrics)
    series: dict[str, dict[date, int]] = {}
    calls = report.calls_made
    drawn = series_metrics(metrics)
    if owned and drawn:
        start, end = period.bounds
        query = EngagementQuery(
            owned, drawn, Granularity.DAY, max(start, LIMITS.historical_floor), end
        )
        daily = deps.service.report(query, now=now, workspace=workspace)
        series = daily_sums(daily, drawn, period)
        calls += daily.calls_made
    # Rank by a metric every Post has (likes, say, when some are not owned), else the first one
    # some have: the top list must not leave out whole Posts for want of their impressions.
    everyone = (m for m in metrics if counted.get(m) == len(ids))
    top_metric = next(everyone, next((m for m in metrics if counted.get(m)), None))
    return Numbers(
        label,
        ids,
        len(owned),
        tuple(metrics),
        totals,
        counted,
        series,
        top_posts(report, ids, top_metric),
        top_metric,
        calls,
    )


def series_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(m for m in metrics if m in SERIES_METRICS)[:MAX_SERIES]
    return chosen or DEFAULT_SERIES


def sums(
    report: Report, ids: Sequence[str], metrics: Sequence[str]
) -> tuple[dict[str, int | None], dict[str, int]]:
    """Per metric: the sum over the Posts that have a number (None: no Post has one), and how
    many Posts that is."""
    totals: dict[str, int | None] = {}
    counted: dict[str, int] = {}
    for metric in metrics:
        values = [
            value.count
            for post in ids
            if (value := report.totals.get(post, {}).get(metric)) is not None
            and value.count is not None
        ]
        counted[metric] = len(values)
        totals[metric] = sum(values) if values else None
    return totals, counted


def daily_sums(
    report: Report, metrics: Sequence[str], period: Period
) -> dict[str, dict[date, int]]:
    """Per metric, per day of the period: the sum over the Posts' daily values."""
    out: dict[str, dict[date, int]] = {m: dict.fromkeys(period.days(), 0) for m in metrics}
    for per_metric in report.series.values():
        for metric in metrics:
            days = out[metric]
            for bucket, value in per_metric.get(metric, {}).items():
                day = bucket.date() if isinstance(bucket, datetime) else bucket
                if value is not None and day in days:
                    days[day] += value
    return out


def top_posts(
    report: Report, ids: Sequence[str], metric: str | None, limit: int = TOP_POSTS
) -> tuple[tuple[str, int], ...]:
    if metric is None:
        return ()
    ranked = [
        (post, value.count)
        for post in ids
        if (value := report.totals.get(post, {}).get(metric)) is not None
        and value.count is not None
    ]
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return tuple(ranked[:limit])
