"""Every usage line, meaning, example and need of `/engagement`, in one table (TABLE).

`help`, the parser's error messages and the app manifest's usage hint are all generated from
it, so a subcommand cannot be parsed without being documented (tests/slack/test_parsing.py checks
that every word the parser accepts has a row here and that every example parses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

COMMAND = "/engagement"

# Subcommand words the parser knows (help and the manifest's usage hint must list them all).
SUBCOMMANDS = (
    "help",
    "totals",
    "hourly",
    "daily",
    "top",
    "track",
    "untrack",
    "tracked",
    "digest",
    "alert",
    "alerts",
    "snooze",
    "quiet",
    "connect",
    "accounts",
    "disconnect",
    "usage",
    "campaign",
    "campaigns",
    "compare",
    "settings",
)

# What "admin" means in `needs` (bot.slack.commands.GUARDED decides; a test keeps them agreeing).
_ADMIN = "a workspace admin (or someone in ENGAGEMENT_ADMINS)"


@dataclass(frozen=True)
class Subcommand:
    """One row of the table `help`, the parser's errors and the manifest are made from."""

    name: str
    grammar: str  # `|` separates alternatives, `[…]` is optional
    description: str  # what it does, one line
    example: str  # the full text as typed; must parse (a test checks)
    needs: str  # which X endpoint, account or permission it relies on


TABLE: tuple[Subcommand, ...] = (
    Subcommand(
        "help",
        f"{COMMAND} help [subcommand]",
        "this list, or one subcommand in detail: what it does, an example, what it needs",
        f"{COMMAND} help top",
        "nothing: answered by the bot itself",
    ),
    Subcommand(
        "totals",
        f"{COMMAND} [totals] <post>... [metric...]",
        "current totals of Posts (IDs or x.com URLs); the word `totals` is optional",
        f"{COMMAND} https://x.com/XDevelopers/status/1460323737035677698 likes",
        "X's /totals: likes, reposts, quotes, replies and video views for any public Post; "
        "impressions and engagements only for Posts of accounts connected here",
    ),
    Subcommand(
        "hourly",
        f"{COMMAND} hourly <post> [metric...]",
        "the last 28 hours, hour by hour (your connected accounts' Posts)",
        f"{COMMAND} hourly 1460323737035677698",
        "X's /28hr with the token of the Post's author, so the author must be connected "
        f"(`{COMMAND} connect`)",
    ),
    Subcommand(
        "daily",
        f"{COMMAND} daily <post> [from YYYY-MM-DD] [to YYYY-MM-DD | 7d | 28d | 90d] [metric...]",
        "day by day over any range since 1 Sep 2014, or the last 7/28/90 days "
        "(connected accounts' Posts)",
        f"{COMMAND} daily 1460323737035677698 from 2025-06-01 to 2025-06-07",
        "X's /historical (and /28hr for the last hours) with the token of the Post's author, "
        f"so the author must be connected (`{COMMAND} connect`)",
    ),
    Subcommand(
        "top",
        f"{COMMAND} top [metric] [n 1-25] [24h | 7d | 28d | 90d]",
        "leaderboard of this channel's Posts (default: engagements, 10, 7d)",
        f"{COMMAND} top likes 5 28d",
        "tracked Posts and accounts here; connected accounts' Posts rank by X's /historical, "
        "others by /totals readings (public metrics only); accounts' Posts come from X's "
        "timeline lookup",
    ),
    Subcommand(
        "track",
        f"{COMMAND} track <post>|@handle...",
        "follow Posts or whole accounts in this channel (for `top`, the digest and alerts)",
        f"{COMMAND} track @XDevelopers 1460323737035677698",
        "X's user lookup to check each @handle exists; anyone in the channel may use it",
    ),
    Subcommand(
        "untrack",
        f"{COMMAND} untrack <post>|@handle...",
        "stop following Posts or accounts",
        f"{COMMAND} untrack @XDevelopers",
        "nothing from X; anyone in the channel may use it",
    ),
    Subcommand(
        "tracked",
        f"{COMMAND} tracked",
        "what this channel follows",
        f"{COMMAND} tracked",
        "nothing from X",
    ),
    Subcommand(
        "digest",
        f"{COMMAND} digest on [HH:MM] [Area/City] | digest off | digest now"
        " | digest weekly <weekday> [HH:MM] [Area/City] | digest monthly <day> [HH:MM]"
        " | digest weekly|monthly off",
        "the channel's daily digest: schedule it, stop it, or post one now; weekly and monthly "
        "reports compared with the week or month before",
        f"{COMMAND} digest on 09:30 Europe/Paris",
        f"{_ADMIN} to turn it on or off; the bot invited to the channel to post it; X's "
        "/28hr and /historical for connected accounts' Posts",
    ),
    Subcommand(
        "alert",
        f"{COMMAND} alert <metric> > <N>/h [<post>|@handle] | alert spike [low|medium|high]"
        " | alert off <id>",
        "post in this channel when a metric passes N in an hour, or on a sudden spike; "
        "`off` removes a rule",
        f"{COMMAND} alert likes > 100/h @XDevelopers",
        f"{_ADMIN}; the bot invited to the channel; X's /28hr for connected accounts' Posts, "
        "/totals readings an hour apart for others (likes, reposts, quotes, replies, video "
        "views only)",
    ),
    Subcommand(
        "alerts",
        f"{COMMAND} alerts",
        "this channel's alert rules with their ids",
        f"{COMMAND} alerts",
        "nothing from X",
    ),
    Subcommand(
        "snooze",
        f"{COMMAND} snooze <duration, e.g. 30m 2h 1d 1h30m; at most 7d> | snooze off",
        "pause this channel's alerts for a while",
        f"{COMMAND} snooze 2h",
        _ADMIN,
    ),
    Subcommand(
        "quiet",
        f"{COMMAND} quiet HH:MM-HH:MM | quiet off",
        "hold alerts during these local hours every day; they arrive when they end",
        f"{COMMAND} quiet 22:00-07:00",
        _ADMIN,
    ),
    Subcommand(
        "connect",
        f"{COMMAND} connect",
        "link an X account so its Posts count as owned (impressions, hourly and daily numbers)",
        f"{COMMAND} connect",
        f"{_ADMIN}, who then signs in on X as the account to link (OAuth 1.0a)",
    ),
    Subcommand(
        "accounts",
        f"{COMMAND} accounts",
        "the linked X accounts",
        f"{COMMAND} accounts",
        "nothing from X",
    ),
    Subcommand(
        "disconnect",
        f"{COMMAND} disconnect @handle",
        "unlink an X account and delete its tokens",
        f"{COMMAND} disconnect @XDevelopers",
        _ADMIN,
    ),
    Subcommand(
        "usage",
        f"{COMMAND} usage",
        "API calls and unique owner accounts this month",
        f"{COMMAND} usage",
        "nothing from X: counted by the bot",
    ),
    Subcommand(
        "campaign",
        f'{COMMAND} campaign new "name" [#tag [from:@handle]] | campaign add "name" '
        '<post>...|@handle from YYYY-MM-DD to YYYY-MM-DD | campaign "name" [7d | 28d | 90d | '
        'from YYYY-MM-DD to YYYY-MM-DD] [metric...] | campaign delete "name"',
        "a launch or hashtag tracked as one thing: start one (a #tag adds its Posts of the last "
        "7 days, then new ones daily), add Posts or an account's period, see its totals, "
        "top Posts and day-by-day chart, or delete it",
        f'{COMMAND} campaign "Spring launch" 28d likes',
        "X's recent search for a #tag, the user timeline for an @handle, /totals for every "
        "Post (impressions only for connected accounts' Posts), /historical for connected "
        "accounts' Posts day by day; anyone in the workspace may change campaigns",
    ),
    Subcommand(
        "campaigns",
        f"{COMMAND} campaigns",
        "this workspace's campaigns",
        f"{COMMAND} campaigns",
        "nothing from X",
    ),
    Subcommand(
        "compare",
        f"{COMMAND} compare <campaign>|@handle|<post> vs <campaign>|@handle|<post> "
        "[7d | 28d | 90d | from YYYY-MM-DD to YYYY-MM-DD] [metric...]",
        "two campaigns, accounts (their Posts of the period) or Posts side by side, with "
        "the difference, the ratio and one chart (default: the last 28 days)",
        f"{COMMAND} compare @XDevelopers vs @X 28d likes",
        "X's /totals (public metrics for a side not connected here; impressions and the "
        "engagement rate when both are), the user timeline for an @handle, /historical for "
        "connected accounts' Posts",
    ),
    Subcommand(
        "settings",
        f"{COMMAND} settings",
        "this channel's digest, alerts, quiet hours and snooze, with buttons to change them",
        f"{COMMAND} settings",
        "nothing from X; the changes the buttons open are for admins, as the commands' are",
    ),
)

BY_NAME: Mapping[str, Subcommand] = MappingProxyType({row.name: row for row in TABLE})
# The table's columns by subcommand word, in SUBCOMMANDS order.
USAGE: Mapping[str, str] = MappingProxyType({w: BY_NAME[w].grammar for w in SUBCOMMANDS})
DESCRIPTIONS: Mapping[str, str] = MappingProxyType({w: BY_NAME[w].description for w in SUBCOMMANDS})
EXAMPLES: Mapping[str, str] = MappingProxyType({w: BY_NAME[w].example for w in SUBCOMMANDS})
NEEDS: Mapping[str, str] = MappingProxyType({w: BY_NAME[w].needs for w in SUBCOMMANDS})

# The manifest's `usage_hint` (Slack allows 1,000 characters): every subcommand, briefly.
USAGE_HINT = "<post>... | " + " | ".join(
    "digest on|off|now|weekly|monthly" if word == "digest" else word for word in SUBCOMMANDS
)


def explain(word: str, problem: str) -> str:
    """A UsageError's text: what was wrong, then the subcommand's usage line and an example."""
    return f"{problem}\nUsage: `{USAGE[word]}`\nExample: `{EXAMPLES[word]}`"


def help_text(topic: str | None = None) -> str:
    """Plain mrkdwn help: one subcommand in detail, or every subcommand with its meaning."""
    if topic is not None:
        what = f"*{topic}*: {DESCRIPTIONS[topic]}"
        return f"{explain(topic, what)}\nNeeds: {NEEDS[topic]}"
    lines = [f"`{USAGE[word]}`: {DESCRIPTIONS[word]}" for word in SUBCOMMANDS]
    return "\n".join([*lines, f"More on one subcommand: `{COMMAND} help <subcommand>`"])
