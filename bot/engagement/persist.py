"""What a fetch learned, saved in one transaction: the measurements, which settled hours are
now stored completely, the Posts X said are gone or protected, and the log of the calls."""

from __future__ import annotations

from datetime import datetime

from bot.engagement.executor import Execution
from bot.engagement.knowledge import KnowledgeStore
from bot.engagement.models import LIMITS
from bot.engagement.query import EngagementQuery, Granularity, Reason, Report
from bot.engagement.settled import settled_until
from bot.engagement.windows import hour_buckets, series_range
from bot.errors import EngagementAPIError


def remember(
    store: KnowledgeStore,
    query: EngagementQuery,
    report: Report,
    execution: Execution,
    *,
    now: datetime,
    workspace: str | None,
) -> None:
    """Save measurements, Post states and the call log (each call under the workspace it
    was made for) together, or not at all."""
    with store.transaction():
        if query.granularity is Granularity.TOTAL:
            store.series.save_readings(readings(report), taken_at=now)
        elif query.granularity is Granularity.HOUR:
            store.series.save_hourly_series(report.series, fetched_at=now)
            _note_settled(store, query, report, now)
        else:
            store.series.save_daily_series(report.series, fetched_at=now)
        _mark_states(store, report, execution, now)
        _log_calls(store, execution, now, workspace)


def readings(report: Report) -> dict[str, dict[str, int]]:
    """The totals X gave, {post: {metric: count}} (a gap is no reading, not a zero)."""
    found = {
        post: {metric: value.count for metric, value in values.items() if value.count is not None}
        for post, values in report.totals.items()
    }
    return {post: counts for post, counts in found.items() if counts}


def _note_settled(
    store: KnowledgeStore, query: EngagementQuery, report: Report, now: datetime
) -> None:
    """Remember which settled hours this report stored completely, per (Post, metric)."""
    start, end = series_range(query.granularity, query.start, query.end, now=now, limits=LIMITS)
    end = min(end, settled_until(now))
    hours = hour_buckets(start, end)
    if not hours:
        return
    complete = [
        (post, metric)
        for post, metrics in report.series.items()
        for metric, buckets in metrics.items()
        if (post, metric) not in report.missing and None not in map(buckets.get, hours)
    ]
    store.series.note_hourly_spans(complete, start=start, end=end)


def _mark_states(
    store: KnowledgeStore, report: Report, execution: Execution, now: datetime
) -> None:
    gone = sorted({p for (p, _), r in report.missing.items() if r is Reason.UNAVAILABLE})
    if gone:
        store.posts.mark(gone, state="deleted", now=now)
    if execution.protected:
        store.posts.mark(execution.protected, state="protected", now=now)


def _log_calls(
    store: KnowledgeStore, execution: Execution, now: datetime, workspace: str | None
) -> None:
    for outcome in execution.outcomes:
        store.usage.log_call(
            at=now,
            endpoint=outcome.call.endpoint.value,
            owner_id=outcome.call.owner,
            post_count=len(outcome.call.post_ids),
            status=_status_of(outcome.result is not None, outcome.error),
            attempts=outcome.attempts,
            workspace=workspace,
        )


def _status_of(answered: bool, error: EngagementAPIError | None) -> int:
    if answered:
        return 200
    return error.status if error is not None else 0
