"""The Posts a channel reports on, gathered the one way `top`, digests and alert passes share.

    channel_coverage: the channel's tracked Posts and tracked accounts;
                      tracking nothing, the accounts connected to its workspace
    collect_channel_posts: those Posts + each account's recent Posts (service.account_posts)
    collect_channel_set:   the same Posts as a PostSet: the tracked ones stay in the store
                           (`top` over 100,000 Posts reads no list of them)

A channel that tracks nothing is about the workspace's own Posts: every connected account's.
Tracking anything (a Post or an account) replaces that with what the channel chose.

An account X will not list (protected, suspended, gone) or fails on this time is skipped and
named with its problem, never raised: the others are still ranked, digested and watched, and
the reply says what was left out and why.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime

from bot.engagement.query import AccountPosts
from bot.engagement.records import PostSet
from bot.engagement.service import EngagementService
from bot.store import Store
from bot.store.channels import Coverage


@dataclass(frozen=True)
class ChannelPosts:
    post_ids: tuple[str, ...]  # distinct, tracked Posts first
    skipped: tuple[AccountPosts, ...] = ()  # accounts left out, each with its problem
    coverage: Coverage | None = None  # what they were gathered from (read once per pass)


@dataclass(frozen=True)
class ChannelSet:
    """The channel's Posts as collect_channel_set gathers them."""

    posts: PostSet  # the channel's tracked Posts (read by the store) + its accounts' Posts
    covered: int  # how many distinct Posts that is
    skipped: tuple[AccountPosts, ...] = ()  # accounts left out, each with its problem
    coverage: Coverage | None = None  # what they came from; its `posts` not listed (`posts`)


def channel_coverage(store: Store, team_id: str, channel_id: str) -> Coverage:
    """The one answer to "which Posts does this channel cover?" (see the module docstring)."""
    posts = store.channels.tracked(team_id, channel_id, "post")
    handles = store.channels.tracked(team_id, channel_id, "account")
    return _coverage(store, team_id, tuple(posts), tuple(handles), tracks_posts=bool(posts))


def _coverage(
    store: Store,
    team_id: str,
    posts: tuple[str, ...],
    handles: tuple[str, ...],
    *,
    tracks_posts: bool,
) -> Coverage:
    if tracks_posts or handles:
        return Coverage(posts, handles)
    return Coverage(
        (), tuple(a.screen_name for a in store.accounts.listed(team_id)), connected=True
    )


def collect_channel_posts(
    store: Store,
    service: EngagementService,
    team_id: str,
    channel_id: str,
    *,
    since: datetime,
    seen: MutableMapping[str, AccountPosts] | None = None,
) -> ChannelPosts:
    """The Posts of the channel's coverage: its Posts, plus its accounts' Posts created since
    `since`; `seen` (by lower-case handle) spares a second timeline read of an account within
    one pass."""
    coverage = channel_coverage(store, team_id, channel_id)
    ids = list(coverage.posts)
    skipped: list[AccountPosts] = []
    for handle in coverage.handles:
        found = account_posts(service, handle, since=since, workspace=team_id, seen=seen)
        ids.extend(found.post_ids)
        if found.problem is not None:
            skipped.append(found)
    return ChannelPosts(tuple(dict.fromkeys(ids)), tuple(skipped), coverage)


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


def collect_channel_set(
    store: Store, service: EngagementService, team_id: str, channel_id: str, *, since: datetime
) -> ChannelSet:
    """collect_channel_posts for a leaderboard: the channel's tracked Posts are counted, not
    listed, and reach the ranking as the channel's name (a PostSet), so a channel tracking
    100,000 Posts costs no Python work per Post here."""
    tracked = PostSet(channel=(team_id, channel_id))
    count = store.posts.count(tracked)
    handles = tuple(store.channels.tracked(team_id, channel_id, "account"))
    coverage = _coverage(store, team_id, (), handles, tracks_posts=count > 0)
    ids: list[str] = []
    skipped: list[AccountPosts] = []
    for handle in coverage.handles:
        found = account_posts(service, handle, since=since, workspace=team_id)
        ids.extend(found.post_ids)
        if found.problem is not None:
            skipped.append(found)
    posts = PostSet(tuple(dict.fromkeys(ids)), tracked.channel)
    covered = store.posts.count(posts) if ids else count
    return ChannelSet(posts, covered, tuple(skipped), coverage)
