"""Every sentence a person reads in Slack, as small functions of the values they mention.

bot.render.blocks composes these into Block Kit; keeping the copy here makes it reviewable in one
diff. Texts are Slack mrkdwn unless a name says `plain`; values that come from outside (handles,
metric names typed by people) arrive already escaped. Lines stay short: they are read on phones.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.engagement.query import AccountProblem, Reason, explain
from bot.errors import (
    AuthError,
    BadRequest,
    EngagementAPIError,
    Forbidden,
    ForbiddenMetrics,
    ForbiddenPosts,
    NotFound,
    ProtectedPosts,
    RateLimited,
    TimedOut,
)

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
ALERTS_EMPTY = (
    "No alert rules here yet.\n"
    "Try `/engagement alert likes &gt; 100/h` or `/engagement alert spike`."
)
ALERTS_HINT = "Remove: `/engagement alert off &lt;id&gt;` · pause: `/engagement snooze 2h`"
USAGE_BILLING = "X bills per owner account: each connected account whose token made a call."

# Connecting an X account (the notices in Slack; the pages in the browser)
CONNECT_PAGE_TITLE = "Connect an X account"
CONNECT_PAGE_TEXT = "X will ask you to approve the app for this Slack workspace."
CONNECT_PAGE_BUTTON = "Continue to X"
CONNECT_CANCELLED = "You cancelled connecting an X account: nothing was linked."


def x_connected(handle: str) -> str:
    """The requester's notice once X linked `handle` (escaped here: X chose the name)."""
    return (
        f"Connected X account @{_escape(handle.removeprefix('@'))} to this workspace: its Posts "
        "now show private metrics (impressions, hourly and daily series)."
    )


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


def metric_word(metric: str) -> str:
    """The word to type for a metric in a command ("likes" for favorites)."""
    return _COMMAND_WORDS.get(metric, metric)


def leaderboard_hint(metric: str) -> str:
    return f"Other periods: `/engagement top {metric_word(metric)} 10 24h|7d|28d|90d`"


# --- What a channel's answer had to leave out ------------------------------------------------

_ACCOUNT_PROBLEMS: Mapping[AccountProblem, str] = {
    AccountProblem.PROTECTED: "protected: X shows its Posts only to the account itself",
    AccountProblem.SUSPENDED: "suspended by X",
    AccountProblem.NOT_FOUND: "no longer on X",
    AccountProblem.X_FAILING: "X didn't answer — try again in a few minutes",
}


def left_out(accounts: Sequence[tuple[str, AccountProblem]], unknown_authors: int = 0) -> str:
    """One line: the tracked accounts (handles escaped, with @) and Posts an answer skipped,
    grouped by why."""
    groups: dict[AccountProblem, list[str]] = {}
    for handle, problem in accounts:
        groups.setdefault(problem, []).append(handle)
    parts = [f"{_some(handles)} ({_ACCOUNT_PROBLEMS[p]})" for p, handles in groups.items()]
    if unknown_authors:
        posts = f"{unknown_authors:,} Post{'s' if unknown_authors != 1 else ''}"
        parts.append(f"{posts} ({_REASONS[Reason.AUTHOR_UNKNOWN]})")
    return f"Left out: {'; '.join(parts)}."


def _some(handles: list[str], shown: int = 5) -> str:
    """A few handles, so the line stays one line however many accounts a channel tracks."""
    rest = len(handles) - shown
    return ", ".join(handles[:shown]) + (f" {and_more(rest)}" if rest > 0 else "")


def no_account(handle: str) -> str:
    return f"X has no account {handle}."


def track_refused(handle: str, problem: AccountProblem) -> str:
    """`track @handle` of an account whose Posts this workspace cannot read."""
    if problem is AccountProblem.PROTECTED:
        return (
            f"Can't track {handle}: it's a protected account, and X shows its Posts only to the "
            f"account itself. If it is yours, connect it with {CONNECT} (signed in as it), then "
            "track it."
        )
    if problem is AccountProblem.SUSPENDED:
        return f"Can't track {handle}: X has suspended the account."
    if problem is AccountProblem.NOT_FOUND:
        return no_account(handle)
    return f"Can't check {handle} on X right now — try again in a few minutes."


# --- Channel settings --------------------------------------------------------------------------


def tracked_posts(n: int) -> str:
    return f"*Posts* ({n:,})"


def tracked_accounts(n: int) -> str:
    return f"*Accounts* ({n:,}), all their new Posts"


# -- what a channel covers (bot.channels.coverage.channel_coverage) ---------------------------

COVERAGE_SHOWN = 5  # accounts named; more are counted


def coverage(
    posts: int, handles: Sequence[str], *, connected: bool, owned_only: bool = False
) -> str:
    """The one statement of what a channel's `top`, digest and channel-wide alerts cover, in
    every confirmation and listing; `handles` as shown ("@alice"), `connected`: the channel
    tracks nothing, so they are the workspace's connected accounts; `owned_only`: only Posts
    of connected accounts count (a channel-wide threshold rule)."""
    if not posts and not handles:
        return (
            f"nothing yet: connect an account ({CONNECT}) or track Posts or accounts here "
            "(`/engagement track`)"
        )
    named = list(handles[:COVERAGE_SHOWN])
    if len(handles) > COVERAGE_SHOWN:
        named.append(f"{len(handles) - COVERAGE_SHOWN} more")
    if connected:
        return (
            f"the Posts of the accounts connected to this workspace ({', '.join(named)})"
            " — this channel tracks nothing"
        )
    listed = ", ".join([*named, *([posts_count(posts)] if posts else [])])
    whose = "the connected accounts' Posts among " if owned_only else ""
    return f"{whose}this channel's tracked Posts and accounts ({listed})"


def channel_covers(covered: str) -> str:
    """Under `/engagement tracked`: what the channel's reports and alerts are about."""
    return f"`top`, the digest and this channel's alerts cover {covered}."


def digest_covers(covered: str) -> str:
    return f"It covers {covered}."


def alert_covers_nothing(covered: str) -> str:
    """A channel-wide rule in a channel covering no Post (`covered`): it could never fire."""
    return f"That alert could never fire: this channel covers {covered}. Then add it again."


def alert_threshold_owns_nothing(covered: str) -> str:
    """A channel-wide threshold rule where no covered Post can be a connected account's."""
    return (
        "That alert could never fire: a threshold for the whole channel counts only the Posts of "
        f"accounts connected to this workspace, and this channel covers {covered}. Connect the "
        f"account with {CONNECT}, or name the Post or @handle in the rule "
        "(`/engagement alert likes > 100/h @handle`)."
    )


def tracked_summary(posts: int, accounts: int) -> str:
    account_word = "account" if accounts == 1 else "accounts"
    return f"This channel tracks {posts_count(posts)} and {accounts:,} {account_word}."


def account_line(handle: str, since: str, shared: bool) -> str:
    extra = " · linked by the operator" if shared else ""
    return f"• *{handle}* · since {since}{extra}"


def accounts_summary(n: int) -> str:
    return "1 connected X account." if n == 1 else f"{n:,} connected X accounts."


def every_workspace_but(excluded: tuple[str, ...]) -> str:
    """Where an account linked for every workspace serves (the operator's `accounts list`)."""
    return f"all workspaces but {', '.join(excluded)}" if excluded else "all workspaces"


def not_connected_here(handle: str) -> str:
    return f"No connected account @{handle} in this workspace."


def disconnected(handle: str) -> str:
    return (
        f"Disconnected {handle}: its tokens are deleted. Its Posts now show public totals only "
        "(no impressions, no hourly or daily series)."
    )


def disconnected_here(handle: str) -> str:
    return (
        f"Disconnected {handle} from this workspace: its Posts here now show public totals "
        "only. It was linked by whoever runs the bot for every workspace, so it keeps serving "
        f"the others. {CONNECT} links it here again."
    )


# An alert rule is worded by these three alone, wherever it appears (the confirmation, the
# `alerts` listing, the alert message), so a rule reads the same in all of them.
def alert_threshold(metric: str, threshold: str, target: str) -> str:
    """ "Likes above 100/hour on @alice"."""
    return f"{metric_label(metric)} above {threshold}/hour on {target}"


def alert_spike(metric: str | None, sensitivity: str, target: str) -> str:
    """ "Spikes (high sensitivity) on the Posts of the accounts connected to …"."""
    what = f"{metric_noun(metric)} spikes" if metric else "Spikes"
    what = what[:1].upper() + what[1:]
    return f"{what} ({sensitivity} sensitivity) on {target}"


def alert_other(kind: str, target: str) -> str:
    return f"{kind[:1].upper()}{kind[1:]} on {target}"


def alert_listed(rule_id: int, rule: str) -> str:
    """One line of `/engagement alerts`."""
    return f"`#{rule_id}` {rule}"


def alert_added(rule_id: int, rule: str) -> str:
    return f"Alert #{rule_id}: {rule}."


def alert_fired_by(rule_id: int, rule: str) -> str:
    """Under a firing in the alert message: the rule that fired."""
    return f"alert #{rule_id}: {rule}"


def alert_duplicate(rule_id: int, rule: str) -> str:
    return (
        f"This channel already has that rule: alert #{rule_id}, {rule}. "
        "`/engagement alerts` lists the rules; `/engagement alert off <id>` removes one."
    )


def alert_private_metric(metric: str, whose: str, public: list[str]) -> str:
    """A rule on a metric only the author's own token can read, for Posts no connected account
    wrote: it could never fire."""
    return (
        f"That alert could never fire: X shows {metric_noun(metric)} only to the author's "
        f"connected account, and {whose} isn't connected to this workspace. Connect it with "
        f"{CONNECT} (signed in as that account), or alert on a public metric: "
        f"{', '.join(public)}."
    )


def alert_private_no_accounts(metric: str, public: list[str]) -> str:
    return (
        f"That alert could never fire: X shows {metric_noun(metric)} only for the Posts of "
        f"connected accounts, and this workspace has none. {CONNECT} links one; or alert on a "
        f"public metric: {', '.join(public)}."
    )


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


def help_needs(text: str) -> str:
    """Under one subcommand's help: what it relies on (an X endpoint, an account, a role)."""
    return f"_Needs:_ {text}"


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


# --- The database and its key (the operator's one-line reasons, and the Slack reply) -----------


def database_corrupt(path: str, detail: str) -> str:
    return f"{path} is not a SQLite database (or is corrupt): {detail}"


def database_read_only(path: str) -> str:
    return (
        f"{path} is read-only: the bot cannot write to it (check the permissions of the file "
        "and its directory, and whether the disk is mounted read-only)"
    )


def database_locked(path: str, seconds: float) -> str:
    return f"{path}: the database is locked by another process (waited {seconds:g} s)"


def database_full(path: str) -> str:
    return f"{path}: the disk is full (free some space; nothing was written)"


def database_unavailable(path: str, detail: str) -> str:
    return f"{path} cannot be used: {detail}"


def database_trouble(state: str, reference: str, *, transient: bool) -> str:
    """The Slack reply when the bot's database refused a command's write."""
    if transient:
        return (
            f"The bot's database is {state} right now — nothing was lost; try again in a "
            f"minute (ref {reference})."
        )
    return (
        f"The bot's database is {state}, so it can't save anything until whoever runs the bot "
        f"fixes it. Nothing was lost (ref {reference})."
    )


def key_missing(key_file: str, path: str, sealed: str) -> str:
    return (
        f"the key file {key_file} is missing, but {path} holds {sealed} sealed with it: restore "
        "the file (or set ENGAGEMENT_SECRET_KEY to its key); no new key was made"
    )


def key_mismatch(source: str, path: str, sealed: str) -> str:
    return (
        f"the secret key does not match the {sealed} sealed in {path} (the key comes from "
        f"{source}): restore the key they were sealed with (or list it after the new one)"
    )


def sealed_summary(counts: Mapping[str, int]) -> str:
    """ "X tokens of 2 account(s), 1 Slack installation record(s)": what a key opens."""
    return ", ".join(f"{noun} ({n})" for noun, n in counts.items() if n)


# --- The command line: `engagement-bot query` (plain text, for terminals and scripts) --------

EXIT_INCOMPLETE = 3  # `query`: some numbers are missing for a reason that may pass


def cli_query_exit_codes() -> str:
    """`query --help`'s epilog (wrapped for a terminal); the README's table says the same."""
    posts = (
        "Posts: IDs or links as arguments; - reads them from standard input and @FILE from a "
        "file, one a line (blank lines and # comments skipped); all can be mixed."
    )
    codes = [
        (
            0,
            "every number answered, or missing for a reason that stays true (not your connected "
            "account's Post, deleted, protected, older than X keeps it): the reason is printed "
            "with it",
        ),
        (1, "a failure before any number: settings, X credentials, the database"),
        (2, "a usage error: an unknown option, metric or date, a line that is not a Post"),
        (
            EXIT_INCOMPLETE,
            "some numbers are missing for a reason that may pass: X failed every retry, its "
            "rate limit stayed exhausted, or a Post's author could not be looked up. The "
            "numbers that came back are printed; run again later",
        ),
    ]
    lines = [*textwrap.wrap(posts, 78), "", "exit status:"]
    for code, text in codes:
        lines += textwrap.wrap(text, 78, initial_indent=f"  {code}  ", subsequent_indent="     ")
    return "\n".join(lines)


def cli_stdin_name() -> str:
    return "standard input"


def cli_stdin_twice() -> str:
    return "- (standard input) can be given once"


def cli_file_unreadable(name: str, why: str | None) -> str:
    return f"cannot read the Post list @{name}: {why or 'unreadable'}"


def cli_bad_line(source: str, line: int, error: str) -> str:
    return f"{source}, line {line}: {error}"


def cli_no_posts() -> str:
    return "no Posts given: pass IDs or links, - for standard input, or @FILE"


def cli_rate_wait(endpoint: str, seconds: float, left: int, calls: int) -> str:
    """One progress line on stderr while a query waits for X's rate-limit window."""
    return (
        f"waiting {seconds:.0f} s for X's rate-limit window on /{endpoint} "
        f"({left:,} of {calls:,} calls left)"
    )


def cli_lookups(lookups: int) -> str:
    """`--explain`: the author lookups made before planning (they are not engagement calls)."""
    if lookups == 0:
        return "author lookups: none needed"
    calls = "1 v2 call" if lookups == 1 else f"{lookups:,} v2 calls"
    return f"author lookups: {calls} to GET /2/tweets, app-only, made now (not engagement calls)"


def cli_authors_unknown(posts: int) -> str:
    """`--explain` after a failed lookup: the plan treats these Posts as not owned."""
    return (
        f"{posts_count(posts)} still without a known author (X did not answer the lookup): "
        "planned as not owned; the run looks them up again and may plan differently"
    )


def cli_incomplete(failed: int, unknown_authors: int) -> str:
    """Why `query` exits with EXIT_INCOMPLETE (stderr, after the numbers that did come)."""
    parts = []
    if failed:
        parts.append(
            f"{failed:,} value{'' if failed == 1 else 's'} missing because X did not "
            "answer after several retries"
        )
    if unknown_authors:
        parts.append(
            f"the author of {posts_count(unknown_authors)} could not be looked up, so their "
            "private metrics were not asked for"
        )
    return f"incomplete: {'; '.join(parts)}. Run the same query again later."


# --- The console (plain text) ------------------------------------------------------------------


@dataclass(frozen=True)
class PostToTry:
    kind: str  # "owned", "competitor" or "old"
    handle: str
    post_id: str
    age: timedelta


def _age(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    if hours < 48:
        return f"{hours:.1f} h old"
    return f"{age.days:,} days old"


def console_posts_to_try(tries: list[PostToTry]) -> str:
    """The console's opening hint: Post IDs that exist in its simulator, and one command."""
    what = {
        "owned": "yours, every metric",
        "competitor": "public numbers only",
        "old": "yours, past X's 90 days for /totals impressions",
    }
    lines = ["Posts to try in this simulator:"]
    lines += [
        f"  {t.post_id}  @{t.handle}, {_age(t.age)} ({what.get(t.kind, t.kind)})" for t in tries
    ]
    if tries:
        lines.append(f"  e.g. /engagement totals {' '.join(t.post_id for t in tries)}")
    return "\n".join(lines)


# --- When X refuses or fails -------------------------------------------------------------------
# A refusal retrying can't change (403, 404, a protected Post) is said to be permanent and names
# its fix; only what may pass (5xx, timeouts, the rate limit) says "try again".

_TIMELINE = "2/users/:id/tweets"


def x_error(error: EngagementAPIError, ref: str | None = None) -> str:
    """What a person reads when a call to X failed outright; `ref` ties it to the log line."""
    tail = f" (ref `{ref}`)" if ref else ""
    if isinstance(error, RateLimited):
        wait = max(1, round(error.retry_after))
        return (
            f"X's rate limit for engagement data is used up right now. Try again in about "
            f"{wait} s{tail}."
        )
    if isinstance(error, AuthError):
        return (
            f"X refused this bot's credentials ({error.reason or 'unauthorized'}). Ask whoever "
            f"runs the bot to check them{tail}."
        )
    if isinstance(error, ForbiddenPosts):
        return (
            "X refuses these numbers for good: only the account that wrote a Post may read its "
            f"private metrics and series. Connect that account with {CONNECT}{tail}."
        )
    if isinstance(error, ForbiddenMetrics):
        names = ", ".join(_escape(m) for m in error.metrics) or "these metrics"
        return (
            f"X refuses {names} for good without the author's own token: connect the account "
            f"that wrote the Post with {CONNECT}, or ask for public metrics (likes, reposts, "
            f"quotes, replies){tail}."
        )
    if isinstance(error, Forbidden) and error.endpoint == _TIMELINE:
        return (
            "X refuses to list this account's Posts (HTTP 403): it is protected or suspended, "
            "and retrying won't change that. Track its Posts one by one if you can see them, "
            f"or connect the account with {CONNECT}{tail}."
        )
    if isinstance(error, Forbidden | ProtectedPosts):
        return (
            "X refuses this for good: the Post or its account is protected, or only its author "
            f"may read it. Retrying won't help; connect the author's account with {CONNECT}, "
            f"or leave the Post out{tail}."
        )
    if isinstance(error, NotFound):
        return (
            f'X answered "not found" ({_escape(error.endpoint or "X")}): the Post or account '
            "is deleted, or the bot's X address is misconfigured. Retrying won't help; check "
            f"the link or handle, or ask whoever runs the bot{tail}."
        )
    if isinstance(error, TimedOut):
        return (
            f"X is slow: it had not answered when the answer was due. Try again in a minute{tail}."
        )
    if isinstance(error, BadRequest) or not error.retryable:
        status = f"HTTP {error.status}" if error.status else "no usable answer"
        return (
            f"X refused the request ({status}); retrying the same request won't change that. "
            f"Ask whoever runs the bot{tail}."
        )
    return (
        "X's engagement API is not answering properly right now. Nothing was lost; try again "
        f"in a few minutes{tail}."
    )


NO_X_CREDENTIALS = (
    "no X credentials: set X_CONSUMER_KEY and X_CONSUMER_SECRET (to try it on the "
    "simulator, run `engagement-bot simulator` and point X_API_URL and X_OAUTH_URL at it)"
)
