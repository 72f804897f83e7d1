"""Domain values to Slack messages: pure functions returning `Message` (text fallback plus
Block Kit built with `slack_sdk.models.blocks`). The sentences come from bot.copy.

    totals_message       /engagement totals: cards for a few Posts, compact rows for many
    hourly_message       /engagement hourly: totals, peak, sparkline, table, chart
    daily_message        /engagement daily: the same by day
    leaderboard_message  /engagement top (in_channel)
    tracked_message, accounts_message, alerts_message, usage_message
    help_reply, help_message, error_message, failure_message, confirmation, ack_text

Anything too big for one Slack message comes back as a first message plus `continuation`
messages, each within Slack's limits (tests/support/slack_limits.py checks them all).
"""

from bot.render.lists import (
    accounts_message,
    alerts_message,
    leaderboard_message,
    tracked_message,
    usage_message,
)
from bot.render.replies import (
    ack_text,
    confirmation,
    error_message,
    failure_message,
    help_message,
    help_reply,
)
from bot.render.series import daily_message, hourly_message
from bot.render.totals import totals_message

__all__ = [
    "accounts_message",
    "ack_text",
    "alerts_message",
    "confirmation",
    "daily_message",
    "error_message",
    "failure_message",
    "help_message",
    "help_reply",
    "hourly_message",
    "leaderboard_message",
    "totals_message",
    "tracked_message",
    "usage_message",
]
