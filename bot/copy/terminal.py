"""The command line (`query`, the other commands' usage errors) and the console: plain text,
for terminals and scripts."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.copy.words import (
    posts_count,
)
from bot.errors import EXIT_INCOMPLETE

# --- The command line: `engagement-bot query` (plain text, for terminals and scripts) --------


def cli_query_exit_codes() -> str:
    """`query --help`'s epilog (wrapped for a terminal); docs/commands.md's table says the same."""
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


# --- The other commands of `engagement-bot` (plain text, on stderr) ----------------------------


def slack_token_needed(to_do: str) -> str:
    """A command that posts to Slack without SLACK_BOT_TOKEN; `to_do`: "post a digest"."""
    return f"SLACK_BOT_TOKEN is required to {to_do} (xoxb-…)"


def no_alert_rules(channel: str) -> str:
    return f"no alert rules in {channel}"


def not_a_day(typed: str) -> str:
    return f"{typed!r} is not a date like 2026-11-26"


def not_a_month(typed: str) -> str:
    return f"{typed!r} is not a month like 2026-11"


def sim_setting_type(variable: str, kind: str) -> str:
    """An XENG_SIM_* environment variable that does not parse as its option's type."""
    return f"{variable} must be a {kind}"


SIM_FAULTS_NOT_OBJECT = "--faults must be a JSON object"
SIM_START_NOT_INSTANT = "--start-time must be an ISO 8601 instant"


# --- `engagement-bot query`'s options and formats ----------------------------------------------

RANGE_ONLY_DAILY = "--from and --to go with `query daily`"
RANGE_BACKWARDS = "--to must not be before --from"


def unknown_format(typed: str, formats: Sequence[str]) -> str:
    return f"unknown format {typed!r}; use one of {', '.join(formats)}"


# --- `engagement-bot console` ------------------------------------------------------------------

CONSOLE_WELCOME = "Type /engagement commands (e.g. /engagement help); Ctrl-D to quit.\n"
ONLY_YOU = "only you see this"
IN_CHANNEL = "posted to the channel"
SIM_NO_REDIRECT = "the simulator's authorize page did not redirect"


def console_on_simulator(url: str, screen_name: str) -> str:
    """The console without X credentials: where its simulator runs and who is connected."""
    return (
        f"(no X credentials: embedded simulator on {url}; @{screen_name} "
        "is connected and tracked in this console's channel)\n"
    )
