"""The `engagement-bot` command line: the only module that reads the environment and the clock
on its own, configures logging and prints."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.errors import BotError, EngagementAPIError
from bot.ops.report_format import FORMATS

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.channels.deps import Deps
    from bot.jobs.scheduler import DigestScheduler
    from bot.slack.installations import Workspaces

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

# Simulator options (docs/simulator.md#options): flag → (help, type); env var XENG_SIM_<NAME>.
SIMULATOR_OPTIONS: dict[str, tuple[str, type]] = {
    "host": ("listen address (default 127.0.0.1)", str),
    "port": ("listen port; 0 = any free port (default 8787)", int),
    "seed": ("seed of the default universe (default 1)", int),
    "mode": ("normal | test | demo (test and demo enable /_sim/)", str),
    "universe": ("universe JSON file (docs/simulator.md#universe-files)", str),
    "faults": ("fault injection config as JSON (docs/simulator.md#fault-injection)", str),
    "clock": ("real | sim (default: real in normal mode, sim otherwise)", str),
    "start_time": ("simulator clock start, e.g. 2026-11-26T12:00:00Z", str),
    "frozen": ("freeze the sim clock: true | false (default: frozen in test mode)", str),
    "public_base_url": ("base URL used in OAuth signature base strings", str),
    "tls_cert": ("serve HTTPS with this certificate file", str),
    "tls_key": ("the certificate's key file", str),
    "admin_key": ("require X-Sim-Admin-Key on /_sim/", str),
    "historical_floor": ("earliest /historical start: YYYY-MM-DD or 365d", str),
    "forbidden_format": ("documented | per-author (403 message form)", str),
    "impressions_age_limit_endpoints": ("endpoints applying the 90-day rule", str),
    "rate_limit_totals": ("requests per minute per app on /totals (default 60)", int),
    "rate_limit_28hr": ("requests per minute per app on /28hr (default 60)", int),
    "rate_limit_historical": ("requests per minute per app on /historical (default 60)", int),
    "oauth_timestamp_window_s": ("reject OAuth timestamps further off than this; 0 = off", int),
    "oauth_nonce_check": ("reject reused OAuth nonces: true | false", str),
}
RUNTIME_OPTIONS = {
    "historical_floor",
    "forbidden_format",
    "impressions_age_limit_endpoints",
    "rate_limit_totals",
    "rate_limit_28hr",
    "rate_limit_historical",
    "oauth_timestamp_window_s",
    "oauth_nonce_check",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="engagement-bot", description="X Post engagement metrics in Slack."
    )
    parser.add_argument("--debug", action="store_true", help="log debug output and tracebacks")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    sim = commands.add_parser(
        "simulator",
        help="serve the simulated X API (docs/simulator.md)",
        description="Serve the simulated X API on loopback. Every option can also be given as "
        "an environment variable XENG_SIM_<OPTION>, e.g. XENG_SIM_PORT=0.",
    )
    for name, (text, kind) in SIMULATOR_OPTIONS.items():
        sim.add_argument("--" + name.replace("_", "-"), dest=name, type=kind, help=text)

    from bot.copy.messages import cli_query_exit_codes

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

    commands.add_parser(
        "rotate-key",
        help="re-encrypt stored X tokens with a new key",
        description="Re-encrypt every stored X token under the first key of "
        "ENGAGEMENT_SECRET_KEY. Set it to NEW,OLD, run this, then drop OLD.",
    )

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Servers log what they do; the other commands' output is their answer, not a call log.
    quiet = args.command not in ("simulator", "run")
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "simulator":
            return run_simulator(args, os.environ)
        if args.command == "demo":
            from bot.console.demo import DEMO_START, run_demo

            return run_demo(sys.stdout, now=DEMO_START)
        settings = Settings.from_env(with_dotenv(os.environ, Path(".env")))
        if args.command == "console":
            return run_console(settings, args)
        if args.command == "query":
            from bot.ops import commands as operator

            query_args = operator.QueryArgs(
                args.kind,
                operator.read_posts(args.posts, sys.stdin),
                args.metrics,
                args.fmt,
                args.explain,
                getattr(args, "start", None),
                getattr(args, "end", None),
            )
            return operator.run_query(
                settings,
                query_args,
                now=datetime.now(UTC),
                out=sys.stdout,
                err=sys.stderr,
                progress=args.progress or sys.stderr.isatty(),
            )
        if args.command == "rotate-key":
            from bot.ops import commands as operator

            return operator.rotate_key(settings, out=sys.stdout, now=datetime.now(UTC))
        if args.command == "accounts":
            return run_accounts(settings, args)
        if args.command == "usage":
            from bot.ops import commands as operator

            month = args.month or datetime.now(UTC).strftime("%Y-%m")
            return operator.usage(settings, month=month, out=sys.stdout)
        if args.command == "run":
            return run_bot(settings)
        if args.command == "digest":
            return run_digest_now(settings, args, now=datetime.now(UTC))
        if args.command == "alerts":
            return run_alerts_check(settings, args, now=datetime.now(UTC))
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
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


def run_console(settings: Settings, args: argparse.Namespace) -> int:
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


def run_bot(settings: Settings) -> int:
    """`run`: the Slack bot on the real X client and store, until SIGTERM or Ctrl-C."""
    from bot.app import NO_X_CREDENTIALS, engagement
    from bot.channels.deps import Deps
    from bot.errors import ConfigError
    from bot.slack.server import check_settings, serve

    # The whole configuration, before any file (the database, its key) is created.
    problems = [] if settings.has_x_credentials else [NO_X_CREDENTIALS]
    try:
        check_settings(settings)
    except ConfigError as error:
        problems = error.problems + problems
    if problems:
        raise ConfigError(problems)

    def clock() -> datetime:
        return datetime.now(UTC)

    with engagement(settings) as parts:
        deps = Deps(
            service=parts.service,
            store=parts.store,
            settings=settings,
            x_oauth=parts.client,
            health=parts.health,
        )
        workspaces = None
        if settings.slack_client_id:  # several workspaces: each posts with its own bot token
            from bot.slack.installations import Workspaces

            workspaces = Workspaces.open(settings, parts.store, clock=clock)
        jobs = partial(digest_jobs, clock=clock, workspaces=workspaces)
        return serve(settings, deps, clock=clock, jobs=jobs, workspaces=workspaces)


def digest_jobs(
    deps: Deps,
    web: WebClient,
    *,
    clock: Callable[[], datetime],
    workspaces: Workspaces | None = None,
) -> DigestScheduler:
    """`run`'s scheduler: digests and alert passes posted with the bot's Web API client, or
    with the bot token of each channel's workspace when `workspaces` (OAuth install) is given."""
    from bot.channels.alerts import run_alert_pass
    from bot.channels.digest import prefetch, run_digest
    from bot.channels.tally import run_tally
    from bot.jobs.scheduler import build_scheduler
    from bot.slack.outbox import history_page, slack_post, without_rate_limit_retries
    from bot.slack.reconcile import Reconciler

    if workspaces is None:
        post = slack_post(web)
        reconciler = Reconciler(
            history_page(without_rate_limit_retries(web)),
            team_of=lambda channel_id: None,
            clock=clock,
            sleep=time.sleep,
        )
    else:
        post = workspaces.post
        reconciler = Reconciler(
            workspaces.history_page, team_of=workspaces.team_of, clock=clock, sleep=time.sleep
        )
    return build_scheduler(
        store=deps.store,
        deps=deps,
        post=post,
        clock=clock,
        run_digest=partial(run_digest, find_posted=reconciler, clock=clock),
        run_alerts=partial(run_alert_pass, find_posted=reconciler, clock=clock),
        prefetch=prefetch,
        run_tally=run_tally,
        alert_interval=timedelta(minutes=deps.settings.alert_minutes),
        reconciler=reconciler,
    )


def run_digest_now(settings: Settings, args: argparse.Namespace, *, now: datetime) -> int:
    """`digest`: one channel's digest, posted now with the bot token; prints the outcome."""
    from bot.app import engagement
    from bot.channels.deps import Deps
    from bot.channels.digest import Status, find_channel, run_digest
    from bot.errors import ConfigError
    from bot.slack.outbox import slack_finder, slack_post
    from bot.slack.reconcile import DEADLINE as SEARCH_DEADLINE
    from bot.slack.web import build_web_client, channel_membership

    if not settings.slack_bot_token:
        raise ConfigError(["SLACK_BOT_TOKEN is required to post a digest (xoxb-…)"])
    client = build_web_client(settings, token=settings.slack_bot_token)
    with engagement(settings) as parts:
        channel = find_channel(parts.store, args.channel, team_id=args.team)
        deps = Deps(
            service=parts.service,
            store=parts.store,
            settings=settings,
            can_post=channel_membership(client),
        )
        outcome = run_digest(
            channel,
            local_date=args.date,
            now=now,
            deps=deps,
            post=slack_post(client),
            # Nobody else waits on this one-shot command: it may wait out Slack's history
            # limit (a call a minute) as long as `run`'s paced queue would.
            find_posted=slack_finder(client, patience=SEARCH_DEADLINE.total_seconds()),
        )
    print(outcome.describe())
    return (
        EXIT_FAILURE if outcome.status in (Status.FAILED, Status.PAUSED, Status.BUSY) else EXIT_OK
    )


def run_alerts_check(settings: Settings, args: argparse.Namespace, *, now: datetime) -> int:
    """`alerts check`: one alert pass now, as the scheduler runs it; prints each firing."""
    from bot.app import engagement
    from bot.channels.alerts import describe_firing, run_alert_pass
    from bot.channels.deps import Deps
    from bot.errors import ConfigError
    from bot.slack.outbox import slack_finder, slack_post
    from bot.slack.reconcile import DEADLINE as SEARCH_DEADLINE
    from bot.slack.web import build_web_client, channel_membership

    if not settings.slack_bot_token:
        raise ConfigError(["SLACK_BOT_TOKEN is required to post alerts (xoxb-…)"])
    client = build_web_client(settings, token=settings.slack_bot_token)
    with engagement(settings) as parts:
        channels = None
        if args.channel:
            every = parts.store.channels.alert_channels()
            channels = [
                (team, channel)
                for team, channel in every
                if channel == args.channel and args.team in (None, team)
            ]
            if not channels:
                raise ValueError(f"no alert rules in {args.channel}")
        deps = Deps(
            service=parts.service,
            store=parts.store,
            settings=settings,
            can_post=channel_membership(client),
        )
        fired = run_alert_pass(
            now=now,
            deps=deps,
            post=slack_post(client),
            channels=channels,
            # Nobody else waits on this one-shot command: it may wait out Slack's history
            # limit (a call a minute) as long as `run`'s paced queue would.
            find_posted=slack_finder(client, patience=SEARCH_DEADLINE.total_seconds()),
        )
    for firing in fired:
        print(describe_firing(firing))
    print(f"alerts: {len(fired)} fired")
    return EXIT_OK


def run_accounts(settings: Settings, args: argparse.Namespace) -> int:
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
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-26") from None


def _month(text: str) -> str:
    from bot.store.sql import month_range

    try:
        month_range(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2026-11") from None
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


def simulator_config_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Any:
    """Flags first, then XENG_SIM_* variables; raises ValueError naming a bad value."""
    from bot.simulator.server import SimulatorConfig

    values: dict[str, Any] = {}
    for name, (_, kind) in SIMULATOR_OPTIONS.items():
        value = getattr(args, name, None)
        if value is None and f"XENG_SIM_{name.upper()}" in environ:
            raw = environ[f"XENG_SIM_{name.upper()}"]
            try:
                value = kind(raw)
            except ValueError:
                raise ValueError(f"XENG_SIM_{name.upper()} must be a {kind.__name__}") from None
        if value is not None:
            values[name] = value
    runtime = {k: values.pop(k) for k in list(values) if k in RUNTIME_OPTIONS}
    if "faults" in values:
        try:
            values["faults"] = json.loads(values["faults"])
        except ValueError:
            raise ValueError("--faults must be a JSON object") from None
    if "start_time" in values:
        try:
            values["start_time"] = datetime.fromisoformat(
                values["start_time"].replace("Z", "+00:00")
            )
        except ValueError:
            raise ValueError("--start-time must be an ISO 8601 instant") from None
    if "frozen" in values:
        values["frozen"] = str(values["frozen"]).lower() in ("1", "true", "yes", "on")
    values.setdefault("port", 8787)
    return SimulatorConfig(**values, options=runtime)


def _stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_simulator(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from bot.simulator.server import make_server

    try:
        config = simulator_config_from(args, environ)
        server = make_server(config)
    except (ValueError, OSError) as error:
        print(f"engagement-bot simulator: {error}", file=sys.stderr)
        return EXIT_USAGE if isinstance(error, ValueError) else EXIT_FAILURE
    host, port = str(server.server_address[0]), int(server.server_address[1])
    scheme = "https" if server.tls else "http"
    universe = server.state.universe
    logging.getLogger("bot.simulator").info(
        "mode %s, seed %s, %d accounts, %d Posts",
        server.state.mode,
        universe.seed,
        len(universe.accounts),
        len(universe.posts),
    )
    for account in universe.accounts:
        ids = [str(p.id) for p in universe.posts.values() if p.author == account.user_id]
        logging.getLogger("bot.simulator").info("@%s Posts: %s", account.screen_name, " ".join(ids))
    print(f"listening on {scheme}://{host}:{port}", flush=True)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK
