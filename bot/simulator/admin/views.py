"""The simulator's objects as the admin interface shows them (plain JSON values)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bot.engagement.models import Endpoint
from bot.simulator.state import SimState
from bot.simulator.universe import Account, Post, Spike, iso, iso_ms


def account_view(account: Account) -> dict[str, Any]:
    return {
        "user_id": account.user_id,
        "screen_name": account.screen_name,
        "protected": account.protected,
        "base_reach": account.base_reach,
        "tokens": [asdict(t) for t in account.tokens],
    }


def post_view(state: SimState, post: Post) -> dict[str, Any]:
    author = state.universe.account_by_id(post.author)
    view = asdict(post)
    view.update(
        id=str(post.id),
        author_screen_name=author.screen_name if author else None,
        created_at=iso_ms(post.created_at),
    )
    return view


def clock_view(state: SimState) -> dict[str, Any]:
    return {"now": iso(state.now()), "mode": state.clock.mode}


def spike_view(spike: Spike) -> dict[str, Any]:
    return {
        "post_id": str(spike.post_id),
        "hour": iso(spike.hour),
        "multiplier": spike.multiplier,
        "hours": spike.hours,
    }


def rate_limits_view(state: SimState) -> dict[str, Any]:
    return {
        app.name: {
            e.value: app.rate_limit(e.value, state.options.rate_limit(e.value)) for e in Endpoint
        }
        for app in state.universe.apps
    }


def options_view(state: SimState) -> dict[str, Any]:
    options = asdict(state.options)
    options["impressions_age_limit_endpoints"] = sorted(
        state.options.impressions_age_limit_endpoints
    )
    return options
