"""`/engagement campaign … | campaigns | compare …`: campaigns and comparisons, as replies.

Changing a campaign follows `track`'s rule: anyone in the workspace may (a campaign is a list of
Posts, like a channel's tracked ones); the use cases (bot.channels.campaigns, .compare) check
names and input and raise UserFacingError with the sentence to show.
"""

from __future__ import annotations

from datetime import datetime

from bot.channels import campaigns
from bot.channels.compare import Side, compare
from bot.channels.deps import Deps
from bot.channels.hashtags import follow
from bot.channels.measure import Period
from bot.copy import campaigns as say
from bot.engagement.post_refs import PostRef
from bot.render import blocks
from bot.render.campaigns import campaign_message, campaigns_message, compare_message
from bot.render.message import Message
from bot.slack.commands.invocation import Invocation
from bot.slack.parse import commands as c

COMPARE_DAYS = 28


def campaign_new(command: c.CampaignNew, inv: Invocation, deps: Deps, now: datetime) -> Message:
    made = campaigns.create(
        deps,
        inv.team_id,
        inv.channel_id,
        command.name,
        hashtag=command.hashtag,
        from_handle=command.from_handle,
        by=inv.user_id,
        now=now,
    )
    if made.hashtag is None:
        return blocks.confirmation(say.created(made.name, None, None))
    found = follow(deps, made, now=now)
    text = say.created(made.name, f"#{made.hashtag}", found.found, found.problem)
    return blocks.confirmation(text)


def campaign_add(command: c.CampaignAdd, inv: Invocation, deps: Deps, now: datetime) -> Message:
    if command.handle is not None and command.start and command.end:
        period = Period(command.start, command.end)
        made, new, already = campaigns.add_account(
            deps, inv.team_id, command.name, command.handle, period, now=now
        )
        text = say.account_added(made.name, command.handle, new, already, period.start, period.end)
        return blocks.confirmation(text)
    made, new, already = campaigns.add_posts(
        deps, inv.team_id, command.name, command.posts, now=now
    )
    return blocks.confirmation(say.added(made.name, new, already))


def campaign_show(command: c.CampaignShow, inv: Invocation, deps: Deps, now: datetime) -> Message:
    period = Period(command.start, command.end) if command.start and command.end else None
    found = campaigns.report(
        deps, inv.team_id, command.name, period=period, metrics=command.metrics, now=now
    )
    top = tuple(PostRef(p) for p, _ in found.numbers.top)
    return campaign_message(
        found.campaign,
        found.numbers,
        start=found.period.start,
        end=found.period.end,
        first_post=found.first_post,
        authors=deps.store.posts.author_handles(r.post_id for r in top),
        with_chart=_can_upload(inv, deps),
    )


def campaign_delete(
    command: c.CampaignDelete, inv: Invocation, deps: Deps, now: datetime
) -> Message:
    return blocks.confirmation(say.deleted(campaigns.delete(deps, inv.team_id, command.name)))


def campaign_list(command: c.CampaignList, inv: Invocation, deps: Deps, now: datetime) -> Message:
    return campaigns_message(deps.store.campaigns.listed(inv.team_id))


def compare_sides(command: c.Compare, inv: Invocation, deps: Deps, now: datetime) -> Message:
    if command.start and command.end:
        period = Period(command.start, command.end)
    else:
        period = campaigns.last_days(COMPARE_DAYS, now)
    found = compare(
        deps,
        inv.team_id,
        Side(command.a.kind, command.a.ref),
        Side(command.b.kind, command.b.ref),
        period=period,
        metrics=command.metrics,
        now=now,
    )
    return compare_message(
        found.a,
        found.b,
        metrics=found.metrics,
        start=period.start,
        end=period.end,
        rate=found.rate,
        notes=found.notes,
        with_chart=_can_upload(inv, deps),
    )


def _can_upload(inv: Invocation, deps: Deps) -> bool:
    return bool(deps.can_post and deps.can_post(inv.channel_id))
