"""A large refresh is run, merged and saved batch by batch (bot.engagement.plan_batches): X's
answers for two batches at most are held at a time (one being saved, the next in flight), the
next batch's calls go out while one is saved, every Post still gets its numbers, and the calls
are still the lower bound. On the simulator in process (tests/support/memory_x.py) and a real
SQLite store."""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import weakref
from datetime import timedelta
from pathlib import Path

from bot.app import build_service
from bot.engagement.models import (
    PER_POST,
    Endpoint,
    EngagementRequest,
    EngagementResult,
    UserAuth,
)
from bot.engagement.plan_batches import BATCH_CALLS, batch_calls, batches
from bot.engagement.query import EngagementQuery, Gap, Granularity, Plan, PlannedCall, Reason
from bot.simulator.server import RunningSimulator
from bot.store import Store
from tests.support.clocks import FakeClock
from tests.support.memory_x import MemoryX
from tests.support.memory_x import admin as memory_admin
from tests.support.universe import SIM_START

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
POSTS = 2 * BATCH_CALLS * 250  # two batches of /totals calls


class WatchingX(MemoryX):
    """X in process, noting how many of the answers it gave are still held by the client."""

    def __init__(self, sim: RunningSimulator) -> None:
        super().__init__(sim.state)
        self._given: list[weakref.ref[EngagementResult]] = []
        self._watch = threading.Lock()
        self.most_held = 0

    def fetch(self, request: EngagementRequest) -> EngagementResult:
        result = super().fetch(request)
        with self._watch:
            self._given.append(weakref.ref(result))
            held = sum(1 for given in self._given if given() is not None)
            self.most_held = max(self.most_held, held)
        return result


def test_a_refresh_holds_one_batch_of_answers_and_loses_nothing(
    sim: RunningSimulator, store: Store
) -> None:
    state = sim.state
    with state.lock:
        made = [
            state.universe.add_post(
                {"author": "sim_brand", "age_hours": 1 + i % 2000}, now=state.now()
            )
            for i in range(POSTS)
        ]
        state.universe_changed()
    ids = [str(p.id) for p in made]
    memory_admin(state, "PUT", "rate-limits", {"default": {"totals": 1000}})  # not the subject
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=SIM_START
    )
    x = WatchingX(sim)
    clock = FakeClock()
    service = build_service(x, store, sleep=clock.sleep, monotonic=clock.monotonic)
    before = len(memory_admin(state, "GET", "requests")["requests"])

    report = service.refresh(ids, now=SIM_START)

    calls = len(memory_admin(state, "GET", "requests")["requests"]) - before
    assert calls == math.ceil(POSTS / 250)  # the lower bound: one owner, 250 per call
    assert x.most_held <= 2 * batch_calls(calls) < calls
    assert list(report.totals) == ids
    assert not report.missing
    for post_id in ids[:: POSTS // 7]:  # a Post of each batch and in between, checked to X's truth
        lifetime = memory_admin(state, "GET", f"series?tweet_id={post_id}&metrics=impressions")
        assert report.totals[post_id]["impressions"].count == lifetime["lifetime"]["impressions"]
    # and saved: the last batch as well as the first
    stored = store.series.latest_totals([ids[0], ids[-1]], ["impressions"])
    assert stored[ids[-1]]["impressions"][0] == report.totals[ids[-1]]["impressions"].count
    assert stored[ids[0]]["impressions"][0] == report.totals[ids[0]]["impressions"].count


class SavedLateX(MemoryX):
    """X in process that notes, at each call, whether the first batch's Posts are in the store
    yet (read from the SQLite file by a connection of its own, as another process would)."""

    def __init__(self, sim: RunningSimulator, db: Path, first_batch: set[str]) -> None:
        super().__init__(sim.state)
        self._db = db
        self._first = first_batch
        self._watch = threading.Lock()
        self.later_calls_before_the_save = 0

    def fetch(self, request: EngagementRequest) -> EngagementResult:
        if not self._first.intersection(request.post_ids):
            with sqlite3.connect(self._db) as conn:
                saved = conn.execute(
                    "SELECT COUNT(*) FROM refreshes WHERE post_id IN (SELECT value FROM "
                    "json_each(?))",
                    (json.dumps(sorted(self._first)),),
                ).fetchone()[0]
            if not saved:
                with self._watch:
                    self.later_calls_before_the_save += 1
        return super().fetch(request)


def test_the_next_batchs_calls_go_out_before_a_batch_is_saved(
    sim: RunningSimulator, store: Store, db_path: Path
) -> None:
    """The workers go on to the next batch's calls while the first is merged and saved, so a
    large refresh against a slow X takes about its calls' time, not its calls' and saves'."""
    state = sim.state
    with state.lock:
        made = [
            state.universe.add_post(
                {"author": "sim_brand", "age_hours": 1 + i % 500}, now=state.now()
            )
            for i in range(250 * 8)
        ]
        state.universe_changed()
    ids = sorted(str(p.id) for p in made)
    per_batch = 250 * batch_calls(8)
    assert per_batch < len(ids)
    memory_admin(state, "PUT", "rate-limits", {"default": {"totals": 1000}})  # not the subject
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=SIM_START
    )
    x = SavedLateX(sim, db_path, set(ids[:per_batch]))
    clock = FakeClock()
    service = build_service(x, store, sleep=clock.sleep, monotonic=clock.monotonic)

    report = service.refresh(ids, now=SIM_START)

    assert not report.missing
    assert x.later_calls_before_the_save >= 1


def test_a_posts_calls_stay_in_one_batch_and_no_call_is_added() -> None:
    """Lifetime windows of one Post (three /historical calls) are never split across batches:
    each batch's Report must be complete for its Posts. A Post with only gaps goes last."""

    def call(endpoint: Endpoint, *ids: str) -> PlannedCall:
        return PlannedCall(endpoint, "101", ids, ("impressions",), PER_POST)

    calls = (
        call(Endpoint.HISTORICAL, "1", "2"),
        call(Endpoint.TOTALS, "3"),
        call(Endpoint.HISTORICAL, "1"),
        call(Endpoint.TOTALS, "4"),
        call(Endpoint.TOTALS, "5"),
    )
    gap = Gap("6", "impressions", Reason.TOO_LONG)
    query = EngagementQuery(("6", "5", "4", "3", "2", "1"), ("impressions",))
    parts = list(batches(Plan(query, calls, (gap,)), max_calls=1))
    assert [part.calls for part in parts] == [calls[:3], calls[3:4], calls[4:]]
    assert [part.query.post_ids for part in parts] == [("3", "2", "1"), ("4",), ("6", "5")]
    assert [part.gaps for part in parts] == [(), (), (gap,)]
    assert list(batches(Plan(query, calls, (gap,)), max_calls=5)) == [Plan(query, calls, (gap,))]


def test_a_small_refresh_reports_posts_in_the_order_given(
    sim: RunningSimulator, store: Store
) -> None:
    """Queries are planned in ID order (each batch writes one stretch of the store's keys);
    the Report still lists the Posts as the user gave them."""
    state = sim.state
    with state.lock:
        made = [
            state.universe.add_post({"author": "sim_brand", "age_hours": h}, now=state.now())
            for h in (5, 1, 9, 3, 7)
        ]
        state.universe_changed()
    ids = [str(p.id) for p in made]
    assert ids != sorted(ids)
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=SIM_START
    )
    clock = FakeClock()
    service = build_service(MemoryX(state), store, sleep=clock.sleep, monotonic=clock.monotonic)

    report = service.refresh(ids, now=SIM_START)

    assert list(report.totals) == ids
    assert not report.missing


def test_a_clock_behind_ours_wastes_only_the_first_batchs_calls(
    sim: RunningSimulator, store: Store
) -> None:
    """X refuses /historical windows ending after its own clock: the first batch's refusals teach
    the offset and the rest is planned on X's clock. No later batch has gone out before that
    (each would be refused too), and every Post gets its hours."""
    state = sim.state
    with state.lock:
        made = [
            state.universe.add_post(
                {"author": "sim_brand", "age_hours": 24 * 20 + i}, now=state.now()
            )
            for i in range(25 * 8)
        ]
        state.universe_changed()
    ids = sorted(str(p.id) for p in made)
    memory_admin(state, "PUT", "rate-limits", {"default": {"historical": 1000}})  # not the subject
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=SIM_START
    )
    clock = FakeClock()
    service = build_service(MemoryX(state), store, sleep=clock.sleep, monotonic=clock.monotonic)
    ours = SIM_START + timedelta(hours=3)  # our clock; X's says SIM_START
    before = len(memory_admin(state, "GET", "requests")["requests"])

    query = EngagementQuery(
        tuple(ids), ("impressions",), Granularity.DAY, ours - timedelta(days=5), ours
    )
    report = service.report(query, now=ours)

    calls = len(memory_admin(state, "GET", "requests")["requests"]) - before
    assert not report.missing
    assert calls == 8 + batch_calls(8)  # the lower bound, and the first batch refused once


def test_each_post_in_one_call_batches_with_its_gaps_in_query_order() -> None:
    """The /totals shape (every Post in one call): batches close every `max_calls` calls; a
    Post's gaps go with its calls, a Post with only gaps with the last batch."""

    def call(*ids: str) -> PlannedCall:
        return PlannedCall(Endpoint.TOTALS, "101", ids, ("impressions", "likes"), PER_POST)

    calls = (call("1", "2"), call("3"), call("4", "5"), call("6"))
    gaps = (Gap("7", "likes", Reason.TOO_LONG), Gap("2", "likes", Reason.NOT_OWNED))
    query = EngagementQuery(("7", "6", "5", "4", "3", "2", "1"), ("impressions", "likes"))
    parts = list(batches(Plan(query, calls, gaps), max_calls=2))
    assert [part.calls for part in parts] == [calls[:2], calls[2:]]
    assert [part.query.post_ids for part in parts] == [("3", "2", "1"), ("7", "6", "5", "4")]
    assert [part.gaps for part in parts] == [(gaps[1],), (gaps[0],)]


class TogetherX(MemoryX):
    """X in process that answers its first call (the rate limiter's probe of a window it does
    not know yet) at once, then no call until `parties` calls are waiting together."""

    def __init__(self, sim: RunningSimulator, parties: int) -> None:
        super().__init__(sim.state)
        self._barrier = threading.Barrier(parties, timeout=10)
        self._first = threading.Lock()

    def fetch(self, request: EngagementRequest) -> EngagementResult:
        if not self._first.acquire(blocking=False):
            self._barrier.wait()  # BrokenBarrierError: fewer calls were in flight together
        return super().fetch(request)


def test_a_small_hourly_querys_calls_are_all_in_flight_at_once(
    sim: RunningSimulator, store: Store
) -> None:
    """100 Posts' /28hr series are four calls, cut into two batches: after the rate limiter's
    probe, the other three go out together, as /28hr has no window X could refuse for ending
    after its clock (against X's latency: two rounds of calls, not three)."""
    state = sim.state
    with state.lock:
        made = [
            state.universe.add_post({"author": "sim_brand", "age_hours": 30 + i}, now=state.now())
            for i in range(100)
        ]
        state.universe_changed()
    ids = sorted(str(p.id) for p in made)
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=SIM_START
    )
    clock = FakeClock()
    x = TogetherX(sim, parties=3)
    service = build_service(x, store, sleep=clock.sleep, monotonic=clock.monotonic)

    query = EngagementQuery(tuple(ids), ("impressions",), Granularity.HOUR)
    report = service.report(query, now=SIM_START)

    assert not report.missing
    assert report.calls_made == 4
