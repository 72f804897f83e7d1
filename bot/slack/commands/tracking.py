"""`/engagement track | untrack | tracked`: the Posts and accounts a channel covers."""

from __future__ import annotations

from datetime import datetime

from bot.channels.authors import post_authors
from bot.channels.coverage import channel_coverage
from bot.channels.deps import Deps
from bot.copy import channel
from bot.copy.commands import NONE_UNTRACKED, now_tracking, stopped_tracking
from bot.errors import UserFacingError
from bot.render import blocks
from bot.render.message import Message
from bot.slack.commands.invocation import Invocation
from bot.slack.parse import commands as c


def track(command: c.Track, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    for handle in command.handles:
        # An account whose Posts this workspace cannot read would only ever be skipped.
        problem = deps.service.account_problem(handle, workspace=inv.team_id)
        if problem is not None:
            raise UserFacingError(channel.track_refused(f"@{handle}", problem))
    posts = channels.track(
        inv.team_id,
        inv.channel_id,
        kind="post",
        refs=[r.post_id for r in command.posts],
        by=inv.user_id,
        now=now,
    )
    handles = channels.track(
        inv.team_id,
        inv.channel_id,
        kind="account",
        refs=[h.lower() for h in command.handles],
        by=inv.user_id,
        now=now,
    )
    added = [*posts, *(f"@{h}" for h in handles)]
    already = len(command.posts) + len(command.handles) - len(added)
    return blocks.confirmation(now_tracking(added, already))


def untrack(command: c.Untrack, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    posts = channels.untrack(
        inv.team_id, inv.channel_id, kind="post", refs=[r.post_id for r in command.posts]
    )
    handles = channels.untrack(
        inv.team_id, inv.channel_id, kind="account", refs=[h.lower() for h in command.handles]
    )
    removed = [*posts, *(f"@{h}" for h in handles)]
    if not removed:
        raise UserFacingError(NONE_UNTRACKED)
    return blocks.confirmation(stopped_tracking(removed))


def list_tracked(command: c.Tracked, inv: Invocation, deps: Deps, now: datetime) -> Message:
    channels = deps.store.channels
    posts = channels.tracked(inv.team_id, inv.channel_id, "post")
    return blocks.tracked_message(
        posts,
        channels.tracked(inv.team_id, inv.channel_id, "account"),
        coverage=channel_coverage(deps.store, inv.team_id, inv.channel_id),
        authors=post_authors(deps.store, posts),
    )
