"""Every sentence a person reads in Slack, as small functions of the values they mention.

bot.slack.blocks composes these into Block Kit; keeping the copy here makes it reviewable in one
diff. Texts are Slack mrkdwn unless a name says `plain`; values that come from outside (handles,
metric names typed by people) arrive already escaped. Lines stay short: they are read on phones.
"""

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


# --- Sentences without values ------------------------------------------------------------------

# Reports
UTC_TIMES = "Times in UTC"
RATE_LABEL = "Engagement rate"
PARTIAL_NOTE = "*≥* X doesn't serve part of this history, so the true number is at least this"
NO_NUMBERS = "No numbers came back for these Posts."
CHART_BELOW = "Chart below"
# Drawn inside an empty chart panel (plain text).
CHART_NO_DATA = "No data"
SNAPSHOTS_NOTE = (
    "Posts from accounts that aren't connected count from the bot's own readings, "
    f"taken while this channel tracks them. {CONNECT} for X's exact numbers."
)

# Channel settings
TRACKED_TITLE = "Tracked in this channel"
TRACKED_EMPTY = (
    "This channel doesn't track anything yet.\n"
    "Add a Post with `/engagement track &lt;post link&gt;`, "
    "or an account with `/engagement track @handle`."
)
TRACKED_HINT = "Stop tracking: `/engagement untrack &lt;post link&gt;|@handle`"
ACCOUNTS_TITLE = "Connected X accounts"
ACCOUNTS_EMPTY = (
    "No X accounts are connected yet.\n"
    f"{CONNECT} links one: its Posts then show impressions, engagements "
    "and hour-by-hour numbers."
)
ACCOUNTS_HINT = f"Add: {CONNECT} · remove: `/engagement disconnect @handle`"
ALERTS_TITLE = "Alert rules in this channel"
ALERT_ALL_POSTS = "all owned Posts"
ALERTS_EMPTY = (
    "No alert rules here yet.\n"
    "Try `/engagement alert likes &gt; 100/h` or `/engagement alert spike`."
)
ALERTS_HINT = "Remove: `/engagement alert off &lt;id&gt;` · pause: `/engagement snooze 2h`"
USAGE_BILLING = "X bills per owner account: each connected account whose token made a call."

# Help
HELP_TITLE = "How to use /engagement"
HELP_EXAMPLES = "*Examples*"
HELP_POSTS = "A Post is its ID or its x.com link. Commands aren't case-sensitive."
HELP_FALLBACK = "How to use /engagement: totals, hourly, daily, top, track, digest, alerts…"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- Words -------------------------------------------------------------------------------------


def metric_label(metric: str) -> str:
    """ "Likes" for favorites: X's current names, capitalised (unknown names escaped)."""
    known = _METRICS.get(metric)
    if known:
        return known[0]
    return _escape(metric.replace("_", " ").strip().capitalize() or "?")


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
    return known[3] if known else _escape(metric.replace("_", " ").strip().capitalize()[:8])


def metric_list(metrics: list[str]) -> str:
    """ "Impressions, engagements": labels joined, the first capitalised."""
    words = [metric_noun(m) for m in metrics]
    text = ", ".join(words)
    return text[:1].upper() + text[1:]


def period_label(period: str) -> str:
    return _PERIODS.get(period, f"last {period}")


def posts_count(n: int) -> str:
    return f"{n:,} Post" if n == 1 else f"{n:,} Posts"


def post_label(handle: str | None, post_id: str) -> str:
    """How a Post is named in a link: "@alice · 1790000000000000001"."""
    return f"{handle} · {post_id}" if handle else f"Post {post_id}"


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


def peak_fallback(when: str, figure: str, *, utc: bool) -> str:
    return f"{when}{' UTC' if utc else ''} ({figure})"


def quiet_range(hourly: bool) -> str:
    return "No engagement in these hours." if hourly else "No engagement on these days."


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


def leaderboard_empty(metric: str, period: str) -> str:
    return (
        f"No tracked Posts have {metric_noun(metric)} in the {period_label(period)} yet.\n"
        "Track a Post with `/engagement track &lt;post link&gt;`, "
        "or an account with `/engagement track @handle`."
    )


def metric_word(metric: str) -> str:
    """The word to type for a metric in a command ("likes" for favorites)."""
    return _COMMAND_WORDS.get(metric, metric)


def leaderboard_hint(metric: str) -> str:
    return f"Other periods: `/engagement top {metric_word(metric)} 10 24h|7d|28d|90d`"


# --- Channel settings --------------------------------------------------------------------------


def tracked_posts(n: int) -> str:
    return f"*Posts* ({n:,})"


def tracked_accounts(n: int) -> str:
    return f"*Accounts* ({n:,}), all their new Posts"


def tracked_summary(posts: int, accounts: int) -> str:
    account_word = "account" if accounts == 1 else "accounts"
    return f"This channel tracks {posts_count(posts)} and {accounts:,} {account_word}."


def account_line(handle: str, since: str, shared: bool) -> str:
    extra = " · linked by the operator" if shared else ""
    return f"• *{handle}* · since {since}{extra}"


def accounts_summary(n: int) -> str:
    return "1 connected X account." if n == 1 else f"{n:,} connected X accounts."


def alert_threshold(rule_id: int, metric: str, threshold: str, target: str) -> str:
    return f"`#{rule_id}` {metric_label(metric)} above {threshold}/hour · {target}"


def alert_spike(rule_id: int, metric: str | None, sensitivity: str, target: str) -> str:
    what = f"{metric_noun(metric)} spikes" if metric else "Spikes"
    what = what[:1].upper() + what[1:]
    return f"`#{rule_id}` {what} ({sensitivity} sensitivity) · {target}"


def alert_other(rule_id: int, kind: str, target: str) -> str:
    return f"`#{rule_id}` {kind} · {target}"


def alerts_snoozed(until: str) -> str:
    return f"Snoozed until {until}"


def alerts_summary(n: int) -> str:
    return "1 alert rule in this channel." if n == 1 else f"{n:,} alert rules in this channel."


# --- Usage -------------------------------------------------------------------------------------

_ENDPOINTS: Mapping[str, str] = {
    "totals": "Totals",
    "28hr": "Last 28 hours",
    "historical": "History",
}


def endpoint_label(endpoint: str) -> str:
    return _ENDPOINTS.get(endpoint, endpoint)


def usage_title(month: str) -> str:
    return f"X API usage · {month_label(month)}"


def usage_endpoint(endpoint: str, calls: int, failed: int, retries: int) -> str:
    extra = [f"{failed:,} failed"] if failed else []
    extra += [f"{retries:,} retried"] if retries else []
    tail = f" ({', '.join(extra)})" if extra else ""
    return f"• {endpoint_label(endpoint)}: {api_calls(calls)}{tail}"


def usage_owners(n: int) -> str:
    word = "account" if n == 1 else "accounts"
    return f"*{n:,} owner {word}* made calls this month"


def usage_owner(handle: str, calls: int) -> str:
    return f"• {handle}: {api_calls(calls)}"


def usage_unnamed_owner(user_id: str) -> str:
    return f"account {user_id}"


def usage_summary(month: str, calls: int, owners: int) -> str:
    word = "owner account" if owners == 1 else "owner accounts"
    return f"{month_label(month)}: {api_calls(calls)}, {owners:,} {word}."


def usage_none(month: str) -> str:
    return f"No X API calls yet in {month_label(month)}."


def and_more(n: int) -> str:
    return f"…and {n:,} more"


# --- Help, errors, acknowledgements ------------------------------------------------------------


def error(text: str) -> str:
    return f"⚠️ {text}"


def usage_hint(line: str) -> str:
    return f"Usage: `{line}`"


def failure(reference: str) -> str:
    return f"Something went wrong on our side (ref {reference}). Try again in a minute."


def ack_text(subject: str | None = None) -> str:
    """The immediate reply while the real one is on its way (plain text)."""
    return f"Fetching {subject}…" if subject else "Fetching…"


def confirmed(text: str) -> str:
    return f"✅ {text}"


def x_slow(seconds: float, *, still_trying: bool) -> str:
    """A command X had not answered when its answer was due."""
    later = (
        " If the numbers still arrive, I'll post them here."
        if still_trying
        else " I've dropped this request; nothing was changed."
    )
    return (
        f"X is slow: I couldn't get an answer within {seconds:.0f} s. Try again in a minute.{later}"
    )


def x_timed_out() -> str:
    """A command that needed one answer from X (a lookup) which had not come in time."""
    return "X is slow: it didn't answer in time, so I have nothing to show. Try again in a minute."


def slack_busy(what: str, wait: float | None) -> str:
    """Slack would not say (rate limit, outage) whether someone may change `what`."""
    when = f"in about {max(1, round(wait))} s" if wait else "in a minute"
    return (
        f"Slack is busy, so I couldn't check whether you may change {what} here. Nothing was "
        f"changed; try again {when}."
    )


def not_allowed(what: str) -> str:
    """The refusal of a settings change to someone who may not make it."""
    return (
        f"Only workspace admins and the people listed in ENGAGEMENT_ADMINS can change {what} "
        "here. Ask one of them."
    )
