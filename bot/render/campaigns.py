"""Campaign reports, the campaign list, comparisons and the digest's Campaigns lines, as Slack
messages (pure). What they show comes from bot.channels.measure's Numbers, described here by
the `Measured` protocol (render sits below the use cases)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

from bot.copy import campaigns as say
from bot.copy import words
from bot.render import chart as charts
from bot.render.kit import (
    Authors,
    Block,
    Page,
    Part,
    code,
    context,
    divider,
    fields,
    header,
    paginate,
    post_link,
    section,
    simple,
)
from bot.render.message import Chart, Message
from bot.render.numbers import (
    NA,
    delta,
    engagement_rate,
    exact,
    human,
    percent_of,
    ratio,
    sparkline,
)
from bot.store.campaigns import Campaign

COLUMN = 14  # characters of a side's name in the comparison table


class Measured(Protocol):
    """What a measured set of Posts offers (bot.channels.measure.Numbers)."""

    @property
    def label(self) -> str: ...

    @property
    def post_ids(self) -> tuple[str, ...]: ...

    @property
    def owned(self) -> int: ...

    @property
    def metrics(self) -> tuple[str, ...]: ...

    @property
    def totals(self) -> Mapping[str, int | None]: ...

    @property
    def counted(self) -> Mapping[str, int]: ...

    @property
    def series(self) -> Mapping[str, Mapping[date, int]]: ...

    @property
    def top(self) -> tuple[tuple[str, int], ...]: ...

    @property
    def top_metric(self) -> str | None: ...

    @property
    def posts(self) -> int: ...

    @property
    def public_only(self) -> bool: ...

    @property
    def all_owned(self) -> bool: ...

    def partial(self, metric: str) -> bool: ...


# --- One campaign ------------------------------------------------------------------------------


def campaign_message(
    campaign: Campaign,
    numbers: Measured,
    *,
    start: date,
    end: date,
    first_post: date | None,
    authors: Authors,
    with_chart: bool,
) -> Message:
    """The campaign's report: how many Posts since when, lifetime totals (each Post once,
    labelled where private metrics cover only some Posts), top Posts, the daily trend."""
    title = say.report_title(campaign.name)
    if not numbers.posts:
        return simple(
            say.empty_campaign(campaign.name), [section(say.empty_campaign(campaign.name))]
        )
    blocks = [header(title), section(say.report_summary(numbers.posts, first_post, numbers.owned))]
    shown = [m for m in numbers.metrics if numbers.totals.get(m) is not None]
    blocks += fields([_figure(m, numbers) for m in shown], f"*{say.TOTALS_LIFETIME}*")
    notes = [
        say.owned_only(m, numbers.counted[m], numbers.posts) for m in shown if numbers.partial(m)
    ]
    if numbers.public_only:
        notes.append(say.campaign_public_only(campaign.name))
    if notes:
        blocks.append(context(*notes))
    if numbers.top and numbers.top_metric:
        blocks.append(section(_top_text(numbers, authors)))
    blocks.append(context(*_trend(numbers, start, end)))
    figures = ", ".join(_fallback_figure(m, numbers) for m in shown[:3])
    text = f"{title}: {words.posts_count(numbers.posts)}" + (f" · {figures}" if figures else "")
    chart = _report_chart(campaign.name, numbers) if with_chart else None
    return Message(text=text, blocks=tuple(blocks), ephemeral=True, chart=chart)


def _figure(metric: str, numbers: Measured) -> str:
    counted = numbers.counted.get(metric, 0)
    marker = f" _({say.of_posts(counted, numbers.posts)})_" if numbers.partial(metric) else ""
    return f"*{words.metric_label(metric)}*\n{exact(numbers.totals.get(metric))}{marker}"


def _fallback_figure(metric: str, numbers: Measured) -> str:
    value = numbers.totals.get(metric)
    return f"{human(value)} {words.metric_noun(metric, value)}"


def _top_text(numbers: Measured, authors: Authors) -> str:
    metric = numbers.top_metric or ""
    lines = [f"*{say.TOP_TITLE}* ({words.metric_noun(metric)})"]
    for rank, (post, value) in enumerate(numbers.top, start=1):
        lines.append(f"{rank}. {post_link(post, authors)} — {exact(value)}")
    return "\n".join(lines)


def _trend(numbers: Measured, start: date, end: date) -> list[str]:
    if not numbers.series:
        return [say.NO_SERIES]
    lines = [say.series_heading(start, end)]
    for metric, days in numbers.series.items():
        values = [days[d] for d in sorted(days)]
        lines.append(f"{words.metric_label(metric)} `{sparkline(values, 28)}` {exact(sum(values))}")
    return lines


def _report_chart(name: str, numbers: Measured) -> Chart | None:
    if not numbers.series:
        return None
    title = say.chart_title(name)
    panels = {words.metric_label_plain(m): dict(s) for m, s in numbers.series.items()}
    png = charts.series_chart(title, panels)
    return Chart(filename=f"campaign-{_slug(name)}.png", png=png, title=title)


def _slug(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_-]+", "-", name).strip("-")[:40] or "campaign"


# --- The list ----------------------------------------------------------------------------------


def campaigns_message(found: Sequence[Campaign]) -> Message:
    """The workspace's campaigns, one line each, paged within Slack's limits."""
    if not found:
        return simple(say.NO_CAMPAIGNS, [section(say.NO_CAMPAIGNS)])
    lines = [
        say.list_line(
            words.escape(c.name),
            c.posts,
            f"#{c.hashtag}" if c.hashtag else None,
            c.created_at.date(),
        )
        for c in found
    ]
    page = Page(
        title=say.CAMPAIGNS_TITLE,
        text=f"{say.CAMPAIGNS_TITLE}: {len(found)}",
        head=(header(say.CAMPAIGNS_TITLE),),
        parts=tuple(Part((section(line),), 1) for line in lines),
        nouns=("campaign", "campaigns"),
    )
    return paginate(page)


# --- A comparison ------------------------------------------------------------------------------


def compare_message(
    a: Measured,
    b: Measured,
    *,
    metrics: Sequence[str],
    start: date,
    end: date,
    rate: bool,
    notes: Sequence[str],
    with_chart: bool,
) -> Message:
    """Side by side: per metric A, B, the difference A − B and the ratio A / B; the
    engagement rate when both sides are owned; why a side shows public metrics only."""
    title = say.compare_title(a.label, b.label)
    rows = [("", a.label[:COLUMN], b.label[:COLUMN], "A − B", "A / B")]
    for metric in metrics:
        one, two = a.totals.get(metric), b.totals.get(metric)
        diff = None if one is None or two is None else one - two
        rows.append(
            (words.metric_column(metric), exact(one), exact(two), _signed(diff), _times(one, two))
        )
    if rate:
        r_a, r_b = _rate(a), _rate(b)
        rows.append(("Eng.rate", percent_of(r_a), percent_of(r_b), "", _times(r_a, r_b)))
    table = code(_columns(rows))
    posts = f"{words.posts_count(a.posts)} vs {words.posts_count(b.posts)}"
    blocks = [header(title), context(say.compare_period(start, end), posts), section(table)]
    if notes:
        blocks.append(context(*notes))
    chart = _compare_chart(title, a, b, metrics) if with_chart else None
    if chart is not None:
        lines = [say.no_side_series(n.label) for n in (a, b) if n.posts and not n.series]
        if lines:
            blocks.append(context(*lines))
    shown = metrics[0] if metrics else None
    summary = (
        f"{title}: {human(a.totals.get(shown))} vs {human(b.totals.get(shown))} "
        f"{words.metric_noun(shown)}"
        if shown
        else title
    )
    return Message(text=summary, blocks=tuple(blocks), ephemeral=False, chart=chart)


def _rate(numbers: Measured) -> float | None:
    return engagement_rate(numbers.totals.get("engagements"), numbers.totals.get("impressions"))


def _signed(value: int | None) -> str:
    if value is None:
        return NA
    return ("+" if value > 0 else "") + exact(value)


def _times(one: float | None, two: float | None) -> str:
    value = ratio(one, two)
    return NA if value is None else f"{value:.2f}×"


def _columns(rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]


def _compare_chart(title: str, a: Measured, b: Measured, metrics: Sequence[str]) -> Chart | None:
    drawn = [m for m in metrics if m in a.series or m in b.series][:3]
    if not drawn:
        return None
    panels = {
        words.metric_label_plain(m): (dict(a.series.get(m, {})), dict(b.series.get(m, {})))
        for m in drawn
    }
    png = charts.paired_chart(title, (a.label, b.label), panels)
    return Chart(filename=f"compare-{_slug(a.label)}-{_slug(b.label)}.png", png=png, title=title)


# --- The digest's section ----------------------------------------------------------------------


class CampaignDayRow(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def day(self) -> Mapping[str, int | None]: ...

    @property
    def before(self) -> Mapping[str, int | None]: ...


def digest_section(rows: Sequence[CampaignDayRow], more: int) -> list[Block]:
    """The digest's short Campaigns section: one line per campaign, yesterday's figure per
    metric and its change on the day before; none when the channel has no campaigns."""
    if not rows:
        return []
    lines = [say.DIGEST_TITLE]
    for row in rows:
        figures = ", ".join(
            f"{human(value)} {words.metric_noun(metric, value)}"
            f" ({delta(value, row.before.get(metric))})"
            for metric, value in row.day.items()
            if value is not None
        )
        lines.append(say.digest_line(words.escape(row.name), figures or say.PUBLIC_ONLY_DIGEST))
    if more:
        lines.append(say.digest_more(more))
    return [divider(), section("\n".join(lines))]
