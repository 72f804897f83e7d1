"""Every usage line, meaning and example of `/engagement`, in one place.

`help`, the parser's error messages and the app manifest's usage hint are all generated from
these tables, so a subcommand cannot be parsed without being documented (tests/test_parsing.py
checks that every word in SUBCOMMANDS has a line here and that every example parses).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.slack.command_types import SUBCOMMANDS

COMMAND = "/engagement"

# One grammar line per subcommand word; `|` separates alternatives, `[…]` is optional.
USAGE: Mapping[str, str] = MappingProxyType(
    {
        "help": f"{COMMAND} help [subcommand]",
        "totals": f"{COMMAND} [totals] <post>... [metric...]",
        "hourly": f"{COMMAND} hourly <post> [metric...]",
        "daily": (
            f"{COMMAND} daily <post> [from YYYY-MM-DD] [to YYYY-MM-DD | 7d | 28d | 90d] [metric...]"
        ),
        "top": f"{COMMAND} top [metric] [n 1-25] [24h | 7d | 28d | 90d]",
        "track": f"{COMMAND} track <post>|@handle...",
        "untrack": f"{COMMAND} untrack <post>|@handle...",
        "tracked": f"{COMMAND} tracked",
        "digest": f"{COMMAND} digest on [HH:MM] [Area/City] | digest off | digest now",
        "alert": (
            f"{COMMAND} alert <metric> > <N>/h [<post>|@handle] | alert spike [low|medium|high]"
            " | alert off <id>"
        ),
        "alerts": f"{COMMAND} alerts",
        "snooze": f"{COMMAND} snooze <duration, e.g. 30m 2h 1d 1h30m; at most 7d> | snooze off",
        "quiet": f"{COMMAND} quiet HH:MM-HH:MM | quiet off",
        "connect": f"{COMMAND} connect",
        "accounts": f"{COMMAND} accounts",
        "disconnect": f"{COMMAND} disconnect @handle",
        "usage": f"{COMMAND} usage",
    }
)

# What each subcommand does, for `help`.
DESCRIPTIONS: Mapping[str, str] = MappingProxyType(
    {
        "help": "this list, or one subcommand in detail",
        "totals": "current totals of Posts (IDs or x.com URLs); the word `totals` is optional",
        "hourly": "the last 28 hours, hour by hour (your connected accounts' Posts)",
        "daily": "day by day over any range, or the last 7/28/90 days (connected accounts' Posts)",
        "top": "leaderboard of this channel's Posts (default: engagements, 10, 7d)",
        "track": "follow Posts or whole accounts in this channel",
        "untrack": "stop following Posts or accounts",
        "tracked": "what this channel follows",
        "digest": "the channel's daily digest: schedule it, stop it, or post one now",
        "alert": (
            "alert when a metric passes N per hour (more than N), on spikes, or remove a rule"
        ),
        "alerts": "this channel's alert rules with their ids",
        "snooze": "pause this channel's alerts for a while",
        "quiet": "hold alerts during these local hours every day; they arrive when they end",
        "connect": "link an X account so its Posts count as owned",
        "accounts": "the linked X accounts",
        "disconnect": "unlink an X account and delete its tokens",
        "usage": "API calls and unique owner accounts this month",
    }
)

# One example per subcommand, the full text as typed; each must parse (a test checks).
EXAMPLES: Mapping[str, str] = MappingProxyType(
    {
        "help": f"{COMMAND} help top",
        "totals": f"{COMMAND} https://x.com/XDevelopers/status/1460323737035677698 likes",
        "hourly": f"{COMMAND} hourly 1460323737035677698",
        "daily": f"{COMMAND} daily 1460323737035677698 from 2025-06-01 to 2025-06-07",
        "top": f"{COMMAND} top likes 5 28d",
        "track": f"{COMMAND} track @XDevelopers 1460323737035677698",
        "untrack": f"{COMMAND} untrack @XDevelopers",
        "tracked": f"{COMMAND} tracked",
        "digest": f"{COMMAND} digest on 09:30 Europe/Paris",
        "alert": f"{COMMAND} alert likes > 100/h @XDevelopers",
        "alerts": f"{COMMAND} alerts",
        "snooze": f"{COMMAND} snooze 2h",
        "quiet": f"{COMMAND} quiet 22:00-07:00",
        "connect": f"{COMMAND} connect",
        "accounts": f"{COMMAND} accounts",
        "disconnect": f"{COMMAND} disconnect @XDevelopers",
        "usage": f"{COMMAND} usage",
    }
)

# The manifest's `usage_hint` (Slack allows 1,000 characters): every subcommand, briefly.
USAGE_HINT = "<post>... | " + " | ".join(
    "digest on|off|now" if word == "digest" else word for word in SUBCOMMANDS
)


def explain(word: str, problem: str) -> str:
    """A UsageError's text: what was wrong, then the subcommand's usage line and an example."""
    return f"{problem}\nUsage: `{USAGE[word]}`\nExample: `{EXAMPLES[word]}`"


def help_text(topic: str | None = None) -> str:
    """Plain mrkdwn help: one subcommand in detail, or every subcommand with its meaning."""
    if topic is not None:
        return f"{explain(topic, f'*{topic}*: {DESCRIPTIONS[topic]}')}"
    lines = [f"`{USAGE[word]}`: {DESCRIPTIONS[word]}" for word in SUBCOMMANDS]
    return "\n".join([*lines, f"More on one subcommand: `{COMMAND} help <subcommand>`"])
