"""A hashtag campaign whose search X stops early: what the answered pages found is kept, the
newest Post seen is not moved on, and the next search (the next tally) finds the rest, each Post
once. Real parts: the simulator's recent search over loopback, a SQLite file, the service."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest

from bot.app import build_service
from bot.channels import campaigns
from bot.channels.deps import Deps
from bot.channels.hashtags import follow
from bot.store import Store
from tests.support.clocks import FakeClock
from tests.support.fake_slack import TEAM_ID
from tests.support.simhttp import admin
from tests.support.slack_app import settings_for

WINDOW_S = 15 * 60  # X's recent-search rate-limit window


def sim_now(sim: Any) -> datetime:
    return datetime.fromisoformat(admin(sim, "GET", "clock")["now"].replace("Z", "+00:00"))


def truth(sim: Any, query: str) -> list[str]:
    return list(admin(sim, "GET", f"search?query={quote(query)}")["post_ids"])


@pytest.fixture
def clocked(store: Store, client: Any, fake: Any) -> tuple[Deps, FakeClock]:
    """Deps whose service's clock the test moves (as time passes between two tallies)."""
    clock = FakeClock()
    service = build_service(client, store, sleep=clock.sleep, monotonic=clock.monotonic)
    return Deps(service, store, settings_for(fake)), clock


def test_a_rate_limited_search_keeps_its_pages_and_the_next_one_finds_the_rest(sim, clocked):
    deps, clock = clocked
    posts = [
        {"author": "sim_creator", "age_hours": 0.5 + i * 0.6, "hashtags": ["bigsale"]}
        for i in range(230)
    ]
    admin(sim, "POST", "posts", {"posts": posts})
    expected = truth(sim, "#bigsale")
    assert len(expected) == 230
    # Two searches per window, the window just begun: the third page gets a 429 whose reset
    # is too far to wait for.
    admin(sim, "PUT", "options", {"rate_limit_v2_search": 2})
    now = sim_now(sim)
    start = int(now.timestamp()) // WINDOW_S * WINDOW_S
    admin(sim, "POST", "clock", {"advance_seconds": start + 1 - now.timestamp()})
    made = campaigns.create(
        deps, TEAM_ID, "C1", "Big sale", hashtag="bigsale", from_handle=None, by="U1", now=now
    )

    first = follow(deps, made, now=sim_now(sim))
    assert first.problem == "rate limited"
    assert first.added == 200
    kept = deps.store.campaigns.named(TEAM_ID, "big sale")
    assert set(deps.store.campaigns.post_ids(kept.id)) == set(expected[:200])
    assert kept.newest_id is None  # the search was not complete: ask again from the start

    # A later tally, under X's usual limit: it asks the whole window again.
    admin(sim, "PUT", "options", {"rate_limit_v2_search": 450})
    admin(sim, "POST", "clock", {"advance_seconds": WINDOW_S})
    clock.t += WINDOW_S
    second = follow(deps, kept, now=sim_now(sim))
    assert second.problem is None
    assert second.added == 30
    after = deps.store.campaigns.post_ids(kept.id)
    assert sorted(after) == sorted(expected)
    assert deps.store.campaigns.named(TEAM_ID, "big sale").newest_id == expected[0]
