"""Hashtag campaigns, Slack-free: find a followed hashtag's Posts through X's recent search and
add them to the campaign, each once.

    follow(campaign)   one search, newer than the newest Post the campaign has seen
                       (`since_id`; all of X's 7-day window the first time)
    follow_all()       every workspace's hashtag campaigns: the daily tally's step

A search that stopped early (a page refused, rate limited, X slow: SearchResult.complete False)
keeps what it found but does not move `since_id`, so the next search asks again from where the
last complete one ended and nothing between is lost; Posts found twice are stored once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.channels.deps import Deps
from bot.store.campaigns import Campaign

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Followed:
    """What one search added: `found` Posts matched, `added` were new to the campaign;
    `problem` is why the search stopped early (None: it was complete)."""

    campaign: str
    found: int
    added: int
    problem: str | None = None


def search_query(hashtag: str, from_handle: str | None) -> str:
    """The recent-search query of a hashtag campaign: original Posts only (a repost is not the
    campaign's Post), optionally from one account."""
    author = f" from:{from_handle}" if from_handle else ""
    return f"#{hashtag}{author} -is:retweet"


def follow(deps: Deps, campaign: Campaign, *, now: datetime) -> Followed:
    """Search for the campaign's hashtag and add what is new; see the module docstring."""
    if campaign.hashtag is None:
        return Followed(campaign.name, 0, 0)
    query = search_query(campaign.hashtag, campaign.from_handle)
    result = deps.service.search_recent(query, since_id=campaign.newest_id, now=now)
    with deps.store.transaction():
        added = deps.store.campaigns.add_posts(
            campaign.id, result.post_ids, source="hashtag", now=now
        )
        if result.complete and result.newest_id is not None:
            deps.store.campaigns.saw_newest(campaign.id, result.newest_id)
    if not result.complete:
        log.warning("search for campaign %d stopped early: %s", campaign.id, result.problem)
    return Followed(campaign.name, len(result.post_ids), len(added), result.problem)


def follow_all(deps: Deps, *, now: datetime) -> list[Followed]:
    """Every workspace's hashtag campaigns, one search each (the daily tally runs this)."""
    return [follow(deps, campaign, now=now) for campaign in deps.store.campaigns.following()]
