"""The `engagement-bot` command line's grammar: every command, its options and their help, and
the converters of its option values (bot/cli.py parses with it, then dispatches)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from bot.copy import terminal
from bot.ops.report_format import FORMATS


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The grammar. Given the arguments to parse, only their command's part is built: a one-shot
    command then pays for a few dozen options, not every command's (the simulator's alone has
    dozens); without a known command word (top-level help, a typo) every command is built."""
    parser = argparse.ArgumentParser(
        prog="engagement-bot", description="X Post engagement metrics in Slack."
    )
    parser.add_argument("--debug", action="store_true", help="log debug output and tracebacks")
    parser.add_argument("--version", action=_Version, help="print the release and exit")
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="log lines as text (default) or one JSON object each, for log aggregation",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    word = None if argv is None else command_word(argv)
    for names, add in _GROUPS:
        if word is None or word in names:
            add(commands)
    return parser


def command_word(argv: Sequence[str]) -> str | None:
    """The command `argv` names, if it names one before anything but the global options."""
    values_follow = False
    for arg in argv:
        if values_follow:
            values_follow = False
        elif arg == "--log-format":
            values_follow = True
        elif arg in ("--debug",) or arg.startswith("--log-format="):
            continue
        elif arg.startswith("-"):
            return None  # -h, --version, or a mistake: the whole grammar answers it
        else:
            return arg if any(arg in names for names, _ in _GROUPS) else None
    return None


def _add_simulator(commands: Any) -> None:
    from bot.simulator import cli as simulator_cli

    simulator_cli.add_parser(commands)


def _add_query(commands: Any) -> None:
    from bot.copy.terminal import cli_query_exit_codes

    query = commands.add_parser(
        "query",
        help="metrics for Posts through the engagement service",
        description="Metrics for Posts (IDs or URLs), the endpoint chosen automatically.",
        epilog=cli_query_exit_codes(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    kinds = query.add_subparsers(dest="kind", metavar="KIND")
    kinds.required = True
    for kind_name, text in (
        ("totals", "current lifetime totals"),
        ("hourly", "the last 28 hours, hour by hour"),
        ("daily", "day by day over any range (default: the last 28 days)"),
    ):
        sub = kinds.add_parser(
            kind_name,
            help=text,
            description=f"{text.capitalize()}.",
            epilog=cli_query_exit_codes(),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument(
            "posts",
            nargs="+",
            metavar="POST",
            help="Post ID or URL; - reads them from standard input, @FILE from a file",
        )
        sub.add_argument("--metrics", help="comma-separated metric names, e.g. likes,impressions")
        sub.add_argument("--format", dest="fmt", choices=FORMATS, default="table")
        sub.add_argument(
            "--explain",
            action="store_true",
            help="look up unknown authors, then print the plan and make no engagement call",
        )
        sub.add_argument(
            "--progress",
            action="store_true",
            help="say on stderr when waiting for X's rate limit (default: when stderr is a "
            "terminal)",
        )
        if kind_name == "daily":
            sub.add_argument("--from", dest="start", type=day_arg, help="first day, YYYY-MM-DD")
            sub.add_argument("--to", dest="end", type=day_arg, help="last day, YYYY-MM-DD")
    _add_campaign_queries(kinds)


def _add_campaign_queries(kinds: Any) -> None:
    campaign = kinds.add_parser(
        "campaign",
        help="a campaign's lifetime totals, daily series and top Posts",
        description="A campaign's report: lifetime totals (each Post once), the owned Posts' "
        "daily series over --from/--to (default: its life, at most 90 days) and top Posts.",
    )
    campaign.add_argument("names", nargs=1, metavar="NAME", help="the campaign's name")
    compare = kinds.add_parser(
        "compare",
        help="two campaigns, @handles or Posts side by side",
        description="A vs B per metric: both values, the difference and the ratio (an @handle "
        "is its Posts created in the period; default: the last 28 days).",
    )
    compare.add_argument("names", nargs=2, metavar="SIDE", help="campaign name, @handle or Post")
    for sub in (campaign, compare):
        sub.add_argument("--from", dest="start", type=day_arg, help="first day, YYYY-MM-DD")
        sub.add_argument("--to", dest="end", type=day_arg, help="last day, YYYY-MM-DD")
        sub.add_argument("--metrics", help="comma-separated metric names, e.g. likes,impressions")
        sub.add_argument("--workspace", help="Slack workspace (team) ID holding the campaign")
        sub.add_argument("--format", dest="fmt", choices=FORMATS, default="table")


def _add_operator_commands(commands: Any) -> None:
    accounts = commands.add_parser(
        "accounts",
        help="link X accounts whose tokens you hold",
        description="X accounts whose Posts count as owned (private metrics, series).",
    )
    actions = accounts.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("add", help="link an account (checked with one call)")
    add.add_argument("--token", required=True, help="the account's access token")
    add.add_argument("--secret", required=True, help="the access token's secret")
    add.add_argument("--workspace", help="Slack workspace (team) ID; default: every workspace")
    actions.add_parser("list", help="the linked accounts")
    remove = actions.add_parser("remove", help="unlink an account and delete its tokens")
    remove.add_argument("handle", metavar="HANDLE", help="@handle or user ID")

    usage = commands.add_parser(
        "usage",
        help="X API calls and billed owner accounts of a month, every workspace's",
        description="The month's X API calls per endpoint and the owner accounts X bills, "
        "for every workspace (in Slack, `/engagement usage` shows a workspace its own).",
    )
    usage.add_argument("--month", type=month_arg, help="YYYY-MM (default: this UTC month)")

    _add_store(commands)

    commands.add_parser(
        "rotate-key",
        help="re-encrypt stored X tokens with a new key",
        description="Re-encrypt every stored X token under the first key of "
        "ENGAGEMENT_SECRET_KEY. Set it to NEW,OLD, run this, then drop OLD.",
    )


def _add_maintenance(commands: Any) -> None:
    backup = commands.add_parser(
        "backup",
        help="copy the database to a new file, consistent while the bot runs",
        description="Copy the database (ENGAGEMENT_DB) to PATH with SQLite's online backup "
        "API, safe while `run` is writing, then check the copy. The key is not copied: keep "
        "the key file (or ENGAGEMENT_SECRET_KEY) safe separately.",
    )
    backup.add_argument("path", type=Path, metavar="PATH", help="a new file for the copy")
    restore = commands.add_parser(
        "restore",
        help="replace the database with a backup (stop `run` first)",
        description="Replace the database's contents with the backup at PATH, after checking "
        "its integrity, upgrading a trial copy and checking the current key opens it. Refused "
        "while `run` holds the database.",
    )
    restore.add_argument("path", type=Path, metavar="PATH", help="a file made by `backup`")
    forget = commands.add_parser(
        "forget",
        help="delete everything stored for a Slack workspace",
        description="Delete a workspace's settings, tracked lists, alert rules, digest records, "
        "connect links, Slack installation, the X accounts connected in it and the numbers of "
        "Posts no other workspace uses, as an uninstall does. Its API calls stay counted, "
        "anonymised.",
    )
    forget.add_argument("--team", required=True, help="Slack team ID, e.g. T0123")


def _add_store(commands: Any) -> None:
    store = commands.add_parser(
        "store",
        help="the database: its size, and retention applied now",
        description="Rows, size and oldest row per table; retention (docs/retention.md) applied "
        "by hand (the daily tally applies it every day).",
    )
    actions = store.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    actions.add_parser("stats", help="rows, size and oldest row per table")
    prune = actions.add_parser("prune", help="remove what the retention policy no longer keeps")
    how = prune.add_mutually_exclusive_group()
    how.add_argument("--dry-run", action="store_true", help="say what would go; change nothing")
    how.add_argument(
        "--vacuum",
        action="store_true",
        help="then rewrite the file compactly (once for a file made by an older version; "
        "stop the bot first)",
    )


def _add_console(commands: Any) -> None:
    console = commands.add_parser(
        "console",
        help="the bot in a terminal, no Slack needed",
        description="Type /engagement commands and see the replies. With no X credentials it "
        "starts the embedded simulator and a throwaway database.",
    )
    console.add_argument(
        "--command", dest="line", help='run one command and exit, e.g. "/engagement help"'
    )
    console.add_argument("--json", action="store_true", help="print the Slack payload")
    console.add_argument("--channel", default="C0CONSOLE", help="channel ID to act in")
    console.add_argument("--user", default="U0CONSOLE", help="user ID typing the commands")


def _add_bot_commands(commands: Any) -> None:
    commands.add_parser(
        "run",
        help="the Slack bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode on PORT)",
        description="Run the Slack bot. With SLACK_APP_TOKEN it connects over Socket Mode; "
        "otherwise it serves Slack's signed requests at POST /slack/events on PORT. Both serve "
        "GET /healthz on PORT. Needs SLACK_BOT_TOKEN, X_CONSUMER_KEY and X_CONSUMER_SECRET (and "
        "SLACK_SIGNING_SECRET in HTTP mode).",
    )
    digest = commands.add_parser(
        "digest",
        help="build and post one channel's daily digest now",
        description="Post a channel's daily digest for the previous local day (or --date), "
        "through the scheduler's code and its exactly-once guard. Needs SLACK_BOT_TOKEN.",
    )
    digest.add_argument("--channel", required=True, help="Slack channel ID, e.g. C0123")
    digest.add_argument("--date", type=day_arg, help="local day to cover, YYYY-MM-DD")
    digest.add_argument("--team", help="Slack team ID (default: the team whose digest it is)")
    alerts = commands.add_parser(
        "alerts",
        help="alert rules: run one evaluation pass now",
        description="Alert rules of every channel, evaluated by the scheduler's code.",
    )
    alert_actions = alerts.add_subparsers(dest="action", metavar="ACTION")
    alert_actions.required = True
    check = alert_actions.add_parser(
        "check",
        help="run one alert evaluation pass now and print what fired (needs SLACK_BOT_TOKEN)",
    )
    check.add_argument("--channel", help="only this Slack channel ID (default: every channel)")
    check.add_argument("--team", help="the channel's Slack team ID (with --channel)")
    commands.add_parser(
        "demo",
        help="a scripted tour of the whole bot on the embedded simulator",
        description=(
            "Tour the bot on the embedded simulator and a throwaway database: connect accounts "
            "through X's OAuth, track a competitor, totals, hourly and daily series, a "
            "leaderboard, a digest, a spike alert and usage. The simulator's clock starts at a "
            "fixed instant, so the tour is the same every time."
        ),
    )


# Each command's words and the function adding them, in the order `--help` lists them.
_GROUPS: tuple[tuple[frozenset[str], Callable[[Any], None]], ...] = (
    (frozenset({"simulator"}), _add_simulator),
    (frozenset({"query"}), _add_query),
    (frozenset({"accounts", "usage", "store", "rotate-key"}), _add_operator_commands),
    (frozenset({"backup", "restore", "forget"}), _add_maintenance),
    (frozenset({"console"}), _add_console),
    (frozenset({"run", "digest", "alerts", "demo"}), _add_bot_commands),
)


class _Version(argparse.Action):
    """`--version`: the installed release, looked up only when asked (start-up stays light)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from bot import version
        from bot.copy import maintenance

        sys.stdout.write(maintenance.version(version()) + "\n")
        parser.exit()


def day_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(terminal.not_a_day(text)) from None


def month_arg(text: str) -> str:
    from bot.store.sql import month_range

    try:
        month_range(text)
    except ValueError:
        raise argparse.ArgumentTypeError(terminal.not_a_month(text)) from None
    return text
