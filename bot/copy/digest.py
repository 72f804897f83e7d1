"""Every sentence of the daily digest, as small functions of the values they mention."""

from __future__ import annotations

from datetime import date

from bot.copy.words import metric_noun

DAY_FORMAT = "%a %d %b %Y"  # "Wed 25 Nov 2026"
VS_DAY_BEFORE = "vs day before"
VS_WEEK = "vs 7-day avg"
RATE = "Engagement rate"
TOP_TITLE = "*Top Posts of the day*"
NEW_TITLE = "*New Posts*"
CHART_TITLE = "Last 28 days"
LATE_NOTE = "Sent late: the bot was offline at the scheduled time."


def day_label(day: date) -> str:
    return day.strftime(DAY_FORMAT)


def title(day: date) -> str:
    return f"Daily digest · {day_label(day)}"


def scope(posts: int, zone: str) -> str:
    noun = "Post" if posts == 1 else "Posts"
    return f"{posts:,} owned {noun} · the local day in {zone}"


def quiet(day: date, posts: int) -> str:
    if posts == 0:
        return f"Quiet day {day_label(day)}: no owned Posts to report on."
    return f"Quiet day {day_label(day)}: no impressions or engagements on your Posts."


def fallback(day: date, impressions: str, engagements: str, rate: str) -> str:
    return (
        f"Daily digest for {day_label(day)}: {impressions} impressions · "
        f"{engagements} engagements · {rate} engagement rate"
    )


def hourly(sparkline: str, peak_hour: int | None) -> str:
    peak = f" · peak {peak_hour:02d}:00" if peak_hour is not None else ""
    return f"Impressions by hour `{sparkline}`{peak}"


def first_day(metric: str, count: str) -> str:
    return f"{count} {metric_noun(metric)}"


def no_series(count: int) -> str:
    noun = "Post has" if count == 1 else "Posts have"
    return (
        f"{count:,} {noun} no hourly numbers (not written by a connected account) and are left out."
    )


def chart_title(day: date) -> str:
    return f"Impressions and engagements, 28 days to {day.isoformat()}"


# -- a channel paused because Slack refused it --------------------------------------------------

# Slack error codes of chat.postMessage that no retry fixes: what a channel owner is told.
PAUSE_REASONS = {
    "is_archived": "this channel was archived",
    "channel_not_found": "Slack could not find this channel for the bot",
    "not_in_channel": "the bot was removed from this channel",
    "account_inactive": "the bot's Slack account was deactivated",
    "invalid_auth": "Slack no longer accepts the bot's token",
    "not_authed": "Slack no longer accepts the bot's token",
    "token_revoked": "the bot's Slack token was revoked (was the app uninstalled?)",
    "token_expired": "the bot's Slack token expired",
    "missing_scope": "the app lacks a Slack permission it needs (reinstall it)",
    "no_permission": "the bot is not allowed to post in this channel",
    "restricted_action": "posting in this channel is restricted",
    "restricted_action_read_only_channel": "this channel is read-only",
    "restricted_action_thread_only_channel": "this channel only takes replies in threads",
    "restricted_action_non_threadable_channel": "posting in this channel is restricted",
    "team_access_not_granted": "the app has no access to this workspace",
    "ekm_access_denied": "the workspace's encryption keys refuse the bot",
}


def pause_reason(code: str) -> str:
    """The stored reason: the sentence plus Slack's own code, for whoever reads the logs."""
    return f"{PAUSE_REASONS.get(code, 'Slack refused to post here')} (Slack said {code})"


def paused_note(since: date | None, reason: str) -> str:
    when = f" since {day_label(since)}" if since is not None else ""
    return (
        f"Digests and alerts are paused here{when}: {reason}. `/engagement digest on` resumes them."
    )


# -- why a digest run did not post (printed by `engagement-bot digest`, stored with the run) ---


def not_over_yet(day: date, zone: str) -> str:
    return f"{day.isoformat()} is not over yet in {zone}"


def claimed_by_another_run(stale_after: object) -> str:
    """`stale_after`: how long a claim holds (a timedelta, printed as it prints)."""
    return f"another run claimed the date; it is free again {stale_after} after that"


CLAIM_UNCHECKABLE = "an earlier run claimed the date and did not record a post; cannot check"
CLAIM_TAKEN_OVER = "another run took the date over"


def cannot_search(error: object) -> str:
    return f"an earlier run may have posted it and the channel cannot be searched: {error}"


def no_single_team(channel_id: str) -> str:
    return f"no single team has a digest on in {channel_id}: pass --team"


def rate_compared(rate: str, before: str, week: str) -> str:
    """The engagement-rate field: today's, the day before's, the 7-day average's."""
    return f"*{RATE}*  {rate}\n{before} day before · {week} 7-day avg"


def search_waits(channel_id: str, ahead: int | None) -> str:
    """A channel search (did an earlier run post?) still queued behind Slack's rate limit."""
    where = f"{ahead} searches ahead of it" if ahead else "next in line"
    return f"the search of {channel_id} waits for its turn with Slack ({where})"


def search_throttled(retry_after: float) -> str:
    return f"rate limited: retry after {retry_after:g} s"


def top_page_title(day: date, first: int, last: int) -> str:
    return f"*Top Posts of {day_label(day)}, {first}–{last}*"


def no_more_top(day: date) -> str:
    return f"No more Posts with numbers on {day_label(day)}."


def csv_title(day: date) -> str:
    return f"Top Posts of {day_label(day)} (CSV)"


def csv_filename(day: date, first: int) -> str:
    return f"digest-{day.isoformat()}-top-{first}.csv"


CSV_HEADER = (
    "rank",
    "post_id",
    "author",
    "url",
    "impressions",
    "engagements",
    "favorites",
    "retweets",
    "replies",
    "date",
)
