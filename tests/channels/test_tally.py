"""The daily tally on the simulator answering in process (tests/support/memory_x.py), a SQLite
file; only clocks injected.
Expected numbers come from the simulator's own hourly buckets (/_sim/series) summed per UTC
day, independently of the bot's code."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.app import build_service
from bot.channels.deps import Deps
from bot.channels.tally import TALLY_LOOKBACK, accounts_by_workspace, run_tally
from bot.config import Settings
from bot.engagement.models import UserAuth
from bot.simulator.server import RunningSimulator
from bot.store import Store
from bot.store.rows import PostRecord
from tests.support.clocks import FakeClock
from tests.support.memory_x import MemoryX
from tests.support.memory_x import admin as memory_admin
from tests.support.universe import SIM_START

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
CREATOR = UserAuth("1000000002-simtoken-sim_creator", "simsecret-sim_creator")
NOW = SIM_START  # 12:30 UTC: the previous day is outside /28hr
DAY = date(2026, 11, 25)
METRICS = ("impressions", "engagements", "favorites", "retweets", "replies")
SERIES_ENDPOINTS = ("28hr", "historical")


@pytest.fixture
def deps(memory_client: MemoryX, store: Store) -> Deps:
    clock = FakeClock()
    service = build_service(memory_client, store, sleep=clock.sleep, monotonic=clock.monotonic)
    return Deps(service, store, Settings())


def connect(store: Store, *, brand: str | None = None, creator: str | None = "absent") -> None:
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=brand, now=NOW
    )
    if creator != "absent":
        store.accounts.save(
            user_id="1000000002",
            screen_name="sim_creator",
            auth=CREATOR,
            workspace=creator,
            now=NOW,
        )


def admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    return memory_admin(sim.state, method, path, body)


def stamp(when: datetime) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%SZ}"


def sim_days(
    sim: RunningSimulator, post_ids: list[str], first: date, last: date
) -> dict[str, dict[str, int]]:
    """metric → Post → Σ of the simulator's hourly buckets over UTC days [first, last]."""
    start = datetime.combine(first, datetime.min.time(), UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC)
    sums: dict[str, dict[str, int]] = {m: {} for m in METRICS}
    for post_id in post_ids:
        doc = admin(
            sim,
            "GET",
            f"series?tweet_id={post_id}&metrics={','.join(METRICS)}"
            f"&start={stamp(start)}&end={stamp(end)}",
        )
        for metric in METRICS:
            sums[metric][post_id] = sum(doc["buckets"][metric].values())
    return sums


def live_posts(
    sim: RunningSimulator, author: str, *, before: datetime, since: datetime
) -> list[str]:
    return [
        p["id"]
        for p in admin(sim, "GET", f"posts?author={author}")["posts"]
        if not p["deleted"] and stamp(since)[:-1] <= p["created_at"][:19] < stamp(before)[:-1]
    ]


def series_requests(sim: RunningSimulator) -> list[dict[str, Any]]:
    return [
        r
        for r in admin(sim, "GET", "requests")["requests"]
        if r["endpoint"].rstrip("/").endswith(SERIES_ENDPOINTS)
    ]


def daily_rows(store: Store) -> list[tuple[Any, ...]]:
    rows = store.database.execute("SELECT * FROM daily ORDER BY post_id, day")
    return [tuple(r) for r in rows.fetchall()]


# --- the numbers -------------------------------------------------------------------------------


def test_a_tally_stores_the_previous_utc_day_and_leaderboards_read_it(
    sim: RunningSimulator, store: Store, deps: Deps
) -> None:
    connect(store)

    outcome = run_tally(now=NOW, deps=deps)

    start = datetime.combine(DAY, datetime.min.time(), UTC)
    expected_ids = live_posts(
        sim, "sim_brand", before=start + timedelta(days=1), since=start - TALLY_LOOKBACK
    )
    assert len(expected_ids) >= 10
    assert outcome.day == DAY
    assert outcome.posts == len(expected_ids)
    assert outcome.ok
    expected = sim_days(sim, expected_ids, DAY, DAY)
    assert sum(expected["impressions"].values()) > 0
    calls_before = len(admin(sim, "GET", "requests")["requests"])
    for metric in METRICS:
        board = store.series.leaderboard(
            metric, since=DAY - timedelta(days=6), until=DAY + timedelta(days=1), limit=1000
        )
        assert dict(board) == expected[metric]
    assert len(admin(sim, "GET", "requests")["requests"]) == calls_before  # the store answered


def test_a_second_tally_changes_no_row(sim: RunningSimulator, store: Store, deps: Deps) -> None:
    connect(store)
    first = run_tally(now=NOW, deps=deps)
    rows = daily_rows(store)
    assert rows

    again = run_tally(now=NOW + timedelta(hours=2), deps=deps)

    assert again.posts == first.posts
    assert daily_rows(store) == rows


def test_a_week_of_tallies_is_what_a_7_day_leaderboard_sums(
    sim: RunningSimulator, store: Store, deps: Deps
) -> None:
    connect(store)
    week = [DAY - timedelta(days=n) for n in range(6, -1, -1)]

    for day in week:
        run_tally(now=NOW, deps=deps, day=day)

    start = datetime.combine(DAY, datetime.min.time(), UTC)
    ids = live_posts(
        sim, "sim_brand", before=start + timedelta(days=1), since=start - TALLY_LOOKBACK
    )
    expected = sim_days(sim, ids, week[0], DAY)
    board = store.series.leaderboard(
        "impressions", since=week[0], until=DAY + timedelta(days=1), limit=1000
    )
    assert dict(board) == {p: v for p, v in expected["impressions"].items()}


def test_a_day_not_over_is_refused(store: Store, deps: Deps) -> None:
    with pytest.raises(ValueError, match="not over"):
        run_tally(now=NOW, deps=deps, day=NOW.date())


# --- the fewest calls --------------------------------------------------------------------------


def test_just_after_midnight_the_previous_day_comes_from_28hr(
    sim: RunningSimulator, store: Store, deps: Deps
) -> None:
    now = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)
    admin(sim, "POST", "clock", {"now": stamp(now)})
    connect(store)
    admin(sim, "DELETE", "requests")

    outcome = run_tally(now=now, deps=deps)

    assert outcome.day == date(2026, 11, 26)
    calls = series_requests(sim)
    assert outcome.posts > 0
    assert len(calls) == math.ceil(outcome.posts / 25) == outcome.calls
    assert {c["endpoint"].rstrip("/").rsplit("/", 1)[-1] for c in calls} == {"28hr"}


def test_later_in_the_day_the_previous_day_comes_from_historical(
    sim: RunningSimulator, store: Store, deps: Deps
) -> None:
    extra = [{"author": "sim_brand", "age_hours": 30 + i} for i in range(40)]
    admin(sim, "POST", "posts", {"posts": extra})  # more than one batch of 25
    connect(store)
    admin(sim, "DELETE", "requests")

    outcome = run_tally(now=NOW, deps=deps)

    calls = series_requests(sim)
    assert outcome.posts > 25
    assert len(calls) == math.ceil(outcome.posts / 25) == outcome.calls
    assert {c["endpoint"].rstrip("/").rsplit("/", 1)[-1] for c in calls} == {"historical"}


# --- workspaces --------------------------------------------------------------------------------


def test_each_workspace_gets_one_query_for_its_own_accounts(
    sim: RunningSimulator, store: Store, deps: Deps
) -> None:
    connect(store, brand="T1", creator="T2")
    admin(sim, "DELETE", "requests")

    outcome = run_tally(now=NOW, deps=deps)

    by_workspace = {w.workspace: w for w in outcome.workspaces}
    assert set(by_workspace) == {"T1", "T2"}
    assert all(w.accounts == 1 and w.posts > 0 and w.error is None for w in by_workspace.values())
    users = {r["user"] for r in series_requests(sim)}
    assert len(users) == 2  # each owner's token for its own Posts
    assert "2 workspace(s)" in outcome.describe()


def test_accounts_group_by_the_workspace_that_linked_them(store: Store) -> None:
    connect(store, brand=None, creator="T2")

    groups = accounts_by_workspace(store.accounts.listed())

    assert {w: [a.screen_name for a in accs] for w, accs in groups.items()} == {
        None: ["sim_brand"],
        "T2": ["sim_creator"],
    }


def test_known_posts_by_authors_skip_deleted_refused_and_out_of_range(store: Store) -> None:
    at = datetime(2026, 11, 20, tzinfo=UTC)
    store.posts.save(
        [
            PostRecord("101", "1000000001", at),
            PostRecord("102", "1000000001", at),
            PostRecord("103", "1000000001", at),
            PostRecord("104", "1000000001", at - timedelta(days=200)),
            PostRecord("105", "1000000002", at),
            PostRecord("106", "1000000001", at + timedelta(days=10)),
        ]
    )
    store.posts.mark(["102"], state="deleted", now=at)
    store.posts.mark_not_owned_by(["103"], "1000000001")

    found = store.posts.by_authors(
        ["1000000001"],
        created_before=at + timedelta(days=1),
        created_after=at - timedelta(days=90),
    )

    assert found == ["101"]
