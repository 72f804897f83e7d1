"""Author lookups: several at once, paced by the v2 lookup window's own headers, waiting for
it instead of being refused, never costing an owned Post its owner's numbers, and no Bearer
token fetched when no app-only call is needed.

End to end: our HttpEngagementClient over loopback to the X simulator (through a pass-through
stand-in, tests/support/hostile_x.py, where the test must see the requests), a real SQLite
file; only the clocks are injected, and sleeping moves the simulator's clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.app import build_service
from bot.engagement.deadline import Deadline, within
from bot.engagement.directory import FULL_WINDOW_S
from bot.engagement.models import UserAuth
from bot.engagement.query import EngagementQuery, Reason
from bot.simulator.server import RunningSimulator
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.clocks import SimTime
from tests.support.hostile_x import HostileX
from tests.support.simhttp import x_client
from tests.support.slack_app import sim_admin, sim_posts
from tests.support.universe import SIM_START

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
LOOKUP, TOKEN = "/2/tweets", "/oauth2/token"
OWNED = ("impressions", "favorites")  # impressions need the owner's token, favorites do not


def add_posts(sim: RunningSimulator, author: str, count: int) -> list[str]:
    """Many Posts at once, through the live state (POST /_sim/posts rebuilds the model per Post)."""
    state = sim.state
    with state.lock:
        made = [
            state.universe.add_post({"author": author, "age_hours": 1 + i % 500}, now=state.now())
            for i in range(count)
        ]
        state.universe_changed()
    return [str(p.id) for p in made]


def sim_now(sim: RunningSimulator) -> datetime:
    return datetime.fromisoformat(sim_admin(sim, "GET", "clock")["now"].replace("Z", "+00:00"))


def lookup_statuses(proxy: HostileX) -> list[int]:
    with proxy.lock:
        return [status for path, status in proxy.answered if path == LOOKUP]


@pytest.fixture
def x_store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "x.db", cipher=TokenCipher.generate()) as opened:
        opened.accounts.save(
            user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=SIM_START
        )
        yield opened


@pytest.fixture
def proxy(sim: RunningSimulator) -> Iterator[HostileX]:
    with HostileX(sim.url) as stand_in:
        yield stand_in


def test_lookups_of_unknown_authors_go_four_at_a_time_with_one_bearer_token(
    sim: RunningSimulator, x_store: Store, proxy: HostileX
) -> None:
    ids = add_posts(sim, "sim_brand", 801)
    clock = SimTime(sim)
    with x_client(proxy) as client:
        service = build_service(client, x_store, sleep=clock.sleep, monotonic=clock.monotonic)
        # One lookup first: its reply tells the client how much room the window has.
        assert service.learn_authors(ids[:1], now=SIM_START, handles={}) == 1
        proxy.hold_together(4, LOOKUP)  # one after another, they would never meet
        assert service.learn_authors(ids[1:], now=SIM_START, handles={}) == 8
        unknown = service.unknown_authors(ids)

    assert not proxy.broken  # eight lookups met in two groups of four
    assert lookup_statuses(proxy) == [200] * 9
    assert proxy.paths().count(TOKEN) == 1  # lookups are app-only: one token, shared
    assert unknown == []
    assert clock.slept == []


def test_a_spent_lookup_window_is_waited_for_and_every_owned_post_keeps_its_numbers(
    sim: RunningSimulator, x_store: Store, proxy: HostileX
) -> None:
    """Three lookups per 15 minutes, ten needed: the client reads the remaining count, sends
    no lookup the window has no room for, and, allowed to wait out a whole window, waits for
    each reset."""
    ids = add_posts(sim, "sim_brand", 1000)
    sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 3})
    clock = SimTime(sim)
    with x_client(proxy) as client:
        service = build_service(
            client,
            x_store,
            sleep=clock.sleep,
            monotonic=clock.monotonic,
            lookup_max_wait=FULL_WINDOW_S,
        )
        report = service.report(EngagementQuery(tuple(ids), OWNED), now=sim_now(sim))

    assert lookup_statuses(proxy) == [200] * 10  # never refused
    assert len(clock.slept) == 3  # one wait per spent window
    assert all(0 < seconds <= 15 * 60 for seconds in clock.slept)
    assert dict(report.missing) == {}
    assert [p for p in ids if report.totals[p]["impressions"].count is None] == []


def spend_the_lookup_window_elsewhere(sim: RunningSimulator) -> None:
    """Another client of the same app used the one lookup of this window, unknown to ours."""
    sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 1})
    with x_client(sim) as other:
        other.lookup_posts(["1"])


def test_a_lookup_429_waits_for_the_reset_named_then_the_owned_numbers_come(
    sim: RunningSimulator, x_store: Store, proxy: HostileX
) -> None:
    owned = sim_posts(sim, "sim_brand")[:3]
    sim_admin(sim, "POST", "clock", {"now": "2026-11-26T12:35:00Z"})  # 10 minutes to a reset
    spend_the_lookup_window_elsewhere(sim)
    clock = SimTime(sim)
    with x_client(proxy) as client:
        service = build_service(
            client,
            x_store,
            sleep=clock.sleep,
            monotonic=clock.monotonic,
            lookup_max_wait=FULL_WINDOW_S,
        )
        report = service.report(EngagementQuery(tuple(owned), OWNED), now=sim_now(sim))

    assert lookup_statuses(proxy) == [429, 200]
    assert 600 <= sum(clock.slept) <= 602  # the rest of the window, once
    assert dict(report.missing) == {}
    assert all(report.totals[p]["impressions"].count is not None for p in owned)


def test_under_a_command_deadline_a_far_reset_is_not_waited_for_and_nothing_says_not_owned(
    sim: RunningSimulator, x_store: Store, proxy: HostileX
) -> None:
    """The same 429 for a command due in 3 s: no wait at all (not even until the deadline),
    public numbers answered, the owner's numbers "author unknown", never "not owned"."""
    owned = sim_posts(sim, "sim_brand")[:3]
    sim_admin(sim, "POST", "clock", {"now": "2026-11-26T12:35:00Z"})
    spend_the_lookup_window_elsewhere(sim)
    clock = SimTime(sim)
    with x_client(proxy) as client:
        service = build_service(
            client,
            x_store,
            sleep=clock.sleep,
            monotonic=clock.monotonic,
            lookup_max_wait=FULL_WINDOW_S,
        )
        with within(Deadline(clock.monotonic() + 3, clock.monotonic)):
            report = service.report(EngagementQuery(tuple(owned), OWNED), now=sim_now(sim))

    assert lookup_statuses(proxy) == [429]
    assert clock.slept == []
    assert {report.missing.get((p, "impressions")) for p in owned} == {Reason.AUTHOR_UNKNOWN}
    assert all(report.totals[p]["favorites"].count is not None for p in owned)


def test_owned_posts_of_known_authors_are_read_without_a_bearer_token(
    sim: RunningSimulator, x_store: Store, proxy: HostileX
) -> None:
    owned = sim_posts(sim, "sim_brand")[:3]
    clock = SimTime(sim)
    with x_client(sim) as first:  # a first query learns the authors (app-only lookups)
        build_service(first, x_store, sleep=clock.sleep, monotonic=clock.monotonic).report(
            EngagementQuery(tuple(owned), OWNED), now=sim_now(sim)
        )
    with x_client(proxy) as client:  # the next process: nothing app-only to do
        service = build_service(client, x_store, sleep=clock.sleep, monotonic=clock.monotonic)
        report = service.report(EngagementQuery(tuple(owned), OWNED), now=sim_now(sim))

    assert TOKEN not in proxy.paths()
    assert LOOKUP not in proxy.paths()
    assert all(report.totals[p]["impressions"].count is not None for p in owned)
