"""The engagement service on the simulator answering in process (tests/support/memory_x.py: the
same answers, errors and 429s as over HTTP, tests/engagement/test_client_contract.py), a real
SQLite file, real encryption; only the clocks are injected so that no test waits for time to
pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_service
from bot.engagement.models import UserAuth
from bot.engagement.query import EngagementQuery, Granularity, Reason
from bot.engagement.service import EngagementService
from bot.engagement.windows import unborn
from bot.simulator.server import RunningSimulator
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.clocks import FakeClock
from tests.support.memory_x import MemoryX
from tests.support.memory_x import admin as memory_admin
from tests.support.universe import SIM_START

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
NOW = SIM_START
TOTALS = (
    "impressions",
    "engagements",
    "favorites",
    "retweets",
    "quote_tweets",
    "replies",
    "video_views",
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(memory_client: MemoryX, store: Store, clock: FakeClock) -> EngagementService:
    return build_service(memory_client, store, sleep=clock.sleep, monotonic=clock.monotonic)


def connect_brand(store: Store) -> None:
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=NOW
    )


def admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    return memory_admin(sim.state, method, path, body)


def posts(sim: RunningSimulator, who: str) -> list[dict[str, Any]]:
    return [p for p in admin(sim, "GET", f"posts?author={who}")["posts"] if not p["deleted"]]


def truth(sim: RunningSimulator, post_id: str, metric: str) -> dict[str, Any]:
    return admin(sim, "GET", f"series?tweet_id={post_id}&metrics={metric}")


def engagement_log(sim: RunningSimulator) -> list[dict[str, Any]]:
    return admin(sim, "GET", "requests")["requests"]


def test_unowned_posts_get_public_totals_in_one_call(sim, service, store):
    ids = [p["id"] for p in posts(sim, "sim_creator")[:5]]
    report = service.report(EngagementQuery(tuple(ids), TOTALS), now=NOW)
    assert report.calls_made == 1
    for post_id in ids:
        assert report.totals[post_id]["impressions"].reason is Reason.NOT_OWNED
        expected = truth(sim, post_id, "favorites")["lifetime"]["favorites"]
        assert report.totals[post_id]["favorites"].count == expected
    # nobody is connected, so no author was looked up: one engagement call and nothing else
    assert len(engagement_log(sim)) == 1
    assert store.series.latest_totals(ids, ["favorites"])[ids[0]]["favorites"][0] == (
        report.totals[ids[0]]["favorites"].count
    )


def test_owned_posts_get_private_metrics_after_one_author_lookup(sim, service, store):
    connect_brand(store)
    young = [p["id"] for p in posts(sim, "sim_brand")[:3]]
    theirs = [p["id"] for p in posts(sim, "sim_creator")[:2]]
    report = service.report(EngagementQuery(tuple(young + theirs), ("impressions",)), now=NOW)
    for post_id in young:
        assert (
            report.totals[post_id]["impressions"].count
            == (truth(sim, post_id, "impressions")["lifetime"]["impressions"])
        )
    for post_id in theirs:
        assert report.totals[post_id]["impressions"].reason is Reason.NOT_OWNED
    assert store.posts.infos(young)[young[0]].author_id == "1000000001"


def test_a_url_naming_a_connected_account_skips_the_lookup(sim, service, store):
    connect_brand(store)
    post_id = posts(sim, "sim_brand")[0]["id"]
    service.report(
        EngagementQuery((post_id,), ("impressions",)), now=NOW, handles={post_id: "sim_brand"}
    )
    assert store.posts.infos([post_id])[post_id].author_id == "1000000001"
    assert store.posts.unknown_authors([post_id]) == []


def test_a_wrong_author_is_corrected_by_the_403_and_nothing_is_lost(sim, service, store):
    from bot.engagement.records import PostRecord

    connect_brand(store)
    mine = [p["id"] for p in posts(sim, "sim_brand")[:2]]
    theirs = posts(sim, "sim_creator")[0]["id"]
    # the store wrongly believes sim_brand wrote sim_creator's Post
    store.posts.save([PostRecord(theirs, "1000000001", None)])
    report = service.report(EngagementQuery((*mine, theirs), ("impressions", "favorites")), now=NOW)
    assert report.totals[theirs]["impressions"].reason is Reason.NOT_OWNED
    assert (
        report.totals[theirs]["favorites"].count
        == (truth(sim, theirs, "favorites")["lifetime"]["favorites"])
    )
    for post_id in mine:
        assert report.totals[post_id]["impressions"].count is not None
    assert store.posts.infos([theirs])[theirs].author_id is None


def test_repeated_question_is_answered_from_the_cache(sim, service, clock):
    ids = tuple(p["id"] for p in posts(sim, "sim_creator")[:3])
    service.report(EngagementQuery(ids, ("favorites",)), now=NOW)
    service.report(EngagementQuery(ids, ("favorites",)), now=NOW)
    assert len(engagement_log(sim)) == 1
    clock.t += 61
    service.report(EngagementQuery(ids, ("favorites",)), now=NOW)
    assert len(engagement_log(sim)) == 2


def test_hourly_and_daily_series_match_the_ground_truth_and_are_stored(sim, service, store):
    connect_brand(store)
    old = [p for p in posts(sim, "sim_brand") if p["created_at"] < "2026-09-01"]
    post_id = old[0]["id"]  # older than the 60 days asked for
    hourly = service.report(
        EngagementQuery((post_id,), ("impressions",), Granularity.HOUR), now=NOW
    )
    buckets = hourly.series[post_id]["impressions"]
    ground = truth(sim, post_id, "impressions")["buckets"]["impressions"]
    assert len(buckets) == 29
    for hour, count in buckets.items():
        assert count == ground.get(hour.strftime("%Y-%m-%dT%H:%M:%SZ"), 0)
    start = NOW - timedelta(days=60)
    daily = service.report(
        EngagementQuery((post_id,), ("impressions",), Granularity.DAY, start, NOW), now=NOW
    )
    days = daily.series[post_id]["impressions"]
    assert daily.calls_made == 3  # 61 UTC days need three windows of at most 28 days
    for day, count in days.items():
        expected = sum(v for k, v in ground.items() if k.startswith(day.isoformat()))
        assert count == expected
    stored = store.series.daily(
        [post_id], ["impressions"], min(days), max(days) + timedelta(days=1)
    )
    assert stored[post_id]["impressions"] == {d: c for d, c in days.items() if c} | {
        d: 0 for d, c in days.items() if c == 0 and d in stored[post_id]["impressions"]
    }


def test_refresh_of_5000_posts_under_20_percent_faults_loses_nothing(sim, memory_client, tmp_path):
    admin(
        sim,
        "POST",
        "posts",
        {"posts": [{"author": "sim_creator", "age_hours": 2 + i % 5000} for i in range(5000)]},
    )
    admin(sim, "PUT", "rate-limits", {"default": {"totals": 10_000}})
    ids = [p["id"] for p in posts(sim, "sim_creator")]
    assert len(ids) >= 5000

    def refresh(path: Path) -> dict[str, Any]:
        store = Store.open(path, cipher=TokenCipher.generate())
        try:
            clock = FakeClock()
            service = build_service(
                memory_client, store, sleep=clock.sleep, monotonic=clock.monotonic
            )
            report = service.refresh(ids, now=NOW)
            return {
                p: {m: (v.count, v.reason) for m, v in values.items()}
                for p, values in report.totals.items()
            }
        finally:
            store.close()

    clean = refresh(tmp_path / "clean.db")
    admin(sim, "DELETE", "requests")
    admin(
        sim,
        "PUT",
        "faults",
        {
            "seed": 11,
            "error_rate": 0.2,
            "error_statuses": [500, 503],
            "burst_429": {"every": 9, "length": 1, "offset": 3},
        },
    )
    faulty = refresh(tmp_path / "faulty.db")
    assert faulty == clean
    reasons = {reason for values in faulty.values() for _, reason in values.values()}
    assert reasons <= {None, Reason.NOT_OWNED, Reason.VIDEO_VIEWS_TOO_OLD}  # never FAILED
    statuses = [r["status"] for r in engagement_log(sim)]
    assert {s for s in statuses if 400 <= s < 500} <= {429}
    assert any(s in (429, 500, 503) for s in statuses)  # the faults did happen


def test_a_failed_answer_is_not_cached(sim, service):
    ids = tuple(p["id"] for p in posts(sim, "sim_creator")[:2])
    admin(sim, "PUT", "faults", {"queue": ["503"] * 6})
    failed = service.report(EngagementQuery(ids, ("favorites",)), now=NOW)
    assert {v.reason for v in failed.totals[ids[0]].values()} == {Reason.FAILED}
    again = service.report(EngagementQuery(ids, ("favorites",)), now=NOW)
    assert again.totals[ids[0]]["favorites"].count is not None


# -- settled hours are not asked for twice -----------------------------------------------------


def _week_query(ids: tuple[str, ...], end: Any = None) -> EngagementQuery:
    end = end or NOW.replace(minute=0) - timedelta(hours=1)
    return EngagementQuery(
        ids, ("impressions", "engagements"), Granularity.HOUR, end - timedelta(days=7), end
    )


def test_settled_hours_are_served_from_the_store_without_a_call(sim, service, store, clock):
    connect_brand(store)
    ids = tuple(p["id"] for p in posts(sim, "sim_brand")[:30])
    first = service.report(_week_query(ids), now=NOW)
    assert first.calls_made == 2  # 30 owned Posts: two /historical calls of at most 25
    calls = len(engagement_log(sim))
    clock.t += 3600  # well past the short cache: the answer must come from the store
    again = service.report(_week_query(ids), now=NOW + timedelta(hours=5))
    assert len(engagement_log(sim)) == calls
    assert again.calls_made == 0
    assert again.series == first.series
    post_id = ids[0]
    ground = truth(sim, post_id, "impressions")["buckets"]["impressions"]
    for hour, count in again.series[post_id]["impressions"].items():
        # Hours before the Post existed hold nothing (None), not a zero.
        expected = None if unborn(post_id, hour) else ground.get(f"{hour:%Y-%m-%dT%H:%M:%SZ}", 0)
        assert count == expected


def test_a_range_reaching_past_the_settled_hours_is_fetched(sim, service, store, clock):
    connect_brand(store)
    ids = tuple(p["id"] for p in posts(sim, "sim_brand")[:3])
    service.report(_week_query(ids), now=NOW)
    clock.t += 3600
    later_end = NOW.replace(minute=0)  # includes the hour that ended minutes before NOW
    later = service.report(_week_query(ids, later_end), now=NOW)
    assert later.calls_made == 1  # the last hour isn't settled yet (SETTLE_MARGIN)


def test_only_the_posts_not_settled_are_fetched(sim, service, store, clock):
    connect_brand(store)
    ids = tuple(p["id"] for p in posts(sim, "sim_brand")[:30])
    service.report(_week_query(ids[:25]), now=NOW)
    clock.t += 3600
    both = service.report(_week_query(ids), now=NOW)
    assert both.calls_made == 1
    (call,) = engagement_log(sim)[-1:]
    assert sorted(call["tweet_ids"]) == sorted(ids[25:])
    assert list(both.series) == list(ids)  # the query's order, stored and fetched alike


def test_stored_private_series_are_not_served_to_another_workspace(
    sim, memory_client, store, clock
):
    service = build_service(memory_client, store, sleep=clock.sleep, monotonic=clock.monotonic)
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace="T_A", now=NOW
    )
    ids = tuple(p["id"] for p in posts(sim, "sim_brand")[:3])
    owned = service.report(_week_query(ids), now=NOW, workspace="T_A")
    assert owned.series[ids[0]]["impressions"]
    clock.t += 3600
    other = service.report(_week_query(ids), now=NOW, workspace="T_B")
    assert ids[0] not in other.series
    assert other.missing[(ids[0], "impressions")] is Reason.NOT_OWNED


def test_fresh_asks_again_even_when_settled(sim, service, store):
    connect_brand(store)
    ids = tuple(p["id"] for p in posts(sim, "sim_brand")[:3])
    service.report(_week_query(ids), now=NOW)
    fresh = service.report(_week_query(ids), now=NOW, fresh=True)
    assert fresh.calls_made == 1


def test_an_error_reply_cut_in_transit_is_asked_again_not_taken_as_final(sim, service):
    """X's 400 for a batch holding protected Posts arrives with its gzip body cut in half:
    a broken transfer to retry, not a refusal that would lose the batch's numbers."""
    ids = tuple(p["id"] for p in posts(sim, "sim_private")[:2] + posts(sim, "sim_creator")[:6])
    query = EngagementQuery(ids, ("favorites", "retweets"))
    admin(sim, "PUT", "faults", {"queue": ["truncate"], "truncate_mode": "bad_gzip"})
    cut = service.report(query, now=NOW, fresh=True)
    admin(sim, "PUT", "faults", {})
    whole = service.report(query, now=NOW, fresh=True)
    assert Reason.FAILED not in cut.missing.values()
    assert cut.totals == whole.totals
    assert any(r["fault"] for r in engagement_log(sim))  # the cut really happened


def test_a_deleted_post_is_said_to_be_gone_not_to_need_a_connection(sim, service, store):
    connect_brand(store)
    gone = [p["id"] for p in admin(sim, "GET", "posts?author=sim_brand")["posts"] if p["deleted"]]
    assert gone  # the default universe has one
    query = EngagementQuery((gone[0],), ("impressions", "favorites"))
    totals = service.report(query, now=NOW)
    assert {v.reason for v in totals.totals[gone[0]].values()} == {Reason.UNAVAILABLE}
    hourly = service.report(replace(query, granularity=Granularity.HOUR), now=NOW)
    assert set(hourly.missing.values()) == {Reason.UNAVAILABLE}


def test_only_the_hours_after_the_stored_ones_are_asked_for(sim, service, store, clock):
    connect_brand(store)
    ids = tuple(p["id"] for p in posts(sim, "sim_brand")[:30])
    settled_end = NOW.replace(minute=0) - timedelta(hours=6)
    service.report(_week_query(ids, settled_end), now=NOW)  # 7 days, two /historical calls
    calls = len(engagement_log(sim))
    clock.t += 3600
    week = _week_query(ids, NOW.replace(minute=0))  # the same week, 6 hours later
    later = service.report(replace(week, start=settled_end - timedelta(days=7)), now=NOW)
    tail = engagement_log(sim)[calls:]
    assert [r["endpoint"] for r in tail] == ["28hr", "28hr"]  # 30 Posts: 25 + 5, the tail only
    whole = service.report(
        replace(week, start=settled_end - timedelta(days=7)), now=NOW, fresh=True
    )
    assert later.series == whole.series  # stored hours + X's tail = asking for everything
    assert later.calls_made == 2


def test_posts_resuming_at_different_hours_are_fetched_whole_when_that_is_cheaper(
    sim, service, store, clock
):
    connect_brand(store)
    ids = tuple(p["id"] for p in posts(sim, "sim_brand")[:27])
    last = NOW.replace(minute=0) - timedelta(hours=1)
    for n, group in enumerate((ids[:9], ids[9:18], ids[18:])):  # three spans, ending 1-3 h apart
        service.report(_week_query(group, last - timedelta(hours=n + 1)), now=NOW)
    clock.t += 3600
    calls = len(engagement_log(sim))
    start = last - timedelta(days=7, hours=1)
    query = replace(_week_query(ids, last), start=start)
    both = service.report(query, now=NOW)
    assert len(engagement_log(sim)) - calls == 2  # 27 Posts whole: 25 + 2, not three tails
    assert both.series == service.report(query, now=NOW, fresh=True).series
