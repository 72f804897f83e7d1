"""The daily digest as a Message: pure functions of the numbers `bot.channels.digest` gathered.

A day with numbers gets totals with their change against the day before and the 7-day average,
the engagement rate, an hourly sparkline, new Posts with their first-day numbers and the top
Posts; a quiet day gets one short line. Message metadata carries a marker (channel and date)
so a restarted run can find a digest it posted but did not record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.copy import digest as digest_copy
from bot.copy.channel import left_out
from bot.copy.words import metric_label
from bot.engagement.query import AccountProblem
from bot.render.buttons import TOP_PAGE, digest_actions
from bot.render.campaigns import CampaignDayRow, digest_section
from bot.render.chart import series_chart
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
    simple,
)
from bot.render.message import Chart, Message
from bot.render.numbers import delta, engagement_rate, exact, human, percent_of, sparkline

EVENT_TYPE = "engagement_digest"
METRICS = ("impressions", "engagements", "favorites", "retweets", "replies")
TOP_POSTS = TOP_PAGE
NEW_POSTS = 5


@dataclass(frozen=True)
class PostLine:
    """One Post's numbers over the digest's day."""

    post_id: str
    values: Mapping[str, int]


@dataclass(frozen=True)
class DigestData:
    """What a digest shows: sums over owned Posts' hour buckets, days in the channel's zone."""

    channel_id: str
    local_date: date
    zone: str
    post_ids: tuple[str, ...]  # Posts whose numbers are summed
    left_out: int  # Posts without hourly numbers (not owned, deleted…)
    totals: Mapping[str, int]
    day_before: Mapping[str, int]
    week_average: Mapping[str, float]  # the 7 days before the digest's day
    hourly: tuple[int, ...]  # impressions per local hour of the day
    new_posts: tuple[PostLine, ...]
    top: tuple[PostLine, ...]
    daily: Mapping[str, Mapping[date, int]] = field(default_factory=dict)  # for the chart
    authors: Authors = field(default_factory=dict)
    # Tracked accounts whose Posts could not be listed (handle, why): named in one line.
    skipped: tuple[tuple[str, AccountProblem], ...] = ()
    unknown_authors: int = 0  # Posts left out because X would not say who wrote them just now
    # The channel's campaigns on the day (bot.channels.campaigns.campaign_days) and how many
    # more there are: the Campaigns section (bot.render.campaigns.digest_section).
    campaigns: tuple[CampaignDayRow, ...] = ()
    more_campaigns: int = 0
    # Every active Post of the day, ranked as `top` is (its first TOP_POSTS): the pages that
    # the digest's More button shows and its CSV button uploads.
    ranked: tuple[PostLine, ...] = ()

    @property
    def quiet(self) -> bool:
        return not self.new_posts and not any(self.totals.get(m, 0) for m in METRICS)


def marker(channel_id: str, day: date) -> str:
    """The hidden marker a digest's metadata carries (and find_posted looks for)."""
    return f"engagement-digest:{channel_id}:{day.isoformat()}"


def metadata(channel_id: str, day: date) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"marker": marker(channel_id, day)}}


def digest_message(data: DigestData, *, late: bool = False, chart: bool = False) -> Message:
    """The channel message for `data`; with `chart`, a 28-day PNG to upload beside it."""
    if data.quiet:
        return quiet_message(data)
    blocks: list[Block] = [
        header(digest_copy.title(data.local_date)),
        context(
            digest_copy.scope(len(data.post_ids), data.zone),
            *([digest_copy.LATE_NOTE] if late else []),
        ),
        *fields(_kpis(data)),
        section(_hourly_line(data)),
    ]
    if data.new_posts:
        blocks += [divider(), section(_post_lines(digest_copy.NEW_TITLE, data.new_posts, data))]
    if data.top:
        blocks += [divider(), section(_post_lines(digest_copy.TOP_TITLE, data.top, data))]
    blocks += digest_section(data.campaigns, data.more_campaigns)
    if data.left_out:
        blocks.append(context(digest_copy.no_series(data.left_out)))
    if data.skipped or data.unknown_authors:
        blocks.append(context(_skipped(data)))
    blocks.append(digest_actions(data.local_date, 0, more=len(data.ranked) > TOP_POSTS))
    message = simple(_fallback(data), blocks, ephemeral=False)
    png = _chart(data) if chart else None
    return Message(
        text=message.text,
        blocks=message.blocks,
        ephemeral=False,
        chart=png,
        metadata=metadata(data.channel_id, data.local_date),
    )


def top_page(data: DigestData, offset: int) -> tuple[PostLine, ...]:
    """The digest's top Posts from `offset`, one page (TOP_POSTS) of them."""
    return data.ranked[offset : offset + TOP_POSTS]


def top_page_message(data: DigestData, offset: int) -> Message:
    """The More button's answer: the next page of the day's top Posts, with its own More
    (when there are further Posts) and CSV of the rows it shows."""
    page = top_page(data, offset)
    if not page:
        text = digest_copy.no_more_top(data.local_date)
        return Message(text=text, blocks=(section(text),), ephemeral=False)
    first, last = offset + 1, offset + len(page)
    title = digest_copy.top_page_title(data.local_date, first, last)
    more = len(data.ranked) > offset + TOP_POSTS
    blocks = (
        section(_post_lines(title, page, data, first=first)),
        digest_actions(data.local_date, offset, more=more),
    )
    return Message(text=title.strip("*"), blocks=blocks, ephemeral=False)


def quiet_message(data: DigestData) -> Message:
    """One short line (and one more naming the accounts left out, if any)."""
    text = digest_copy.quiet(data.local_date, len(data.post_ids))
    skipped = (context(_skipped(data)),) if data.skipped or data.unknown_authors else ()
    return Message(
        text=text,
        blocks=(section(text), *skipped),
        ephemeral=False,
        metadata=metadata(data.channel_id, data.local_date),
    )


def _skipped(data: DigestData) -> str:
    accounts = [(escape("@" + handle.lstrip("@")), why) for handle, why in data.skipped]
    return left_out(accounts, data.unknown_authors)


def _rate(values: Mapping[str, float]) -> float | None:
    return engagement_rate(round(values.get("engagements", 0)), round(values.get("impressions", 0)))


def _kpis(data: DigestData) -> list[str]:
    items = []
    for metric in METRICS:
        now = data.totals.get(metric, 0)
        before = data.day_before.get(metric, 0)
        average = round(data.week_average.get(metric, 0.0))
        items.append(
            f"*{metric_label(metric)}*  {exact(now)}\n"
            f"{delta(now, before)} {digest_copy.VS_DAY_BEFORE} · "
            f"{delta(now, average)} {digest_copy.VS_WEEK}"
        )
    rate = _rate(data.totals)
    rate_before, rate_week = _rate(data.day_before), _rate(data.week_average)
    items.append(
        digest_copy.rate_compared(percent_of(rate), percent_of(rate_before), percent_of(rate_week))
    )
    return items


def _hourly_line(data: DigestData) -> str:
    """The sparkline, and the local clock hour of the peak (hour 2 repeats when DST ends)."""
    if not any(data.hourly):
        return digest_copy.hourly(sparkline(list(data.hourly)), None)
    index = max(range(len(data.hourly)), key=lambda h: data.hourly[h])
    zone = ZoneInfo(data.zone)
    start = datetime.combine(data.local_date, time(), zone).astimezone(UTC)
    peak = (start + timedelta(hours=index)).astimezone(zone).hour
    return digest_copy.hourly(sparkline(list(data.hourly)), peak)


def _post_lines(
    title: str, posts: tuple[PostLine, ...], data: DigestData, *, first: int | None = None
) -> str:
    """Each Post's first-day numbers; numbered from `first` when given (a page of the top)."""
    lines = [title]
    for n, line in enumerate(posts):
        numbers = " · ".join(
            digest_copy.first_day(m, human(line.values.get(m, 0)))
            for m in ("impressions", "engagements", "favorites")
        )
        bullet = "•" if first is None else f"{first + n}."
        lines.append(f"{bullet} {post_link(line.post_id, data.authors)}: {numbers}")
    return "\n".join(lines)


def _fallback(data: DigestData) -> str:
    return digest_copy.fallback(
        data.local_date,
        human(data.totals.get("impressions", 0)),
        human(data.totals.get("engagements", 0)),
        percent_of(_rate(data.totals)),
    )


def _chart(data: DigestData) -> Chart | None:
    series = {
        metric_label(m): {day: count for day, count in data.daily[m].items()}
        for m in ("impressions", "engagements")
        if m in data.daily
    }
    if not series:
        return None
    png = series_chart(digest_copy.chart_title(data.local_date), dict(series))
    return Chart(
        filename=f"engagement-digest-{data.local_date.isoformat()}.png",
        png=png,
        title=digest_copy.chart_title(data.local_date),
    )
