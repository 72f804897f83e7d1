"""What `totals`, `hourly`, `daily` and `top` answer: titles, rows, notes and fallbacks."""

from __future__ import annotations

from datetime import date

from bot.copy.words import (
    CONNECT,
    day_label,
    metric_noun,
    metric_word,
    period_label,
    posts_count,
)

UTC_TIMES = "Times in UTC"
READER_ZONE = "your Slack time zone"
CHANNEL_ZONE = "this channel's digest zone"


def times_in(zone: str, whose: str) -> str:
    """ "Times in Europe/Paris (your Slack time zone)"."""
    return f"Times in {zone} ({whose})"


RATE_LABEL = "Engagement rate"
PARTIAL_NOTE = "*≥* X doesn't serve part of this history, so the true number is at least this"
NO_NUMBERS = "No numbers came back for these Posts."
CHART_BELOW = "Chart below"
# Drawn inside an empty chart panel (plain text).
CHART_NO_DATA = "No data"
# In a title's range when there are no buckets.
NO_DATA = "no data"
SNAPSHOTS_NOTE = (
    "Posts from accounts that aren't connected count from the bot's own readings, "
    f"taken while this channel tracks them. {CONNECT} for X's exact numbers."
)


# --- Totals, hourly, daily ---------------------------------------------------------------------


def totals_title(posts: int) -> str:
    return "Engagement" if posts == 1 else f"Engagement · {posts_count(posts)}"


def rate_inline(rate: str) -> str:
    """After the engagements count in a compact row: "(3.7% rate)"."""
    return f"({rate} rate)"


def totals_fallback(subject: str, figures: list[str]) -> str:
    shown = " · ".join(figures) if figures else "no numbers available"
    return f"{subject}: {shown}"


def totals_subject(label: str | None, posts: int) -> str:
    """The fallback's subject: the Post's label for one Post, a count for several."""
    return label if label and posts == 1 else f"Engagement for {posts_count(posts)}, in all"


def continued(title: str, page: int, pages: int) -> str:
    return f"{title} (continued, {page} of {pages})"


def more_below(n: int, noun_one: str, noun_many: str, *, threaded: bool) -> str:
    noun = noun_one if n == 1 else noun_many
    where = "in the thread" if threaded else "in the next messages"
    return f"…and {n:,} more {noun} {where}"


def continued_below(*, threaded: bool) -> str:
    return "Continued in the thread" if threaded else "Continued in the next messages"


def series_title(hourly: bool, first: str, last: str) -> str:
    kind = "Hour by hour" if hourly else "Day by day"
    return f"{kind} · {first} – {last}" if first != last else f"{kind} · {first}"


def series_subject(hourly: bool, label: str | None, posts: int) -> str:
    kind = "Hour by hour" if hourly else "Day by day"
    return f"{kind} for {label}" if label else f"{kind} for {posts_count(posts)}, in all"


def series_fallback(subject: str, figures: list[str], peak: str | None) -> str:
    text = totals_fallback(subject, figures)
    return f"{text} · peak {peak}" if peak else text


def peak_label(hourly: bool) -> str:
    return "Peak hour" if hourly else "Peak day"


def peak_value(when: str, figure: str) -> str:
    return f"{when}\n{figure}"


def peak_fallback(when: str, figure: str, *, zone: str | None) -> str:
    return f"{when}{f' {zone}' if zone else ''} ({figure})"


def quiet_range(hourly: bool) -> str:
    return "No engagement in these hours." if hourly else "No engagement on these days."


def range_clipped(asked: date, floor: date) -> str:
    """Above a daily reply whose range asked for days before X's history begins."""
    return (
        f"You asked from {day_label(asked)}; X's engagement history starts on "
        f"{day_label(floor)}, so the days shown start there."
    )


def range_before_post(asked: date, created: date) -> str:
    """Above a daily reply whose range starts before the Post existed."""
    return (
        f"You asked from {day_label(asked)}; this Post was created on {day_label(created)}, "
        "so the days before it are left out (it had no numbers then)."
    )


def rolled_up(unit: str) -> str:
    """Above a table whose rows sum several buckets."""
    what = "week (from Monday)" if unit == "week" else unit
    return f"One row per {what}: too many to list one by one"


def trend_line(spark: str, metric: str) -> str:
    return f"`{spark}` {metric_noun(metric)}"


def chart_title(hourly: bool, label: str) -> str:
    return f"{'Hour by hour' if hourly else 'Day by day'}: {label}"


# --- Leaderboard -------------------------------------------------------------------------------


def leaderboard_title(metric: str, period: str) -> str:
    return f"Top Posts by {metric_noun(metric)} · {period_label(period)}"


def leaderboard_row(rank: str, value: str, metric: str, count: int, link: str) -> str:
    return f"{rank} *{value}* {metric_noun(metric, count)} · {link}"


def leaderboard_fallback(metric: str, period: str, leader: str | None, value: str) -> str:
    title = leaderboard_title(metric, period)
    return f"{title}: 1. {leader} with {value}" if leader else title


def leaderboard_empty(metric: str, period: str, covered: str) -> str:
    """`top` found no Post to rank; `covered` is the channel's `coverage`."""
    return (
        f"No Post to rank by {metric_noun(metric)} over the {period_label(period)}: "
        f"this channel covers {covered}."
    )


def leaderboard_no_readings(metric: str, period: str, posts: int) -> str:
    """An empty board although the channel covers Posts: none has a number for the period."""
    return (
        f"None of this channel's {posts_count(posts)} has {metric_noun(metric)} to rank over "
        f"the {period_label(period)} yet. Posts of accounts that aren't connected are ranked "
        "from the bot's own readings, which start when they are tracked: try a shorter period "
        f"(`/engagement top {metric_word(metric)} 10 24h`) later, or connect the account "
        f"({CONNECT}) for X's own numbers."
    )


def leaderboard_needs_connect(metric: str, period: str, posts: int) -> str:
    """`top impressions` over Posts none of which a connected account wrote."""
    noun = metric_noun(metric)
    return (
        f"X shows {noun} only for Posts of accounts connected to this workspace, and none of "
        f"this channel's {posts_count(posts)} is one. {CONNECT} links an account (signed in "
        f"as it); or rank by a public metric: `/engagement top likes 10 {period}` (likes, "
        "reposts, quotes, replies, video views)."
    )


def leaderboard_hint(metric: str) -> str:
    return f"Other periods: `/engagement top {metric_word(metric)} 10 24h|7d|28d|90d`"
