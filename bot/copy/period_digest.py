"""Every sentence of the weekly and monthly reports and of their `digest weekly|monthly`
settings, as small functions of the values they mention."""

from __future__ import annotations

from datetime import date

from bot.copy.parse import WEEKDAY_NAMES

_NOUN = {"weekly": "week", "monthly": "month"}
_TITLE = {"weekly": "Weekly report", "monthly": "Monthly report"}
SETTINGS_NAME = "the weekly and monthly reports"  # who may change them: copy.errors.not_allowed
TOP_TITLE = {"weekly": "*Top Posts of the week*", "monthly": "*Top Posts of the month*"}


def span_label(first: date, last: date) -> str:
    """ "Mon 23 Nov – Sun 29 Nov 2026"; a whole month: "November 2026"."""
    following = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    if first.day == 1 and (following - last).days == 1 and first.month == last.month:
        return first.strftime("%B %Y")
    return f"{first:%a %d %b} – {last:%a %d %b %Y}"


def title(period: str, first: date, last: date) -> str:
    return f"{_TITLE[period]} · {span_label(first, last)}"


def scope(posts: int, zone: str, previous: str) -> str:
    noun = "Post" if posts == 1 else "Posts"
    return f"{posts:,} owned {noun} · local days in {zone} · compared with {previous}"


def vs_previous(period: str) -> str:
    return f"vs previous {_NOUN[period]}"


def rate_compared(period: str, now: str, before: str) -> str:
    return f"*Engagement rate*  {now}\n{before} the previous {_NOUN[period]}"


def by_day(sparkline: str, new_posts: int) -> str:
    posted = "1 new Post" if new_posts == 1 else f"{new_posts:,} new Posts"
    return f"Impressions by day `{sparkline}` · {posted}"


def quiet(period: str, first: date, last: date, posts: int) -> str:
    what = "no owned Posts to report on" if posts == 0 else "no impressions or engagements"
    return f"Quiet {_NOUN[period]} ({span_label(first, last)}): {what}."


def fallback(period: str, first: date, last: date, impressions: str, change: str) -> str:
    return f"{title(period, first, last)}: {impressions} impressions ({change})"


def period_total(metric_count: str, noun: str) -> str:
    return f"{metric_count} {noun}"


# -- `/engagement digest weekly|monthly …` ----------------------------------------------------


def weekly_on(weekday: int, at: str, zone: str, covers: str) -> str:
    return (
        f"Weekly report on: every {WEEKDAY_NAMES[weekday]} at {at} {zone}, covering the 7 days "
        f"before and comparing them with the 7 days before those. {covers}"
    )


def monthly_on(day: int, at: str, zone: str, covers: str) -> str:
    shorter = " (or the month's last day)" if day > 28 else ""
    return (
        f"Monthly report on: on day {day}{shorter} of every month at {at} {zone}, covering the "
        f"previous calendar month and comparing it with the month before. {covers}"
    )


def period_off(period: str, existed: bool) -> str:
    if not existed:
        return f"This channel has no {period} report."
    return f"{_TITLE[period]} off for this channel."
