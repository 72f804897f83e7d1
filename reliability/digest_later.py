"""`engagement-bot digest --channel C --date D`, as it would run `--advance` seconds from now.

    python -m reliability.digest_later --channel C --date 2026-11-25 --advance 330

The product's own code path (bot.ops.jobs.run_digest_now: bot.channels.digest.run_digest with
slack_post and slack_finder on the bot's Web API client and store) with one change: the clock
it is given is ahead by `--advance` seconds. The suite uses it to show what a restarted bot does
once an abandoned claim is older than CLAIM_STALE_AFTER (5 minutes) without waiting for it:
run_digest takes `now` as a parameter (bot/cli.py is the only module that reads the clock).
Configured from the environment exactly like `engagement-bot digest`.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, date, datetime, timedelta

from bot.config import Settings
from bot.ops.jobs import run_digest_now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.digest_later")
    parser.add_argument("--channel", required=True)
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    parser.add_argument("--team")
    parser.add_argument("--advance", type=float, required=True, help="seconds ahead of now")
    args = parser.parse_args(argv)
    settings = Settings.from_env(os.environ)  # noqa: TID251 - as bot/cli.py does
    ahead = datetime.now(UTC) + timedelta(seconds=args.advance)  # noqa: TID251
    return run_digest_now(settings, args, now=ahead, out=sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
