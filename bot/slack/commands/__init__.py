"""`/engagement` end to end without Bolt: text in, Message out.

`run()` parses the text, asks the engagement service or the store, and renders the answer.
Bad input comes back as a short usage Message; anything unexpected propagates to the app's
global error handler. The console drives exactly this path.

Here: run(), who may change what (GUARDED), which subcommands ask X (ASKS_X), and the table
from each parsed command to its handler. The handlers live by area: numbers (totals, hourly,
daily, top), tracking, campaigns (campaign, campaigns, compare), digest, alerts (alert, alerts,
snooze, quiet), accounts (connect, accounts, disconnect, usage) and help; each takes
(command, invocation, deps, now).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime

from bot.channels.deps import Deps
from bot.channels.outbox import pause_note
from bot.copy import errors, period_digest
from bot.errors import EngagementAPIError, SlackUnavailable, TimedOut, UsageError, UserFacingError
from bot.render import blocks
from bot.render.message import Message
from bot.slack.commands.accounts import connect, disconnect, list_accounts, usage
from bot.slack.commands.alerts import (
    alert_off,
    alert_spike,
    alert_threshold,
    list_alerts,
    mute,
    quiet,
    snooze,
)
from bot.slack.commands.campaigns import (
    campaign_add,
    campaign_delete,
    campaign_list,
    campaign_new,
    campaign_show,
    compare_sides,
)
from bot.slack.commands.digest import (
    digest_now,
    digest_off,
    digest_on,
    digest_period_off,
    digest_period_on,
)
from bot.slack.commands.help import show_help
from bot.slack.commands.invocation import Invocation
from bot.slack.commands.numbers import daily, hourly, top, totals
from bot.slack.commands.settings import show_settings
from bot.slack.commands.tracking import list_tracked, track, untrack
from bot.slack.outbox import with_pause_note
from bot.slack.parse import commands as c
from bot.slack.parse.grammar import parse

log = logging.getLogger(__name__)

__all__ = ["ASKS_X", "GUARDED", "Invocation", "asks_x", "handle", "perform", "refusal", "run"]


# Subcommands that change what a workspace or channel gets, and what the refusal calls it.
# Reads, `digest now`, and track/untrack (a channel's own list) stay open to everyone.
GUARDED: Mapping[type, str] = {
    c.Connect: "connected X accounts",
    c.Disconnect: "connected X accounts",
    c.DigestOn: "the daily digest",
    c.DigestOff: "the daily digest",
    c.DigestPeriodOn: period_digest.SETTINGS_NAME,
    c.DigestPeriodOff: period_digest.SETTINGS_NAME,
    c.AlertThreshold: "alerts",
    c.AlertSpike: "alerts",
    c.AlertOff: "alerts",
    c.Snooze: "alerts",
    c.Quiet: "quiet hours",
    c.Mute: "alerts",
}


# Subcommands that ask X (numbers, account lookups): they run on the bot's X pool under the
# answer's deadline. Everything else answers from the store (and Slack) alone, on its own pool,
# so a slow X never holds back `help`, `usage` or a settings change.
ASKS_X: frozenset[type] = frozenset(
    {
        *(c.Totals, c.Hourly, c.Daily, c.Top, c.Track, c.DigestNow),
        *(c.CampaignNew, c.CampaignAdd, c.CampaignShow, c.Compare),
    }
)


def asks_x(text: str, *, today: date) -> bool:
    """Whether `/engagement <text>` will call X (text that does not parse will not)."""
    try:
        return type(parse(text, today=today)) in ASKS_X
    except UsageError:
        return False


def run(invocation: Invocation, *, deps: Deps, now: datetime) -> Message:
    """The reply to one `/engagement` invocation."""
    try:
        command = parse(invocation.text, today=now.date())
    except UsageError as error:
        return blocks.error_message(str(error))
    return perform(command, invocation, deps=deps, now=now)


def refusal(command: object, invocation: Invocation, *, deps: Deps) -> str | None:
    """Why this person may not run this (GUARDED) command here, or None: the one permission
    rule, for typed commands, buttons and modals alike."""
    what = GUARDED.get(type(command))
    if what is None or deps.may_change is None:
        return None
    try:
        allowed = deps.may_change(invocation.team_id, invocation.user_id)
    except SlackUnavailable as error:
        return errors.slack_busy(what, error.retry_after)
    return None if allowed else errors.not_allowed(what)


def perform(command: object, invocation: Invocation, *, deps: Deps, now: datetime) -> Message:
    """A parsed command's reply, permission checked: what `run` does after parsing, and what a
    button does with the command it stands for."""
    refused = refusal(command, invocation, deps=deps)
    if refused is not None:
        return blocks.error_message(refused)
    try:
        reply = handle(command, invocation, deps=deps, now=now)
    except UserFacingError as error:
        return blocks.error_message(str(error))
    except TimedOut:
        return blocks.error_message(errors.x_timed_out())
    except EngagementAPIError as error:
        # X refused or failed outright (not a per-Post gap): say so plainly, permanent or not;
        # nothing was lost. The raw error goes to the log under the ref, not to the person.
        ref = uuid.uuid4().hex[:8]
        log.warning("ref %s: X refused or failed: %s", ref, error)
        return blocks.error_message(errors.x_error(error, ref))
    # A channel whose digests and alerts Slack refused hears why at its next interaction.
    settings = deps.store.channels.settings(invocation.team_id, invocation.channel_id)
    return with_pause_note(reply, pause_note(settings))


def handle(command: object, invocation: Invocation, *, deps: Deps, now: datetime) -> Message:
    """The command's handler, unguarded: UserFacingError says what was wrong with it."""
    return _HANDLERS[type(command)](command, invocation, deps, now)


_HANDLERS: dict[type, Callable[..., Message]] = {
    c.Help: show_help,
    c.Totals: totals,
    c.Hourly: hourly,
    c.Daily: daily,
    c.Top: top,
    c.Track: track,
    c.Untrack: untrack,
    c.Tracked: list_tracked,
    c.DigestOn: digest_on,
    c.DigestOff: digest_off,
    c.DigestNow: digest_now,
    c.DigestPeriodOn: digest_period_on,
    c.DigestPeriodOff: digest_period_off,
    c.AlertThreshold: alert_threshold,
    c.AlertSpike: alert_spike,
    c.Alerts: list_alerts,
    c.AlertOff: alert_off,
    c.Snooze: snooze,
    c.Quiet: quiet,
    c.Connect: connect,
    c.Accounts: list_accounts,
    c.Disconnect: disconnect,
    c.Usage: usage,
    c.CampaignNew: campaign_new,
    c.CampaignAdd: campaign_add,
    c.CampaignShow: campaign_show,
    c.CampaignDelete: campaign_delete,
    c.CampaignList: campaign_list,
    c.Compare: compare_sides,
    c.Settings: show_settings,
    c.Mute: mute,
}
