"""`/engagement help [subcommand]`."""

from __future__ import annotations

from datetime import datetime

from bot.channels.deps import Deps
from bot.render import blocks
from bot.render.message import Message
from bot.slack.commands.invocation import Invocation
from bot.slack.parse import commands as c


def show_help(command: c.Help, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return blocks.help_reply(command.topic)
