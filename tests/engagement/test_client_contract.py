"""One contract, two clients: our HttpEngagementClient on the loopback simulator and the in-process
MemoryX (tests/support/memory_x.py) give the same results and raise the same errors, so tests of
the code above the wire may use either. Each test runs on both; ground truth is the simulator's
own (/_sim/series, /_sim/posts)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.engagement.models import (
    APP_ONLY,
    DAILY,
    HOURLY,
    PER_POST,
    Endpoint,
    EngagementRequest,
    MissingReason,
    UserAuth,
)
from bot.errors import (
    AuthError,
    BadRequest,
    ForbiddenMetrics,
    ForbiddenPosts,
    ProtectedPosts,
    RateLimited,
    ServerError,
)
from bot.simulator.server import RunningSimulator
from tests.support.memory_x import MemoryX
from tests.support.simhttp import admin, lifetime, live_posts, posts_of, x_client
from tests.support.universe import SIM_START

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
PRIVATE = UserAuth("1000000003-simtoken-sim_private", "simsecret-sim_private")
NEXT_MINUTE = int((SIM_START.replace(second=0) + timedelta(minutes=1)).timestamp())


@pytest.fixture(params=["memory", "http"])
def x(request: pytest.FixtureRequest, sim: RunningSimulator) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryX(sim.state)
    else:
        with x_client(sim) as client:
            yield client


def deleted_post(sim: RunningSimulator, screen_name: str) -> str:
    return str(next(p["id"] for p in posts_of(sim, screen_name) if p["deleted"]))


def test_totals_of_owned_posts_are_the_ground_truth_and_a_deleted_one_is_unavailable(
    x: Any, sim: RunningSimulator
):
    ids = live_posts(sim, "sim_brand", 3)
    deleted = deleted_post(sim, "sim_brand")
    request = EngagementRequest(
        Endpoint.TOTALS, (*ids, deleted), ("impressions", "favorites", "retweets"), auth=BRAND
    )
    result = x.fetch(request)
    for post_id in ids:
        for metric in ("impressions", "favorites", "retweets"):
            assert result.value(post_id, metric) == lifetime(sim, post_id, metric)
    assert result.unavailable_ids == (deleted,)
    assert result.missing_reason(deleted, "favorites") is MissingReason.UNAVAILABLE
    assert result.errors == ("1 Tweet ID(s) are unavailable",)
    assert (result.rate_limit.limit, result.rate_limit.remaining) == (60, 59)
    assert result.rate_limit.reset_at == NEXT_MINUTE
    assert result.rate_limit.date == SIM_START


def test_totals_of_unowned_posts_are_public_counts_with_the_app_only_token(
    x: Any, sim: RunningSimulator
):
    theirs = live_posts(sim, "sim_creator", 2)
    result = x.fetch(EngagementRequest(Endpoint.TOTALS, theirs, ("favorites", "quote_tweets")))
    for post_id in theirs:
        assert result.value(post_id, "favorites") == lifetime(sim, post_id, "favorites")
    assert [e["auth_mode"] for e in admin(sim, "GET", "requests")["requests"]] == ["app-only"]
    with pytest.raises(ForbiddenMetrics) as caught:
        x.fetch(EngagementRequest(Endpoint.TOTALS, theirs, ("impressions",), auth=APP_ONLY))
    assert caught.value.metrics == ["impressions"]


def test_28hr_is_29_hourly_buckets_summing_to_the_lifetime_count(x: Any, sim: RunningSimulator):
    ids = live_posts(sim, "sim_brand", 2)
    request = EngagementRequest(
        Endpoint.HOURLY_28HR, ids, ("impressions",), auth=BRAND, groupings=(HOURLY, PER_POST)
    )
    result = x.fetch(request)
    assert result.end == SIM_START.replace(minute=0) + timedelta(hours=1)
    for post_id in ids:
        hourly = result.hourly(post_id, "impressions")
        assert len(hourly) == 29
        assert sum(c or 0 for c in hourly.values()) == lifetime(sim, post_id, "impressions")


def test_historical_is_28_daily_buckets_of_the_window(x: Any, sim: RunningSimulator):
    post = next(
        p for p in posts_of(sim, "sim_brand") if p["created_at"] < "2026-11-01" and not p["deleted"]
    )
    end = datetime(2026, 11, 26, tzinfo=UTC)
    start = end - timedelta(days=28)
    request = EngagementRequest(
        Endpoint.HISTORICAL,
        (post["id"],),
        ("favorites",),
        auth=BRAND,
        groupings=(DAILY, PER_POST),
        start=start,
        end=end,
    )
    result = x.fetch(request)
    assert (result.start, result.end) == (start, end)
    daily = result.daily(post["id"], "favorites")
    assert len(daily) == 28
    truth = admin(
        sim,
        "GET",
        f"series?tweet_id={post['id']}&metrics=favorites"
        f"&start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}",
    )
    assert sum(v or 0 for v in daily.values()) == sum(truth["buckets"]["favorites"].values())


def test_a_foreign_post_is_a_403_naming_it(x: Any, sim: RunningSimulator):
    mine, theirs = live_posts(sim, "sim_brand", 1), live_posts(sim, "sim_creator", 1)
    request = EngagementRequest(Endpoint.HOURLY_28HR, (*mine, *theirs), ("impressions",), BRAND)
    with pytest.raises(ForbiddenPosts) as caught:
        x.fetch(request)
    assert (caught.value.status, caught.value.post_ids) == (403, list(theirs))


def test_a_protected_post_rejects_the_batch(x: Any, sim: RunningSimulator):
    request = EngagementRequest(
        Endpoint.TOTALS, live_posts(sim, "sim_private", 2), ("favorites",), auth=PRIVATE
    )
    with pytest.raises(ProtectedPosts) as caught:
        x.fetch(request)
    assert caught.value.status == 400


def test_a_window_reaching_into_the_future_is_a_400(x: Any, sim: RunningSimulator):
    end = SIM_START + timedelta(days=2)
    request = EngagementRequest(
        Endpoint.HISTORICAL,
        live_posts(sim, "sim_brand", 1),
        ("favorites",),
        auth=BRAND,
        groupings=(DAILY, PER_POST),
        start=end - timedelta(days=7),
        end=end,
    )
    with pytest.raises(BadRequest) as caught:
        x.fetch(request)
    assert caught.value.status == 400
    assert caught.value.messages == ["end must not be in the future"]


def test_a_429_says_when_the_window_resets(x: Any, sim: RunningSimulator):
    admin(sim, "PUT", "rate-limits", {"default": {"totals": 1}})
    request = EngagementRequest(
        Endpoint.TOTALS, live_posts(sim, "sim_brand", 1), ("favorites",), auth=BRAND
    )
    first = x.fetch(request)
    assert first.rate_limit.exhausted
    with pytest.raises(RateLimited) as caught:
        x.fetch(request)
    assert caught.value.reset_at == NEXT_MINUTE == first.rate_limit.reset_at
    assert caught.value.retry_after == NEXT_MINUTE - SIM_START.timestamp()
    assert caught.value.rate_limit is not None
    assert caught.value.rate_limit.remaining == 0


def test_a_bad_signature_and_an_outage_are_the_same_errors(x: Any, sim: RunningSimulator):
    post = live_posts(sim, "sim_brand", 1)
    forged = UserAuth(BRAND.access_token, "not-the-secret")
    with pytest.raises(AuthError) as caught:
        x.fetch(EngagementRequest(Endpoint.TOTALS, post, ("favorites",), auth=forged))
    assert caught.value.reason == "Invalid signature"
    admin(sim, "PUT", "faults", {"queue": ["503", "ok"]})
    request = EngagementRequest(Endpoint.TOTALS, post, ("favorites",), auth=BRAND)
    with pytest.raises(ServerError):
        x.fetch(request)
    assert x.fetch(request).value(post[0], "favorites") == lifetime(sim, post[0], "favorites")


def test_post_lookups_find_authors_handles_and_timelines(x: Any, sim: RunningSimulator):
    ids = live_posts(sim, "sim_brand", 2)
    deleted = deleted_post(sim, "sim_brand")
    lookup = x.lookup_posts([*ids, deleted])
    assert [p.id for p in lookup.posts] == list(ids)
    assert {p.author_username for p in lookup.posts} == {"sim_brand"}
    assert deleted in lookup.unavailable
    assert (lookup.rate_limit.window_seconds, lookup.rate_limit.remaining) == (900, 299)
    user = x.user_by_username("@sim_brand").user
    assert (user.id, user.username) == ("1000000001", "sim_brand")
    assert x.user_by_username("nobody_here").user is None
    page = x.user_posts(user.id, since_id=ids[1], max_results=5, auth=BRAND)
    assert [p.id for p in page.posts] == [ids[0]]
    assert page.next_token is None


def test_recent_search_pages_and_refusals(x: Any, sim: RunningSimulator):
    query = "from:sim_brand OR from:sim_creator"
    truth = admin(sim, "GET", "search?" + urlencode({"query": query}))["post_ids"]
    first = x.search_recent(query, max_results=10)
    assert [p.id for p in first.posts] == truth[:10]
    assert all(p.author_username for p in first.posts)
    assert (first.rate_limit.window_seconds, first.rate_limit.remaining) == (900, 449)
    assert len(truth) > 10  # both accounts' Posts of the last 7 days: more than a page
    rest = x.search_recent(query, max_results=10, next_token=first.next_token)
    assert [p.id for p in rest.posts] == truth[10:20]
    with pytest.raises(BadRequest, match="invalid operator 'lang'"):
        x.search_recent("#springlaunch lang:en")


def test_both_clients_give_equal_results(sim: RunningSimulator):
    """The same calls on a fresh simulator each time: equal values, limits and dates."""
    ids = live_posts(sim, "sim_brand", 3)
    calls = [
        EngagementRequest(Endpoint.TOTALS, ids, ("impressions", "favorites"), auth=BRAND),
        EngagementRequest(
            Endpoint.HOURLY_28HR, ids, ("engagements",), auth=BRAND, groupings=(HOURLY, PER_POST)
        ),
        EngagementRequest(Endpoint.TOTALS, live_posts(sim, "sim_creator", 2), ("favorites",)),
    ]

    def run(client: Any) -> list[Any]:
        sim.state.reset()
        return [client.fetch(c) for c in calls] + [client.lookup_posts(ids)]

    with x_client(sim) as http:
        over_http = run(http)
    assert run(MemoryX(sim.state)) == over_http
