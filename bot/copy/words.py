"""The words every surface shares: metric names, periods, counts, dates, and why a number is
missing (in a marketer's words; bot.engagement.query.explain is the engineer's)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from bot.engagement.query import Reason, explain

CONNECT = "`/engagement connect`"

# metric → (label, singular noun, plural noun, table column)
_METRICS: Mapping[str, tuple[str, str, str, str]] = {
    "impressions": ("Impressions", "impression", "impressions", "Impr"),
    "engagements": ("Engagements", "engagement", "engagements", "Eng"),
    "favorites": ("Likes", "like", "likes", "Likes"),
    "retweets": ("Reposts", "repost", "reposts", "Reposts"),
    "quote_tweets": ("Quotes", "quote", "quotes", "Quotes"),
    "replies": ("Replies", "reply", "replies", "Replies"),
    "video_views": ("Video views", "video view", "video views", "Views"),
    "media_views": ("Media views", "media view", "media views", "Media"),
    "media_engagements": ("Media engagements", "media engagement", "media engagements", "MedEng"),
    "url_clicks": ("Link clicks", "link click", "link clicks", "Clicks"),
    "hashtag_clicks": ("Hashtag clicks", "hashtag click", "hashtag clicks", "Tags"),
    "detail_expands": ("Detail expands", "detail expand", "detail expands", "Expands"),
    "permalink_clicks": ("Permalink clicks", "permalink click", "permalink clicks", "Perma"),
    "app_install_attempts": ("App installs", "app install", "app installs", "Installs"),
    "app_opens": ("App opens", "app open", "app opens", "Opens"),
    "email_tweet": ("Email shares", "email share", "email shares", "Emails"),
    "user_follows": ("Follows", "follow", "follows", "Follows"),
    "user_profile_clicks": ("Profile clicks", "profile click", "profile clicks", "Profile"),
}

# Why a number is missing, for a marketer; `explain()` is the engineer's version.
_REASONS: Mapping[Reason, str] = {
    Reason.NOT_OWNED: f"only for your connected accounts' Posts — {CONNECT}",
    Reason.UNAVAILABLE: "deleted, or unknown to X",
    Reason.PROTECTED: "a protected Post or account",
    Reason.IMPRESSIONS_TOO_OLD: "X keeps these for 90 days after posting",
    Reason.VIDEO_VIEWS_TOO_OLD: "X keeps these for 1,800 days after posting",
    Reason.NOT_RECORDED: "X has no record of these before 15 Sep 2015",
    Reason.NOT_SERVED: "X doesn't report these at this level of detail",
    Reason.BEFORE_FLOOR: "X's history starts on 1 Sep 2014",
    Reason.TOO_LONG: "too much history to fetch at once — try a shorter range",
    Reason.FAILED: "X didn't answer — try again in a few minutes",
    Reason.AUTHOR_UNKNOWN: "X didn't say who wrote it just now — try again in a few minutes",
    Reason.TIMED_OUT: "X is slow — these numbers are missing, try again in a minute",
}

_COMMAND_WORDS: Mapping[str, str] = {
    "favorites": "likes",
    "retweets": "reposts",
    "quote_tweets": "quotes",
}

_PERIODS: Mapping[str, str] = {
    "24h": "last 24 hours",
    "7d": "last 7 days",
    "28d": "last 28 days",
    "90d": "last 90 days",
}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- Words -------------------------------------------------------------------------------------


def metric_label(metric: str) -> str:
    """ "Likes" for favorites: X's current names, capitalised (unknown names escaped)."""
    known = _METRICS.get(metric)
    if known:
        return known[0]
    return escape(metric.replace("_", " ").strip().capitalize() or "?")


def metric_label_plain(metric: str) -> str:
    """The label for plain-text places outside Slack's mrkdwn (chart panels)."""
    known = _METRICS.get(metric)
    return known[0] if known else metric.replace("_", " ").strip().capitalize() or "?"


def metric_noun(metric: str, count: int | None = None) -> str:
    """ "likes" ("like" when count is 1), lower case, to follow a number."""
    known = _METRICS.get(metric)
    if known is None:
        return metric_label(metric).lower()
    return known[1] if count == 1 else known[2]


def metric_column(metric: str) -> str:
    """A short column heading for monospace tables (≤ 8 characters, shown verbatim)."""
    known = _METRICS.get(metric)
    return known[3] if known else escape(metric.replace("_", " ").strip().capitalize()[:8])


def metric_list(metrics: list[str]) -> str:
    """ "Impressions, engagements": labels joined, the first capitalised."""
    words = [metric_noun(m) for m in metrics]
    text = ", ".join(words)
    return text[:1].upper() + text[1:]


def period_label(period: str) -> str:
    return _PERIODS.get(period, f"last {period}")


def posts_count(n: int) -> str:
    return f"{n:,} Post" if n == 1 else f"{n:,} Posts"


LINK_IN_TEXT = "[link]"  # a link inside a Post's text, where its start names the Post


def post_label(handle: str | None, post_id: str, excerpt: str | None = None) -> str:
    """How a Post is named: "@alice · “Launch day…”", else "@alice · 1790000000000000001",
    "“Launch day…”" or "Post 1790000000000000001"."""
    said = f"“{excerpt}”" if excerpt else None
    if handle:
        return f"{handle} · {said or post_id}"
    return said or f"Post {post_id}"


def api_calls(n: int) -> str:
    return "1 API call" if n == 1 else f"{n:,} API calls"


def as_of(date_token: str) -> str:
    return f"As of {date_token}"


def month_label(month: str) -> str:
    """ "2026-11" → "November 2026"; anything else is shown as given."""
    try:
        return datetime.strptime(month, "%Y-%m").strftime("%B %Y")  # noqa: DTZ007 - a label
    except ValueError:
        return month


def day_label(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


# --- Why something is missing ------------------------------------------------------------------


def reason_phrase(reason: Reason) -> str:
    """Why numbers are missing, in words a marketer acts on."""
    return _REASONS.get(reason) or explain(reason)


def post_status(reason: Reason) -> str:
    """A Post with no numbers at all: the reason as a sentence."""
    phrase = reason_phrase(reason)
    return f"_{phrase[:1].upper()}{phrase[1:]}_"


def missing_note(reason: Reason, metrics: list[str], posts: int, of: int) -> str:
    """One footnote line covering every Post that misses numbers for the same reason."""
    where = "" if of <= 1 else (" (all Posts)" if posts == of else f" ({posts:,} of {of:,} Posts)")
    return f"*{metric_list(metrics)}*{where}: {reason_phrase(reason)}"


def metric_word(metric: str) -> str:
    """The word to type for a metric in a command ("likes" for favorites)."""
    return _COMMAND_WORDS.get(metric, metric)


def and_more(n: int) -> str:
    return f"…and {n:,} more"
