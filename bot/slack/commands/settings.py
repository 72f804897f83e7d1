"""`/engagement settings`: the channel's settings as text, with the buttons that open the
Digest settings, New alert and Quiet hours modals (bot/slack/interactive/)."""

from __future__ import annotations

from datetime import datetime

from bot.channels.deps import Deps
from bot.channels.home import channel_row
from bot.render.home import settings_message
from bot.render.message import Message
from bot.slack.commands.invocation import Invocation
from bot.slack.parse import commands as c


def show_settings(command: c.Settings, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return settings_message(channel_row(deps, inv.team_id, inv.channel_id), now=now)
