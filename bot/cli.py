"""The `engagement-bot` command line: parse (bot/cli_args.py), then dispatch. The only module
that reads the environment and the clock on its own, configures logging and prints; each
command's body lives with what it drives (bot.ops, bot.console, bot.simulator.cli, bot.app for
`run`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from bot.cli_args import build_parser
from bot.config import Settings
from bot.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, BotError, EngagementAPIError

__all__ = ["COMMANDS", "build_parser", "main", "run", "with_dotenv"]

TEXT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def run() -> NoReturn:
    """`engagement-bot` and `python -m bot`: `main()`, then out of the process without tearing
    the interpreter down. Finalising the few hundred modules a command imported costs it tens
    of milliseconds after its answer is out (bench/startup.py), and nothing needs it: by then
    the store is closed and the pools joined. Python's own exit still runs when it matters:
    while a thread that is not a daemon runs on, or when the output cannot be flushed (a closed
    pipe, which Python reports as it always has)."""
    try:
        code = main()
    except SystemExit as exit:  # argparse: --help, a usage error (its message already shown)
        if not isinstance(exit.code, int | None):
            raise
        code = exit.code or 0
    if any(
        t.is_alive() and not t.daemon
        for t in threading.enumerate()
        if t is not threading.main_thread()
    ):
        raise SystemExit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        raise SystemExit(code) from None
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(given).parse_args(given)
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
