"""Every sentence about campaigns and comparisons: `/engagement campaign(s)`, `compare`, the
digest's Campaigns section and `engagement-bot query campaign | compare`."""

from __future__ import annotations

from datetime import date

from bot.copy.words import CONNECT, day_label, metric_label, posts_count

MAX_NAME = 80  # characters in a campaign's name: it heads messages and charts
PUBLIC_ONLY = "public metrics only"
CAMPAIGNS_TITLE = "Campaigns"
DIGEST_TITLE = "*Campaigns* (yesterday, change on the day before)"
NO_CAMPAIGNS = (
    'No campaigns yet. Start one with `/engagement campaign new "Spring launch" #springlaunch`'
    ' or `/engagement campaign new "Spring launch"` and add Posts to it.'
)
NEEDS_NAME = 'Name the campaign, in quotes when it has spaces: `"Spring launch"`.'
EMPTY_HASHTAG = "A hashtag needs a word after `#`, e.g. `#springlaunch`."
NO_SERIES = (
    "No day-by-day numbers: X serves them only to a Post's author, and none of these Posts is "
    f"by an account connected here ({CONNECT})."
)
TOP_TITLE = "Top Posts"
PUBLIC_ONLY_DIGEST = "no day-by-day numbers (no Post by a connected account)"
COMPARE_NEEDS_BOTH = (
    "Compare what with what? Give both sides around `vs`, e.g. "
    "`/engagement compare @ours vs @theirs 28d likes` or "
    '`compare "Spring launch" vs "Fall launch"`.'
)
NOTHING_TO_ADD = (
    "Add what? Post IDs or links, or an account and a period: `@brand from 2026-11-01 to "
    "2026-11-30`."
)
RATE_ROW = "Engagement rate"
TOTALS_LIFETIME = "Lifetime totals"


def name_too_long(length: int) -> str:
    return f"That name is {length:,} characters long; keep it to {MAX_NAME}."


def not_a_hashtag(shown: str) -> str:
    return f"{shown} is not a hashtag: letters, digits and _ after `#`."


def duplicate(name: str) -> str:
    return f'There is already a campaign called "{name}". Pick another name, or add to it.'


def unknown(name: str, close: str | None) -> str:
    hint = f' Did you mean "{close}"?' if close else " `/engagement campaigns` lists them."
    return f'No campaign called "{name}".{hint}'


def created(name: str, hashtag: str | None, found: int | None, problem: str | None = None) -> str:
    if hashtag is None:
        return f'Campaign "{name}" created. Add Posts with `/engagement campaign add "{name}" …`.'
    if found is None:
        return (
            f'Campaign "{name}" created, following {hashtag}: the daily tally adds its new Posts.'
        )
    text = (
        f'Campaign "{name}" created, following {hashtag}: {posts_count(found)} from the last 7 '
        "days, and the daily tally adds new ones."
    )
    if problem is not None:
        text += f" X's search stopped early ({problem}); the daily tally searches again."
    return text


def tally_hashtags(searched: int, added: int, stopped: int) -> str:
    """The daily tally's line about hashtag campaigns (operator log)."""
    early = f", {stopped} stopped early (asked again next time)" if stopped else ""
    return f"hashtag campaigns: {searched} searched, {added} new Posts{early}"


def added(name: str, new: int, already: int) -> str:
    text = f'Added {posts_count(new)} to "{name}".'
    if already:
        text += f" {posts_count(already)} {'was' if already == 1 else 'were'} in it already."
    return text


def account_added(name: str, handle: str, new: int, already: int, start: date, end: date) -> str:
    span = f"{day_label(start)} – {day_label(end)}"
    if new == 0 and already == 0:
        return f'@{handle} has no Posts from {span} that X shows; nothing added to "{name}".'
    return f"{added(name, new, already)} (@{handle}, {span})"


def deleted(name: str) -> str:
    return f'Campaign "{name}" deleted (its Posts and their numbers stay in the bot).'


def list_line(name: str, posts: int, hashtag: str | None, since: date) -> str:
    follows = f" · follows {hashtag}" if hashtag else ""
    return f"*{name}* · {posts_count(posts)}{follows} · since {day_label(since)}"


def report_title(name: str) -> str:
    return f"Campaign: {name}"


def report_summary(posts: int, first: date | None, owned: int) -> str:
    first_text = f", the first from {day_label(first)}" if first else ""
    if posts and owned == 0:
        whose = f" — none by a connected account: {PUBLIC_ONLY}"
    elif owned < posts:
        whose = f" — {owned:,} by connected accounts (private metrics for those only)"
    else:
        whose = ""
    return f"{posts_count(posts)}{first_text}{whose}"


def owned_only(metric: str, counted: int, of: int) -> str:
    return f"{metric_label(metric)}: connected accounts' Posts only ({counted:,} of {of:,})"


def of_posts(counted: int, of: int) -> str:
    return f"{counted:,} of {of:,} Posts"


def empty_campaign(name: str) -> str:
    return f'"{name}" has no Posts yet. Add some with `/engagement campaign add "{name}" …`.'


def series_heading(start: date, end: date) -> str:
    return f"Day by day, {day_label(start)} – {day_label(end)} (UTC)"


def chart_title(name: str) -> str:
    return f"{name}: day by day"


def compare_title(a: str, b: str) -> str:
    return f"{a} vs {b}"


def compare_period(start: date, end: date) -> str:
    return f"Posts and days {day_label(start)} – {day_label(end)} (UTC)"


def why_no_impressions(side: str, *, account: bool) -> str:
    whose = (
        f"{side} is not connected here"
        if account
        else f"not every Post of {side} is by an account connected here"
    )
    return (
        "Public metrics only: X serves impressions and engagements only to a Post's author, and "
        f"{whose} ({CONNECT})."
    )


def campaign_public_only(name: str) -> str:
    return (
        f"Public metrics only: X serves impressions and engagements only to a Post's author, and "
        f'none of "{name}"\'s Posts is by an account connected here ({CONNECT}).'
    )


def no_side_series(side: str) -> str:
    return f"{side}: no daily line — X serves day-by-day numbers only to the author"


def side_problem(side: str, problem: str) -> str:
    return f"Can't read {side}: {problem}"


def side_empty(side: str) -> str:
    return f"{side} has no Posts in that period."


def period_before_floor(floor: date) -> str:
    return f"X's history starts on {day_label(floor)}; pick a period after it."


def period_backwards(start: date, end: date) -> str:
    return f"The period ends ({end}) before it starts ({start})."


def period_in_future(day: date, today: date) -> str:
    return f"{day} is in the future (today is {today})."


def digest_line(name: str, figures: str) -> str:
    return f"• *{name}*: {figures}"


def digest_more(n: int) -> str:
    return f"…and {n:,} more campaigns (`/engagement campaigns`)"


def cli_ambiguous(name: str, teams: list[str]) -> str:
    return f'"{name}" is a campaign in several workspaces ({", ".join(teams)}); pass --workspace.'


def cli_side_unknown(text: str) -> str:
    return f"{text!r} is neither a campaign, an @handle nor a Post."
