"""`compare A vs B`, Slack-free: each side a campaign, an @handle (the account's Posts created in
the period) or a Post, measured the same way (bot.channels.measure) and set side by side.

Which metrics: those asked for; else, when both sides are wholly by connected accounts,
impressions, engagements and the public ones plus the engagement rate; else the public metrics
only, with the reason (X serves impressions only to a Post's author).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.channels import campaigns
from bot.channels.deps import Deps
from bot.channels.measure import Numbers, Period, measure
from bot.copy import campaigns as say
from bot.engagement.models import PUBLIC_METRICS
from bot.errors import UserFacingError

OWNED_METRICS = ("impressions", "engagements", "favorites", "retweets", "replies")
PUBLIC_DEFAULT = ("favorites", "retweets", "quote_tweets", "replies")


@dataclass(frozen=True)
class Side:
    """What one side names: kind "campaign" (ref = its name), "account" (ref = handle without
    "@") or "post" (ref = the Post ID)."""

    kind: str
    ref: str

    @property
    def label(self) -> str:
        return f"@{self.ref}" if self.kind == "account" else self.ref


@dataclass(frozen=True)
class Comparison:
    a: Numbers
    b: Numbers
    metrics: tuple[str, ...]
    period: Period
    rate: bool  # both sides owned: the engagement rate is a row too
    notes: tuple[str, ...]


def compare(
    deps: Deps,
    team_id: str,
    a: Side,
    b: Side,
    *,
    period: Period,
    metrics: Sequence[str],
    now: datetime,
) -> Comparison:
    ids_a, label_a = side_posts(deps, team_id, a, period)
    ids_b, label_b = side_posts(deps, team_id, b, period)
    # Ask for every metric either table could show; which ones are shown is decided after,
    # from what the sides turned out to be (the planner asks each Post only what it may read).
    asked = tuple(metrics) or tuple(dict.fromkeys([*OWNED_METRICS, *PUBLIC_DEFAULT]))
    one = measure(deps, label_a, ids_a, metrics=asked, period=period, now=now, workspace=team_id)
    two = measure(deps, label_b, ids_b, metrics=asked, period=period, now=now, workspace=team_id)
    owned = one.all_owned and two.all_owned
    shown = tuple(metrics) or (OWNED_METRICS if owned else PUBLIC_DEFAULT)
    notes = [say.side_empty(n.label) for n in (one, two) if not n.posts]
    if not owned:
        notes += [
            say.why_no_impressions(n.label, account=side.kind == "account")
            for n, side in ((one, a), (two, b))
            if n.posts and not n.all_owned and (not metrics or set(metrics) - PUBLIC_METRICS)
        ]
    rate = owned and {"impressions", "engagements"} <= set(shown)
    return Comparison(one, two, shown, period, rate, tuple(notes))


def side_posts(deps: Deps, team_id: str, side: Side, period: Period) -> tuple[list[str], str]:
    """The side's Posts and its label; UserFacingError when it names nothing readable."""
    if side.kind == "campaign":
        found = campaigns.find(deps, team_id, side.ref)
        return deps.store.campaigns.post_ids(found.id), found.name
    if side.kind == "account":
        return campaigns.account_posts(deps, team_id, side.ref, period), side.label
    if side.kind == "post":
        return [side.ref], side.label
    raise UserFacingError(say.COMPARE_NEEDS_BOTH)
