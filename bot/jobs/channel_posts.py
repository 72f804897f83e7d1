"""The Posts a channel reports on, gathered the one way `top`, digests and alert passes share.

    tracked Posts + each tracked account's recent Posts (service.account_posts)

An account X will not list (protected, suspended, gone) or fails on this time is skipped and
named with its problem, never raised: the others are still ranked, digested and watched, and
the reply says what was left out and why.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime

from bot.engagement.query import AccountPosts
from bot.engagement.service import EngagementService
from bot.store import Store


@dataclass(frozen=True)
class ChannelPosts:
    post_ids: tuple[str, ...]  # distinct, tracked Posts first
    skipped: tuple[AccountPosts, ...] = ()  # accounts left out, each with its problem


def channel_accounts(
    store: Store, team_id: str, channel_id: str, *, connected_fallback: bool
) -> tuple[list[str], bool]:
    """The handles whose Posts the channel covers, and whether the channel chose them: the
    accounts it tracks; with `connected_fallback` (the digest's rule), a channel tracking none
    covers every account connected to its workspace (their Posts are the workspace's own)."""
    tracked = store.channels.tracked(team_id, channel_id, "account")
    if tracked or not connected_fallback:
        return tracked, True
    return [a.screen_name for a in store.accounts(team_id)], False


def collect_channel_posts(
    store: Store,
    service: EngagementService,
    team_id: str,
    channel_id: str,
    *,
    since: datetime,
    connected_fallback: bool = False,
    seen: MutableMapping[str, AccountPosts] | None = None,
) -> ChannelPosts:
    """The channel's tracked Posts plus its accounts' Posts created since `since`; `seen`
    (by lower-case handle) spares a second timeline read of an account within one pass."""
    ids = store.channels.tracked(team_id, channel_id, "post")
    handles, _ = channel_accounts(store, team_id, channel_id, connected_fallback=connected_fallback)
    skipped: list[AccountPosts] = []
    for handle in handles:
        found = account_posts(service, handle, since=since, workspace=team_id, seen=seen)
        ids.extend(found.post_ids)
        if found.problem is not None:
            skipped.append(found)
    return ChannelPosts(tuple(dict.fromkeys(ids)), tuple(skipped))


def account_posts(
    service: EngagementService,
    handle: str,
    *,
    since: datetime,
    workspace: str,
    seen: MutableMapping[str, AccountPosts] | None = None,
) -> AccountPosts:
    key = handle.lstrip("@").lower()
    if seen is not None and key in seen:
        return seen[key]
    found = service.account_posts(key, since=since, workspace=workspace)
    if seen is not None:
        seen[key] = found
    return found
