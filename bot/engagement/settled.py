"""Settled hours: what the store already holds of an hourly question, so X is asked only for
the rest. X does not change an hour's numbers once the hour is over
(docs/simulator.md#settled-hours), so a stored span of completed hours answers any question
inside it.

    settled_until(now)            the end of the last hour counted as final
    reach(spans, metrics, s, e)   how far from `s` the stored spans cover every metric
    split(reaches, s, e)          Posts fully stored, and the others grouped by where X must start

Pure functions; the service does the reading and the fetching.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.engagement.windows import floor_hour

# X counts some engagement a little late; an hour that ended this recently is asked for again.
SETTLE_MARGIN = timedelta(minutes=10)

Span = tuple[datetime, datetime]


def settled_until(now: datetime) -> datetime:
    """The end of the last hour whose buckets X will not change any more."""
    return floor_hour(now - SETTLE_MARGIN)


def reach(
    spans: Mapping[str, Span], metrics: Iterable[str], start: datetime, end: datetime
) -> datetime:
    """How far from `start` (up to `end`) the stored spans cover every one of `metrics`;
    `start` itself when some metric's span does not begin by then."""
    covered = end
    for metric in metrics:
        span = spans.get(metric)
        if span is None or not span[0] <= start < span[1]:
            return start
        covered = min(covered, span[1])
    return covered


@dataclass(frozen=True)
class Split:
    """`stored`: Posts the store answers whole. `resume`: where X must start for Posts the
    store answers up to there (start → Posts). `fetch`: Posts X answers whole."""

    stored: tuple[str, ...] = ()
    resume: Mapping[datetime, tuple[str, ...]] = field(default_factory=dict)
    fetch: tuple[str, ...] = ()


def split(
    reaches: Mapping[str, datetime], post_ids: Iterable[str], start: datetime, end: datetime
) -> Split:
    """Sort `post_ids` by how far the store reaches into [start, end) for each (absent: not
    at all)."""
    stored: list[str] = []
    resume: dict[datetime, list[str]] = {}
    fetch: list[str] = []
    for post_id in post_ids:
        until = reaches.get(post_id, start)
        if until >= end:
            stored.append(post_id)
        elif until > start:
            resume.setdefault(until, []).append(post_id)
        else:
            fetch.append(post_id)
    return Split(tuple(stored), {u: tuple(p) for u, p in sorted(resume.items())}, tuple(fetch))
