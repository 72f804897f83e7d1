"""The `engagement-bot` command line: parse, then dispatch. The only module that reads the
environment and the clock on its own, configures logging and prints; each command's body lives
with what it drives (bot.ops, bot.console, bot.simulator.cli, bot.app for `run`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.copy import terminal
from bot.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, BotError, EngagementAPIError
from bot.ops.report_format import FORMATS

TEXT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def build_parser() -> argparse.ArgumentParser:
    from bot.simulator import cli as simulator_cli

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
    simulator_cli.add_parser(commands)
    _add_query(commands)
    _add_operator_commands(commands)
    _add_maintenance(commands)
    _add_console(commands)
    _add_bot_commands(commands)
    return parser


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
            sub.add_argument("--from", dest="start", type=_day, help="first day, YYYY-MM-DD")
            sub.add_argument("--to", dest="end", type=_day, help="last day, YYYY-MM-DD")
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
        sub.add_argument("--from", dest="start", type=_day, help="first day, YYYY-MM-DD")
        sub.add_argument("--to", dest="end", type=_day, help="last day, YYYY-MM-DD")
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
    usage.add_argument("--month", type=_month, help="YYYY-MM (default: this UTC month)")

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
    digest.add_argument("--date", type=_day, help="local day to cover, YYYY-MM-DD")
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


class _Version(argparse.Action):
    """`--version`: the installed release, looked up only when asked (start-up stays light)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from bot import version
        from bot.copy import maintenance

        sys.stdout.write(maintenance.version(version()) + "\n")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Servers log what they do; the other commands' output is their answer, not a call log.
    quiet = args.command not in ("simulator", "run")
    handler = logging.StreamHandler(sys.stderr)
    if args.log_format == "json":
        from bot.ops.log_format import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_LOG_FORMAT))
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING if quiet else logging.INFO,
        handlers=[handler],
    )
    try:
        return _dispatch(args)
    except ValueError as error:
        print(f"engagement-bot {args.command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except EngagementAPIError as error:
        if args.debug:
            raise
        print(f"engagement-bot: X API: {error}", file=sys.stderr)
        return EXIT_FAILURE
    except BotError as error:
        if args.debug:
            raise
        print(f"engagement-bot: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "simulator":
        from bot.simulator import cli as simulator_cli

        return simulator_cli.run_simulator(args, os.environ, out=sys.stdout, err=sys.stderr)
    if args.command == "demo":
        from bot.console.demo import DEMO_START, run_demo

        return run_demo(sys.stdout, now=DEMO_START)
    settings = Settings.from_env(with_dotenv(os.environ, Path(".env")))
    return COMMANDS[args.command](settings, args)


def _now() -> datetime:
    return datetime.now(UTC)


def _query(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops import commands as operator

    if args.kind in ("campaign", "compare"):
        from bot.ops.campaigns import CampaignArgs, run_campaign_query

        wanted = CampaignArgs(
            tuple(args.names), args.workspace, args.start, args.end, args.metrics, args.fmt
        )
        return run_campaign_query(settings, args.kind, wanted, now=_now(), out=sys.stdout)

    query_args = operator.QueryArgs(
        args.kind,
        operator.read_posts(args.posts, sys.stdin),
        args.metrics,
        args.fmt,
        args.explain,
        getattr(args, "start", None),  # `daily` only
        getattr(args, "end", None),
    )
    return operator.run_query(
        settings,
        query_args,
        now=_now(),
        out=sys.stdout,
        err=sys.stderr,
        progress=args.progress or sys.stderr.isatty(),
    )


def _rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops import commands as operator

    return operator.rotate_key(settings, out=sys.stdout, now=_now())


def _usage(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops import commands as operator

    month = args.month or _now().strftime("%Y-%m")
    return operator.usage(settings, month=month, out=sys.stdout)


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops import maintenance

    return maintenance.backup(settings, target=args.path, out=sys.stdout)


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops import maintenance

    return maintenance.restore(settings, source=args.path, out=sys.stdout)


def _forget(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops import maintenance

    return maintenance.forget(settings, team=args.team, out=sys.stdout)


def _store(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops import store_commands

    if args.action == "stats":
        return store_commands.store_stats(settings, out=sys.stdout)
    return store_commands.store_prune(
        settings, now=_now(), dry_run=args.dry_run, vacuum=args.vacuum, out=sys.stdout
    )


def _run(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import run_bot

    return run_bot(settings, clock=_now)


def _digest(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.jobs import run_digest_now

    return run_digest_now(settings, args, now=_now(), out=sys.stdout)


def _alerts(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops.jobs import run_alerts_check

    return run_alerts_check(settings, args, now=_now(), out=sys.stdout)


def _console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console import console

    def clock() -> datetime:
        return datetime.now(UTC)

    with console.console_deps(settings, now=clock(), out=sys.stderr) as deps:
        if args.line is not None:
            reply = console.handle_line(
                args.line,
                deps,
                channel=args.channel,
                user=args.user,
                now=clock(),
                as_json=args.json,
            )
            sys.stdout.write(reply)
            return EXIT_OK
        return console.repl(
            deps, channel=args.channel, user=args.user, clock=clock, inp=sys.stdin, out=sys.stdout
        )


def _accounts(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ops import commands as operator

    if args.action == "add":
        return operator.accounts_add(
            settings,
            token=args.token,
            secret=args.secret,
            workspace=args.workspace,
            now=datetime.now(UTC),
            out=sys.stdout,
        )
    if args.action == "list":
        return operator.accounts_list(settings, out=sys.stdout)
    return operator.accounts_remove(settings, handle=args.handle, out=sys.stdout)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(terminal.not_a_day(text)) from None


def _month(text: str) -> str:
    from bot.store.sql import month_range

    try:
        month_range(text)
    except ValueError:
        raise argparse.ArgumentTypeError(terminal.not_a_month(text)) from None
    return text


def with_dotenv(environ: Mapping[str, str], path: Path) -> dict[str, str]:
    """The environment over a `.env` file's KEY=VALUE lines (the environment wins)."""
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.removeprefix("export ").partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    values.update(environ)
    return values


COMMANDS: Mapping[str, Callable[[Settings, argparse.Namespace], int]] = {
    "console": _console,
    "query": _query,
    "rotate-key": _rotate_key,
    "accounts": _accounts,
    "usage": _usage,
    "store": _store,
    "run": _run,
    "digest": _digest,
    "alerts": _alerts,
    "backup": _backup,
    "restore": _restore,
    "forget": _forget,
}
