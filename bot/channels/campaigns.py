"""Campaigns, Slack-free: create, add Posts (by hand, an account's period, a hashtag), delete,
list and report. The slash commands, the CLI and the digest all go through here.

A campaign belongs to a workspace; its name is unique there, compared case-insensitively
(bot.store.campaigns.name_key). Bad input is a UserFacingError whose text is in
bot.copy.campaigns, and nothing is stored for it.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.channels.deps import Deps
from bot.channels.measure import Numbers, Period, daily_sums, measure
from bot.copy import campaigns as say
from bot.copy.channel import track_refused
from bot.engagement import snowflake
from bot.engagement.models import DEFAULT_TOTALS, LIMITS
from bot.engagement.post_refs import PostRef
from bot.engagement.query import EngagementQuery, Granularity
from bot.errors import UserFacingError
from bot.store.campaigns import Campaign, name_key

# A report with no period draws the campaign's life, at most this many days back.
LIFE_DAYS = 90
# The digest's Campaigns section: at most this many campaigns, these metrics.
DIGEST_CAMPAIGNS = 5
DIGEST_METRICS = ("impressions", "engagements", "favorites")


@dataclass(frozen=True)
class CampaignDay:
    """A campaign's numbers on one UTC day and the day before (its owned Posts' series)."""

    name: str
    day: Mapping[str, int | None]
    before: Mapping[str, int | None]


@dataclass(frozen=True)
class CampaignReport:
    campaign: Campaign
    numbers: Numbers
    period: Period
    first_post: date | None  # the oldest Post's creation day


def check_name(name: str) -> str:
    """The name as stored (inner spaces collapsed); UserFacingError when empty or too long."""
    tidy = " ".join(name.split())
    if not tidy:
        raise UserFacingError(say.NEEDS_NAME)
    if len(tidy) > say.MAX_NAME:
        raise UserFacingError(say.name_too_long(len(tidy)))
    return tidy


def find(deps: Deps, team_id: str, name: str) -> Campaign:
    """The workspace's campaign of that name; UserFacingError with a did-you-mean if none."""
    found = deps.store.campaigns.named(team_id, name)
    if found is not None:
        return found
    names = {name_key(c.name): c.name for c in deps.store.campaigns.listed(team_id)}
    close = difflib.get_close_matches(name_key(name), list(names), n=1, cutoff=0.6)
    raise UserFacingError(say.unknown(name, names[close[0]] if close else None))


def create(
    deps: Deps,
    team_id: str,
    channel_id: str | None,
    name: str,
    *,
    hashtag: str | None,
    from_handle: str | None,
    by: str,
    now: datetime,
) -> Campaign:
    name = check_name(name)
    if hashtag is not None and not hashtag.strip("#"):
        raise UserFacingError(say.EMPTY_HASHTAG)
    made = deps.store.campaigns.create(
        team_id,
        name,
        hashtag=hashtag.strip("#") if hashtag else None,
        from_handle=from_handle,
        channel_id=channel_id,
        by=by,
        now=now,
    )
    if made is None:
        existing = deps.store.campaigns.named(team_id, name)
        raise UserFacingError(say.duplicate(existing.name if existing else name))
    return made


def add_posts(
    deps: Deps, team_id: str, name: str, posts: Sequence[PostRef], *, now: datetime
) -> tuple[Campaign, int, int]:
    """(campaign, Posts added, Posts already in it)."""
    campaign = find(deps, team_id, name)
    ids = list(dict.fromkeys(p.post_id for p in posts))
    added = deps.store.campaigns.add_posts(campaign.id, ids, source="post", now=now)
    return campaign, len(added), len(ids) - len(added)


def add_account(
    deps: Deps, team_id: str, name: str, handle: str, period: Period, *, now: datetime
) -> tuple[Campaign, int, int]:
    """The account's Posts created in the period (its v2 timeline, read as X shows it to this
    workspace) into the campaign: (campaign, added, already in it)."""
    campaign = find(deps, team_id, name)
    ids = account_posts(deps, team_id, handle, period)
    added = deps.store.campaigns.add_posts(campaign.id, ids, source="account", now=now)
    return campaign, len(added), len(ids) - len(added)


def account_posts(deps: Deps, team_id: str, handle: str, period: Period) -> list[str]:
    """An account's Posts created in the period; UserFacingError when X won't show them."""
    start, end = period.bounds
    found = deps.service.account_posts_between(handle, since=start, until=end, workspace=team_id)
    if found.problem is not None:
        raise UserFacingError(track_refused(f"@{handle}", found.problem))
    return list(found.post_ids)


def delete(deps: Deps, team_id: str, name: str) -> str:
    campaign = find(deps, team_id, name)
    deps.store.campaigns.delete(team_id, campaign.name)
    return campaign.name


def report(
    deps: Deps,
    team_id: str,
    name: str,
    *,
    period: Period | None,
    metrics: Sequence[str],
    now: datetime,
) -> CampaignReport:
    """A campaign's lifetime totals (each Post once), its daily series over `period` (None:
    its life, at most LIFE_DAYS), its top Posts, and how many Posts since when."""
    campaign = find(deps, team_id, name)
    ids = deps.store.campaigns.post_ids(campaign.id)
    first = first_day(ids)
    period = period or life(first, now)
    numbers = measure(
        deps,
        campaign.name,
        ids,
        metrics=tuple(metrics) or DEFAULT_TOTALS,
        period=period,
        now=now,
        workspace=team_id,
    )
    return CampaignReport(campaign, numbers, period, first)


def period_problem(start: date, end: date, today: date | None) -> str | None:
    """Why days [start, end] can't be a period (the one rule for Slack and the command line):
    before X's history, backwards, or in the future."""
    floor = LIMITS.historical_floor.date()
    if start < floor:
        return say.period_before_floor(floor)
    if end < start:
        return say.period_backwards(start, end)
    if today is not None and end > today:
        return say.period_in_future(end, today)
    return None


def first_day(post_ids: Sequence[str]) -> date | None:
    """The oldest Post's creation day (IDs are snowflakes; pre-snowflake ones are skipped)."""
    days = [c.date() for i in post_ids if (c := snowflake.created_at(int(i))) is not None]
    return min(days) if days else None


def life(first: date | None, now: datetime) -> Period:
    today = now.astimezone(UTC).date()
    earliest = today - timedelta(days=LIFE_DAYS - 1)
    start = max(first or today, earliest, LIMITS.historical_floor.date())
    return Period(min(start, today), today)


def last_days(days: int, now: datetime) -> Period:
    today = now.astimezone(UTC).date()
    return Period(today - timedelta(days=days - 1), today)


def yesterday(now: datetime) -> Period:
    day = now.astimezone(UTC).date() - timedelta(days=1)
    return Period(day, day)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def campaign_days(
    deps: Deps, team_id: str, channel_id: str, day: date, *, now: datetime
) -> tuple[tuple[CampaignDay, ...], int]:
    """The digest's Campaigns section: the channel's campaigns (the first DIGEST_CAMPAIGNS)
    on `day` (UTC) and the day before, from one DAY query each over their owned Posts (X's
    day-by-day numbers are the author's alone; None: no owned Post); and how many campaigns
    were left out."""
    found = deps.store.campaigns.of_channel(team_id, channel_id)
    owners = deps.store.accounts.connected_ids(team_id)
    period = Period(day - timedelta(days=1), day)
    rows = []
    for campaign in found[:DIGEST_CAMPAIGNS]:
        ids = deps.store.campaigns.post_ids(campaign.id)
        infos = deps.store.posts.infos(ids)
        owned = tuple(i for i in ids if infos[i].author_id in owners)
        if not owned:
            empty = dict.fromkeys(DIGEST_METRICS)
            rows.append(CampaignDay(campaign.name, empty, empty))
            continue
        query = EngagementQuery(owned, DIGEST_METRICS, Granularity.DAY, *period.bounds)
        sums = daily_sums(
            deps.service.report(query, now=now, workspace=team_id), DIGEST_METRICS, period
        )
        rows.append(
            CampaignDay(
                campaign.name,
                {m: sums[m][period.end] for m in DIGEST_METRICS},
                {m: sums[m][period.start] for m in DIGEST_METRICS},
            )
        )
    return tuple(rows), max(len(found) - DIGEST_CAMPAIGNS, 0)
