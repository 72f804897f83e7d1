"""Recent search through the engagement service, over loopback HTTP to the simulator, into a
real SQLite file: every page followed, exactly the simulator's own matches
(GET /_sim/search, docs/simulator.md#recent-search), authors remembered, and a 429, a refused
operator or no match at all each answered without losing what was found."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest

from bot.app import build_service
from bot.engagement.deadline import Deadline, within
from bot.engagement.models import UserAuth
from bot.engagement.query import AccountProblem
from bot.engagement.service import EngagementService
from bot.simulator.server import RunningSimulator
from bot.store import Store
from tests.support.simhttp import admin, x_client
from tests.support.universe import SIM_START

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
WINDOW_S = 15 * 60


class SimClock:
    """Injected monotonic time; waiting moves the simulator's clock (and its rate windows)."""

    def __init__(self, sim: RunningSimulator) -> None:
        self.sim = sim
        self.t = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        admin(self.sim, "POST", "clock", {"advance_seconds": seconds})
        self.t += seconds


@pytest.fixture
def clock(sim: RunningSimulator) -> SimClock:
    return SimClock(sim)


@pytest.fixture
def service(sim: RunningSimulator, store: Store, clock: SimClock) -> Iterator[EngagementService]:
    # A connected account, so that authorship matters and is looked up when unknown.
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=SIM_START
    )
    with x_client(sim) as client:
        yield build_service(client, store, sleep=clock.sleep, monotonic=clock.monotonic)


def sim_now(sim: RunningSimulator) -> datetime:
    return datetime.fromisoformat(admin(sim, "GET", "clock")["now"].replace("Z", "+00:00"))


def truth(sim: RunningSimulator, query: str, since_id: str | None = None) -> list[str]:
    """The simulator's own list of matches, newest first."""
    extra = f"&since_id={since_id}" if since_id else ""
    ids: list[str] = admin(sim, "GET", f"search?query={quote(query)}{extra}")["post_ids"]
    return ids


def add_tagged(sim: RunningSimulator, count: int, tag: str, *, who: str = "sim_creator") -> None:
    """`count` Posts by `who` carrying `#tag`, spread over the last 6 days."""
    posts: list[dict[str, Any]] = [
        {"author": who, "age_hours": 0.5 + i * 140 / count, "hashtags": [tag]} for i in range(count)
    ]
    admin(sim, "POST", "posts", {"posts": posts})


def test_a_search_spanning_three_pages_finds_exactly_the_simulators_matches(sim, service, store):
    add_tagged(sim, 230, "bigsale")
    expected = truth(sim, "#bigsale")
    assert len(expected) == 230  # three pages of 100

    result = service.search_recent("#bigsale", now=sim_now(sim))

    assert result.post_ids == tuple(expected)
    assert len(set(result.post_ids)) == len(result.post_ids)
    assert result.newest_id == max(expected, key=int)
    assert result.complete
    assert result.problem is None
    # Every author and handle was learned from the search itself: nothing left to look up.
    assert service.unknown_authors(result.post_ids) == []
    handles = store.posts.author_handles(result.post_ids)
    assert set(handles.values()) == {"sim_creator"}
    assert len(handles) == 230


def test_the_default_universe_has_campaign_hashtags_to_find(sim, service):
    """#springlaunch is on both sim_brand's and sim_creator's Posts of the last 7 days."""
    result = service.search_recent("#springlaunch", now=sim_now(sim))
    assert result.post_ids == tuple(truth(sim, "#springlaunch"))
    brand = service.search_recent("#springlaunch from:sim_brand -is:retweet", now=sim_now(sim))
    creator = service.search_recent("#springlaunch from:sim_creator", now=sim_now(sim))
    assert brand.post_ids
    assert creator.post_ids
    assert set(brand.post_ids) | set(creator.post_ids) <= set(result.post_ids)


def test_since_id_finds_only_the_new_matches_a_day_later(sim, service):
    add_tagged(sim, 30, "bigsale")
    first = service.search_recent("#bigsale", now=sim_now(sim))
    assert first.complete
    assert len(first.post_ids) == 30

    admin(sim, "POST", "clock", {"advance_seconds": 24 * 3600})
    admin(
        sim,
        "POST",
        "posts",
        {
            "posts": [
                {"author": "sim_brand", "age_hours": h, "hashtags": ["bigsale"]} for h in (1, 2, 3)
            ]
        },
    )
    later = service.search_recent("#bigsale", since_id=first.newest_id, now=sim_now(sim))

    assert later.complete
    assert later.post_ids == tuple(truth(sim, "#bigsale", since_id=first.newest_id))
    assert len(later.post_ids) == 3
    assert not set(later.post_ids) & set(first.post_ids)
    assert later.newest_id == max(later.post_ids, key=int)


def test_a_since_id_older_than_the_window_searches_the_whole_window(sim, service):
    """X refuses a since_id from before its 7 days; the service searches all of them instead."""
    add_tagged(sim, 12, "bigsale")
    old = [p["id"] for p in admin(sim, "GET", "posts?author=sim_brand")["posts"]]
    oldest = min(old, key=int)  # years old
    result = service.search_recent("#bigsale", since_id=oldest, now=sim_now(sim))
    assert result.complete
    assert result.post_ids == tuple(truth(sim, "#bigsale"))


def test_a_429_on_a_page_is_waited_for_then_the_search_finishes(sim, service, clock):
    add_tagged(sim, 230, "bigsale")
    expected = truth(sim, "#bigsale")
    # Two searches per window, and the window ends 30 s from now: the third page is refused
    # with 429, and its reset is close enough to wait for.
    admin(sim, "PUT", "options", {"rate_limit_v2_search": 2})
    now = sim_now(sim)
    boundary = (int(now.timestamp()) // WINDOW_S + 1) * WINDOW_S
    admin(sim, "POST", "clock", {"advance_seconds": boundary - 30 - now.timestamp()})

    result = service.search_recent("#bigsale", now=sim_now(sim))

    assert result.complete
    assert result.problem is None
    assert result.post_ids == tuple(expected)
    assert 0 < sum(clock.slept) <= 60  # waited for the window, not for minutes


def test_a_429_with_a_far_reset_gives_what_was_found_and_says_rate_limited(sim, service, store):
    add_tagged(sim, 230, "bigsale")
    expected = truth(sim, "#bigsale")
    admin(sim, "PUT", "options", {"rate_limit_v2_search": 2})
    now = sim_now(sim)
    window_start = int(now.timestamp()) // WINDOW_S * WINDOW_S
    admin(sim, "POST", "clock", {"advance_seconds": window_start + 1 - now.timestamp()})

    result = service.search_recent("#bigsale", now=sim_now(sim))

    assert not result.complete
    assert result.problem == "rate limited"
    assert result.post_ids == tuple(expected[:200])  # the two pages answered, nothing lost
    assert result.newest_id == expected[0]
    assert service.unknown_authors(result.post_ids) == []  # and their authors were kept


def test_a_search_out_of_time_says_x_is_slow(sim, service, clock):
    """Under a command's deadline that has come, no page is asked for: nothing found, and
    the reason says so rather than pretending the hashtag has no Posts."""
    with within(Deadline.after(0, clock.monotonic)):
        result = service.search_recent("#springlaunch", now=sim_now(sim))
    assert not result.complete
    assert result.problem == "X is slow"
    assert result.post_ids == ()


def test_an_operator_x_refuses_is_named_in_the_problem(sim, service):
    result = service.search_recent("#springlaunch lang:en", now=sim_now(sim))
    assert not result.complete
    assert result.post_ids == ()
    assert result.newest_id is None
    assert result.problem is not None
    assert result.problem.startswith("refused: ")
    assert "'lang'" in result.problem


def test_a_query_with_only_a_negation_is_refused_not_crashed(sim, service):
    result = service.search_recent("-is:retweet", now=sim_now(sim))
    assert not result.complete
    assert result.problem is not None
    assert result.problem.startswith("refused: ")


def test_a_query_too_long_for_x_is_refused_before_any_call(sim, service):
    result = service.search_recent("#" + "a" * 600, now=sim_now(sim))
    assert not result.complete
    assert result.problem is not None
    assert result.problem.startswith("refused: ")
    assert "512" in result.problem


def test_a_hashtag_nobody_used_finds_nothing_and_is_complete(sim, service):
    result = service.search_recent("#nobodyusesthis", now=sim_now(sim))
    assert result.post_ids == ()
    assert result.newest_id is None
    assert result.complete
    assert result.problem is None


# -- an account's Posts between two dates ---------------------------------------------------------


def test_account_posts_between_gives_exactly_the_accounts_posts_of_the_window(sim, service):
    posts = [p for p in admin(sim, "GET", "posts?author=sim_creator")["posts"] if not p["deleted"]]
    now = sim_now(sim)
    since, until = now - timedelta(days=30), now - timedelta(days=2)

    found = service.account_posts_between("@sim_creator", since=since, until=until, workspace=None)

    def created(p: dict[str, Any]) -> datetime:
        return datetime.fromisoformat(p["created_at"].replace("Z", "+00:00"))

    expected = sorted(
        (p["id"] for p in posts if since <= created(p) < until), key=int, reverse=True
    )
    assert found.problem is None
    assert list(found.post_ids) == expected
    assert expected


def test_account_posts_between_says_why_for_an_unknown_handle(sim, service):
    now = sim_now(sim)
    found = service.account_posts_between(
        "@nobody_at_all", since=now - timedelta(days=7), until=now, workspace=None
    )
    assert found.post_ids == ()
    assert found.problem is AccountProblem.NOT_FOUND
