"""`/engagement hourly` and `daily`: totals over the range, the peak, a sparkline, a compact
monospace table and a PNG chart."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.copy import reports, words
from bot.engagement.query import Report, Value
from bot.engagement.windows import unborn
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
    group_lines,
    header,
    paginate,
    post_link,
    post_name,
    post_plain,
    section,
)
from bot.render.message import Chart, Message
from bot.render.numbers import exact, human, percent, sparkline
from bot.render.report import Notes, as_of_line, metric_order, post_order, post_status

Bucket = datetime | date
Series = Mapping[Bucket, int | None]

TABLE_METRICS = 3  # columns that fit a phone
TABLE_ROWS = 92  # more buckets than this are rolled up (a week, a month…)
SPARK_WIDTH = 28
CHART_SERIES = 3
FALLBACK_METRICS = 3
PEAK_PREFERENCE = ("impressions", "engagements")


@dataclass(frozen=True)
class Zones:
    """Whose clock an hourly series is read on: a reply the channel sees (with a chart) in the
    channel's digest zone, one only the asker sees in the asker's Slack zone when known."""

    channel: ZoneInfo
    reader: ZoneInfo | None = None

    def pick(self, shared: bool) -> tuple[ZoneInfo, str]:
        if shared or self.reader is None:
            return self.channel, reports.CHANNEL_ZONE
        return self.reader, reports.READER_ZONE


def hourly_message(
    report: Report,
    *,
    authors: Authors,
    now: datetime,
    with_chart: bool = True,
    zones: Zones | None = None,
) -> Message:
    """Hour by hour (the last 28 hours for owned Posts), with a chart; hours in UTC, or on
    the clock `zones` picks (and names)."""
    return _series_message(report, authors, now, hourly=True, with_chart=with_chart, zones=zones)


def daily_message(
    report: Report, *, authors: Authors, now: datetime, with_chart: bool = True
) -> Message:
    """Day by day (X's UTC days) over the range asked for, with a chart."""
    return _series_message(report, authors, now, hourly=False, with_chart=with_chart)


def _series_message(
    report: Report,
    authors: Authors,
    now: datetime,
    *,
    hourly: bool,
    with_chart: bool,
    zones: Zones | None = None,
) -> Message:
    posts = post_order(report)
    metrics = metric_order(report)
    shared = with_chart and bool(_drawable(report, posts))
    zone, whose = zones.pick(shared) if zones and hourly else (ZoneInfo("UTC"), None)
    notes = Notes(posts=len(posts))
    parts: list[Part] = []
    for index, post in enumerate(posts):
        parts.extend(_post_parts(index, post, report, metrics, authors, notes, hourly, zone))
    if not posts:
        parts.append(Part((section(reports.NO_NUMBERS),)))
    buckets = sorted({b for p in report.series.values() for s in p.values() for b in s}, key=_at)
    title = _title(buckets, hourly, zone)
    drawn = _chart(report, posts, metrics, authors, hourly, zone) if shared else None
    times = reports.times_in(zone.key, whose) if whose else reports.UTC_TIMES
    line = as_of_line(report, now) + " · " + times
    head = (header(title), context(line + (" · " + reports.CHART_BELOW if drawn else "")))
    page = Page(
        title=title,
        text=_fallback(report, posts, metrics, authors, hourly, zone),
        head=head,
        parts=tuple(parts),
        tail=tuple(notes.block()),
    )
    # A series with a chart is shared: the chart is uploaded to the channel, so the numbers
    # beside it go there too; with nothing to draw, only the asker sees the reply.
    return paginate(page, ephemeral=drawn is None, chart=drawn)


def _post_parts(
    index: int,
    post: str,
    report: Report,
    metrics: Sequence[str],
    authors: Authors,
    notes: Notes,
    hourly: bool,
    zone: ZoneInfo,
) -> list[Part]:
    series = report.series.get(post, {})
    shown = [m for m in metrics if m in series]
    missing = [m for m in metrics if m not in series]
    title = f"*{post_link(post, authors)}*"
    opening = [divider()] if index else []
    status = post_status((report.missing.get((post, m)) for m in missing), len(shown))
    if status is not None:
        text = f"{title}\n{words.post_status(status)}"
        return [Part((*opening, section(text)), items=1)]
    for metric in missing:
        if (reason := report.missing.get((post, metric))) is not None:
            notes.add(post, metric, reason)
    columns = shown[:TABLE_METRICS]
    trend = _trend(series, columns, hourly)
    summary = fields(_summary(post, series, shown, hourly, notes, zone), title)
    first = [*opening, *summary, *([section("\n".join(trend))] if trend else [])]
    parts = [Part(tuple(first), items=1)]
    parts += [Part((block,)) for block in _table(post, series, columns, hourly, zone)]
    return parts


def _summary(
    post: str,
    series: Mapping[str, Series],
    shown: Sequence[str],
    hourly: bool,
    notes: Notes,
    zone: ZoneInfo,
) -> list[str]:
    """KPI fields: each metric's total over the range, the engagement rate, the peak."""
    items = []
    totals = {m: _total(post, series[m]) for m in shown}
    for metric, value in totals.items():
        notes.partial = notes.partial or value.partial
        figure = ("≥" if value.partial else "") + exact(value.count)
        items.append(f"*{words.metric_label(metric)}*\n{figure}")
    rate = _rate(totals)
    if rate is not None:
        items.append(f"*{reports.RATE_LABEL}*\n{rate}")
    peak = _peak(series, shown, hourly, zone)
    if peak is not None:
        items.append(f"*{reports.peak_label(hourly)}*\n{peak}")
    return items


def _trend(series: Mapping[str, Series], columns: Sequence[str], hourly: bool) -> list[str]:
    """A sparkline per table column, or a line saying nothing happened."""
    known = [v for m in columns for v in series[m].values() if v is not None]
    if known and not any(known):
        return [reports.quiet_range(hourly)]
    return [
        reports.trend_line(sparkline(_values(series[m]), SPARK_WIDTH), m)
        for m in columns
        if any(v is not None for v in series[m].values())
    ]


def _at(bucket: Bucket) -> datetime:
    """A bucket as an aware datetime, so hours and days sort together."""
    if isinstance(bucket, datetime):
        return bucket if bucket.tzinfo else bucket.replace(tzinfo=UTC)
    return datetime(bucket.year, bucket.month, bucket.day, tzinfo=UTC)


def _values(series: Series) -> list[int | None]:
    return [series[b] for b in sorted(series, key=_at)]


def _total(post: str, series: Series) -> Value:
    """The sum, partial when X left out buckets the Post lived through (hours before it was
    created hold nothing, so leaving them out keeps the sum whole)."""
    known = [v for v in series.values() if v is not None]
    lived = [b for b in series if not unborn(post, b)]
    partial = bool(known) and len(known) < len(lived)
    return Value(sum(known) if known else None, None, partial)


def _rate(totals: Mapping[str, Value]) -> str | None:
    engagements, impressions = totals.get("engagements"), totals.get("impressions")
    if engagements is None or impressions is None or not impressions.count:
        return None
    if engagements.count is None:
        return None
    return percent(engagements.count, impressions.count)


def _peak_metric(metrics: Sequence[str]) -> str | None:
    candidates = [m for m in PEAK_PREFERENCE if m in metrics] or list(metrics)
    return candidates[0] if candidates else None


def _peak_at(series: Series) -> tuple[Bucket, int] | None:
    best: tuple[Bucket, int] | None = None
    for bucket in sorted(series, key=_at):
        value = series[bucket]
        if value is not None and value > 0 and (best is None or value > best[1]):
            best = (bucket, value)
    return best


def _peak(
    series: Mapping[str, Series], metrics: Sequence[str], hourly: bool, zone: ZoneInfo
) -> str | None:
    metric = _peak_metric(metrics)
    found = _peak_at(series[metric]) if metric else None
    if metric is None or found is None:
        return None
    bucket, value = found
    figure = f"{exact(value)} {words.metric_noun(metric, value)}"
    return reports.peak_value(_when(bucket, hourly, zone), figure)


def _when(bucket: Bucket, hourly: bool, zone: ZoneInfo) -> str:
    at = _at(bucket).astimezone(zone) if hourly else _at(bucket)
    day = f"{at:%a} {at.day} {at:%b}"
    return f"{day} {at:%H}:00" if hourly and isinstance(bucket, datetime) else day


def _title(buckets: Sequence[Bucket], hourly: bool, zone: ZoneInfo) -> str:
    if not buckets:
        return reports.series_title(hourly, reports.NO_DATA, reports.NO_DATA)
    first, last = _at(buckets[0]), _at(buckets[-1])
    if hourly:
        first, last = first.astimezone(zone), last.astimezone(zone)
        return reports.series_title(
            hourly, f"{first.day} {first:%b %H}:00", f"{last.day} {last:%b %H}:00 {zone.key}"
        )
    return reports.series_title(hourly, f"{first.day} {first:%b %Y}", f"{last.day} {last:%b %Y}")


# --- The table ---------------------------------------------------------------------------------

Level = tuple[str, Callable[[datetime], datetime], Callable[[datetime], str]]
_LEVELS: tuple[Level, ...] = (
    ("hour", lambda t: t, lambda t: f"{t:%a %H}:00"),
    ("day", lambda t: t.replace(hour=0), lambda t: f"{t:%a} {t.day} {t:%b}"),
    (
        "week",
        lambda t: t.replace(hour=0) - timedelta(days=t.weekday()),
        lambda t: f"{t.day} {t:%b %Y}",
    ),
    ("month", lambda t: t.replace(day=1, hour=0), lambda t: f"{t:%b %Y}"),
    ("year", lambda t: t.replace(month=1, day=1, hour=0), lambda t: f"{t:%Y}"),
)


def _rows(
    post: str, series: Mapping[str, Series], columns: Sequence[str], hourly: bool, zone: ZoneInfo
) -> tuple[str, list[tuple[str, list[int | None]]]]:
    """(unit, rows): the finest level with at most TABLE_ROWS rows, each row's sums. Hours and
    days before the Post was created are no rows at all: it had no numbers then."""
    lived = {b for m in columns for b in series[m] if not unborn(post, b)}
    buckets = sorted({_at(b) for b in lived})
    cells = {m: {_at(b): v for b, v in series[m].items()} for m in columns}
    local = {at: at.astimezone(zone) if hourly else at for at in buckets}
    levels = _LEVELS if hourly else _LEVELS[1:]
    for unit, key, label in levels:  # noqa: B007 - the loop picks the level
        groups: dict[datetime, list[datetime]] = {}
        for at in buckets:
            wall = local[at].replace(minute=0, second=0, microsecond=0)
            groups.setdefault(key(wall), []).append(at)
        if len(groups) <= TABLE_ROWS or unit == "year":
            break
    rows = []
    for start, members in groups.items():
        sums: list[int | None] = []
        for metric in columns:
            known = [v for at in members if (v := cells[metric].get(at)) is not None]
            sums.append(sum(known) if known else None)
        rows.append((label(start), sums))
    return unit, rows


def _table(
    post: str, series: Mapping[str, Series], columns: Sequence[str], hourly: bool, zone: ZoneInfo
) -> list[Block]:
    if not columns:
        return []
    unit, rows = _rows(post, series, columns, hourly, zone)
    if not rows:
        return []
    width = max(len(label) for label, _ in rows)
    heading = " " * width + "".join(f"{words.metric_column(m):>7}" for m in columns)
    lines = [
        label.ljust(width) + "".join(f"{human(v):>7}" for v in values) for label, values in rows
    ]
    blocks = []
    if unit != ("hour" if hourly else "day"):
        blocks.append(context(reports.rolled_up(unit)))
    for chunk in group_lines(lines, limit=1_600):
        blocks.append(section(code([heading, *chunk.split("\n")])))
    return blocks


# --- Chart and fallback ------------------------------------------------------------------------


def _drawable(report: Report, posts: Sequence[str]) -> list[str]:
    return [
        p
        for p in posts
        if any(v is not None for s in report.series.get(p, {}).values() for v in s.values())
    ]


def _chart(
    report: Report,
    posts: Sequence[str],
    metrics: Sequence[str],
    authors: Authors,
    hourly: bool,
    zone: ZoneInfo,
) -> Chart | None:
    drawn = _drawable(report, posts)
    if not drawn:
        return None
    if len(drawn) == 1:
        post = drawn[0]
        shown = [m for m in metrics if m in report.series[post]][:CHART_SERIES]
        panels = {words.metric_label_plain(m): report.series[post][m] for m in shown}
        label = post_name(post, authors)
    else:
        metric = _peak_metric([m for m in metrics if any(m in report.series[p] for p in drawn)])
        chosen = [p for p in drawn if metric in report.series[p]][:CHART_SERIES]
        panels = {post_name(p, authors): report.series[p][metric] for p in chosen if metric}
        label = words.posts_count(len(drawn))
    title = reports.chart_title(hourly, label)
    png = charts.series_chart(title, panels, zone=zone)
    kind = "hourly" if hourly else "daily"
    safe = re.sub(r"[^0-9A-Za-z_-]", "", drawn[0])[:40] or "post"
    return Chart(filename=f"engagement-{kind}-{safe}.png", png=png, title=title)


def _fallback(
    report: Report,
    posts: Sequence[str],
    metrics: Sequence[str],
    authors: Authors,
    hourly: bool,
    zone: ZoneInfo,
) -> str:
    figures = []
    for metric in metrics:
        known = [
            v
            for p in posts
            for v in report.series.get(p, {}).get(metric, {}).values()
            if v is not None
        ]
        if known:
            total = sum(known)
            number = exact(total) if len(posts) == 1 else human(total)
            figures.append(f"{number} {words.metric_noun(metric, total)}")
    label = post_plain(posts[0], authors) if len(posts) == 1 else None
    subject = reports.series_subject(hourly, label, len(posts))
    peak = None
    if len(posts) == 1 and (series := report.series.get(posts[0])):
        top = _peak_metric([m for m in metrics if m in series])
        found = _peak_at(series[top]) if top else None
        if top and found:
            figure = f"{exact(found[1])} {words.metric_noun(top, found[1])}"
            when = _when(found[0], hourly, zone)
            peak = reports.peak_fallback(when, figure, zone=zone.key if hourly else None)
    return reports.series_fallback(subject, figures[:FALLBACK_METRICS], peak)
