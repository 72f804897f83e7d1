"""What a Report holds, arranged for display: Posts and metrics in order, and why numbers are
missing, grouped so a reason shared by twenty Posts is said once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.copy import messages
from bot.engagement.models import ALL_METRICS
from bot.engagement.query import Reason, Report, Value
from bot.render.kit import Block, clip, context, slack_date
from bot.render.numbers import engagement_rate, percent_of

NOTE_TEXT = 400  # per footnote, so eleven of them stay well inside a message's text budget
_ORDER = {metric: index for index, metric in enumerate(ALL_METRICS)}


def post_order(report: Report) -> list[str]:
    """The Posts asked for, in order, then any other Post the report mentions."""
    seen = [*report.query.post_ids, *report.totals, *report.series]
    seen += [post for post, _ in report.missing]
    return list(dict.fromkeys(seen))


def metric_order(report: Report) -> list[str]:
    """The metrics asked for, in order, then the others present, in the API's order."""
    asked = list(dict.fromkeys(report.query.metrics))
    present: set[str] = {m for values in report.totals.values() for m in values}
    present |= {m for values in report.series.values() for m in values}
    present |= {metric for _, metric in report.missing}
    extra = sorted(present - set(asked), key=lambda m: (_ORDER.get(m, len(_ORDER)), m))
    return asked + extra


def value_of(report: Report, post: str, metric: str) -> Value:
    """The total, or a missing Value carrying the reason the report gives for it."""
    value = report.totals.get(post, {}).get(metric)
    if value is not None and (value.count is not None or value.reason is not None):
        return value
    return Value(None, report.missing.get((post, metric)), False)


def rate_of(values: dict[str, Value]) -> str | None:
    """The engagement rate as "3.7%", when both numbers are known."""
    engagements, impressions = values.get("engagements"), values.get("impressions")
    if engagements is None or impressions is None:
        return None
    rate = engagement_rate(engagements.count, impressions.count)
    return None if rate is None else percent_of(rate)


@dataclass
class Notes:
    """Footnotes: for each reason, the metrics it hid and how many Posts; partial sums."""

    posts: int
    by_reason: dict[Reason, tuple[list[str], set[str]]] = field(default_factory=dict)
    partial: bool = False

    def add(self, post: str, metric: str, reason: Reason) -> None:
        metrics, posts = self.by_reason.setdefault(reason, ([], set()))
        if metric not in metrics:
            metrics.append(metric)
        posts.add(post)

    def lines(self) -> list[str]:
        lines = [
            clip(messages.missing_note(reason, metrics, len(posts), self.posts), NOTE_TEXT)
            for reason in Reason
            if reason in self.by_reason
            for metrics, posts in [self.by_reason[reason]]
        ]
        return lines + ([messages.PARTIAL_NOTE] if self.partial else [])

    def block(self) -> list[Block]:
        lines = self.lines()
        return [context(*lines)] if lines else []


def post_status(missing: Iterable[Reason | None], known: int) -> Reason | None:
    """The one reason a Post shows no number at all, when there is exactly one."""
    reasons = Counter(missing)
    if known or len(reasons) != 1:
        return None
    (reason,) = reasons
    return reason


def as_of_line(report: Report, now: datetime) -> str:
    line = messages.as_of(slack_date(report.fetched_at or now))
    return f"{line} · {messages.api_calls(report.calls_made)}" if report.calls_made else line
