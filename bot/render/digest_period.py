"""The weekly and monthly reports as a Message: pure functions of what
`bot.channels.digest_periods` gathered. Totals of the period with their change against the
period before, the engagement rate, impressions by day, and the top Posts of the period, in
the channel's digest zone (named in the message). Metadata carries a marker (channel, period,
first day) so a restarted run finds a report it posted but did not record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from bot.copy import period_digest as copy
from bot.copy.channel import left_out
from bot.copy.digest import LATE_NOTE, no_series
from bot.copy.words import metric_label, metric_noun
from bot.engagement.query import AccountProblem
from bot.render.digest import METRICS, PostLine
from bot.render.kit import (
    Authors,
    Block,
    context,
    divider,
    escape,
    fields,
    header,
    post_link,
    section,
)
from bot.render.message import Message
from bot.render.numbers import delta, engagement_rate, exact, human, percent_of, sparkline

EVENT_TYPE = "engagement_period_digest"


@dataclass(frozen=True)
class PeriodData:
    channel_id: str
    period: str  # "weekly" | "monthly"
    first: date  # the local days reported on, both included
    last: date
    previous_first: date  # the period compared with
    previous_last: date
    zone: str
    post_ids: tuple[str, ...]  # Posts whose numbers are summed
    totals: Mapping[str, int]
    previous: Mapping[str, int]
    by_day: Mapping[date, int]  # impressions per local day of the period
    new_posts: int  # Posts created during the period
    top: tuple[PostLine, ...]
    left_out: int = 0
    authors: Authors = field(default_factory=dict)
    skipped: tuple[tuple[str, AccountProblem], ...] = ()
    unknown_authors: int = 0

    @property
    def quiet(self) -> bool:
        return not self.new_posts and not any(self.totals.get(m, 0) for m in METRICS)


def period_marker(channel_id: str, period: str, first: date) -> str:
    """The hidden marker a report's metadata carries (and find_posted looks for)."""
    return f"engagement-{period}:{channel_id}:{first.isoformat()}"


def period_message(data: PeriodData, *, late: bool = False) -> Message:
    """The channel message for `data` (never ephemeral)."""
    previous = copy.span_label(data.previous_first, data.previous_last)
    if data.quiet:
        text = copy.quiet(data.period, data.first, data.last, len(data.post_ids))
        blocks: list[Block] = [section(text)]
    else:
        text = _fallback(data)
        blocks = [
            header(copy.title(data.period, data.first, data.last)),
            context(copy.scope(len(data.post_ids), data.zone, previous)),
            *fields(_kpis(data)),
            section(copy.by_day(sparkline(_days(data)), data.new_posts)),
        ]
        if data.top:
            blocks += [divider(), section(_top(data))]
    if data.left_out:
        blocks.append(context(no_series(data.left_out)))
    if data.skipped or data.unknown_authors:
        accounts = [(escape("@" + h.lstrip("@")), why) for h, why in data.skipped]
        blocks.append(context(left_out(accounts, data.unknown_authors)))
    if late:
        blocks.append(context(LATE_NOTE))
    return Message(
        text=escape(text),
        blocks=tuple(blocks),
        ephemeral=False,
        metadata=_metadata(data),
    )


def _metadata(data: PeriodData) -> dict[str, Any]:
    mark = period_marker(data.channel_id, data.period, data.first)
    return {"event_type": EVENT_TYPE, "event_payload": {"marker": mark}}


def _rate(values: Mapping[str, int]) -> float | None:
    return engagement_rate(values.get("engagements", 0), values.get("impressions", 0))


def _kpis(data: PeriodData) -> list[str]:
    items = [
        f"*{metric_label(m)}*  {exact(data.totals.get(m, 0))}\n"
        f"{delta(data.totals.get(m, 0), data.previous.get(m, 0))} {copy.vs_previous(data.period)}"
        for m in METRICS
    ]
    now, before = percent_of(_rate(data.totals)), percent_of(_rate(data.previous))
    items.append(copy.rate_compared(data.period, now, before))
    return items


def _days(data: PeriodData) -> list[int]:
    count = (data.last - data.first).days + 1
    return [data.by_day.get(data.first + timedelta(days=n), 0) for n in range(count)]


def _top(data: PeriodData) -> str:
    lines = [copy.TOP_TITLE[data.period]]
    for line in data.top:
        numbers = " · ".join(
            copy.period_total(human(line.values.get(m, 0)), metric_noun(m))
            for m in ("impressions", "engagements", "favorites")
        )
        lines.append(f"• {post_link(line.post_id, data.authors)}: {numbers}")
    return "\n".join(lines)


def _fallback(data: PeriodData) -> str:
    impressions = data.totals.get("impressions", 0)
    change = delta(impressions, data.previous.get("impressions", 0))
    return copy.fallback(data.period, data.first, data.last, human(impressions), change)
