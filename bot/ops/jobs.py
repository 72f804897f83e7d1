"""`engagement-bot digest` and `alerts check`: one digest or one alert pass now, through the
scheduler's own code, with SLACK_BOT_TOKEN; each prints its outcome."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TextIO

from bot.app import engagement, one_shot_slack
from bot.config import Settings
from bot.copy import terminal
from bot.errors import EXIT_FAILURE, EXIT_OK


def run_digest_now(
    settings: Settings, args: argparse.Namespace, *, now: datetime, out: TextIO
) -> int:
    """`digest`: one channel's digest, posted now with the bot token; prints the outcome."""
    from bot.channels.digest import Status, find_channel, run_digest

    slack = one_shot_slack(settings, needed_for="post a digest")
    with engagement(settings) as parts:
        channel = find_channel(parts.store, args.channel, team_id=args.team)
        outcome = run_digest(
            channel,
            local_date=args.date,
            now=now,
            deps=parts.deps(settings, can_post=slack.can_post),
            post=slack.post,
            find_posted=slack.find_posted,
        )
    out.write(outcome.describe() + "\n")
    failed = outcome.status in (Status.FAILED, Status.PAUSED, Status.BUSY)
    return EXIT_FAILURE if failed else EXIT_OK


def run_alerts_check(
    settings: Settings, args: argparse.Namespace, *, now: datetime, out: TextIO
) -> int:
    """`alerts check`: one alert pass now, as the scheduler runs it; prints each firing."""
    from bot.channels.alerts import describe_firing, run_alert_pass

    slack = one_shot_slack(settings, needed_for="post alerts")
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
                raise ValueError(terminal.no_alert_rules(args.channel))
        fired = run_alert_pass(
            now=now,
            deps=parts.deps(settings, can_post=slack.can_post),
            post=slack.post,
            channels=channels,
            find_posted=slack.find_posted,
        )
    for firing in fired:
        out.write(describe_firing(firing) + "\n")
    out.write(f"alerts: {len(fired)} fired\n")
    return EXIT_OK
