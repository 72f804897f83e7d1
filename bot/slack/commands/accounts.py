"""`/engagement connect | accounts | disconnect | usage`: the workspace's X accounts and its
use of X."""

from __future__ import annotations

from datetime import datetime

from bot.channels.deps import Deps
from bot.copy import channel
from bot.copy.connect import CONNECT_NOT_SET_UP, connect_link
from bot.errors import UserFacingError
from bot.render import blocks
from bot.render.message import Message
from bot.slack.commands.invocation import Invocation
from bot.slack.connect import TTL_MINUTES, start_link
from bot.slack.parse import commands as c


def connect(command: c.Connect, inv: Invocation, deps: Deps, now: datetime) -> Message:
    if deps.x_oauth is None:
        raise UserFacingError(CONNECT_NOT_SET_UP)
    url = start_link(
        deps.store,
        deps.settings,
        team_id=inv.team_id,
        channel_id=inv.channel_id,
        user_id=inv.user_id,
        response_url=inv.response_url,
        now=now,
    )
    return Message(
        text=connect_link(url, TTL_MINUTES),
        ephemeral=True,
    )


def list_accounts(command: c.Accounts, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return blocks.accounts_message(deps.store.accounts.listed(inv.team_id))


def disconnect(command: c.Disconnect, inv: Invocation, deps: Deps, now: datetime) -> Message:
    account = deps.store.accounts.find(command.handle, inv.team_id)
    if account is None:
        raise UserFacingError(channel.not_connected_here(command.handle))
    if account.workspace is None:
        # Linked by the operator for every workspace: this one stops using it, the others
        # keep it (only the operator deletes its tokens).
        deps.store.accounts.exclude(account.user_id, inv.team_id, now=now)
        return blocks.confirmation(channel.disconnected_here(account.handle))
    deps.store.accounts.remove(account.user_id)
    return blocks.confirmation(channel.disconnected(account.handle))


def usage(command: c.Usage, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return blocks.usage_message(deps.store.usage.month(now.strftime("%Y-%m"), inv.team_id))
