"""`engagement-bot digest --channel C --date D`, as it would run `--advance` seconds from now.

    python -m reliability.digest_later --channel C --date 2026-11-25 --advance 330

The product's own code path (bot.cli.run_digest_now: bot.jobs.digest.run_digest with
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

from bot.app import engagement
from bot.config import Settings
from bot.jobs.digest import Status, find_channel, run_digest
from bot.jobs.slack_io import slack_finder, slack_post
from bot.slack.app import build_web_client, channel_membership
from bot.slack.commands import Deps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.digest_later")
    parser.add_argument("--channel", required=True)
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    parser.add_argument("--team")
    parser.add_argument("--advance", type=float, required=True, help="seconds ahead of now")
    args = parser.parse_args(argv)
    settings = Settings.from_env(os.environ)  # noqa: TID251 - as bot/cli.py does
    assert settings.slack_bot_token
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
            now=datetime.now(UTC) + timedelta(seconds=args.advance),  # noqa: TID251
            deps=deps,
            post=slack_post(client),
            find_posted=slack_finder(client),
        )
    print(outcome.describe())  # noqa: T201 - as bot/cli.py does
    return 1 if outcome.status in (Status.FAILED, Status.PAUSED) else 0


if __name__ == "__main__":
    sys.exit(main())
