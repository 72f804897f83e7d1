"""Workspaces see only what is theirs: an account connected in workspace A makes its Posts
owned for A alone; B naming those Posts gets what anyone gets, public metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_service
from bot.config import Settings
from bot.engagement.http_client import HttpEngagementClient
from bot.engagement.models import UserAuth
from bot.engagement.query import EngagementQuery
from bot.secrets import TokenCipher
from bot.simulator.server import RunningSimulator
from bot.slack.commands import Deps, Invocation, run
from bot.store import Store
from tests.conftest import SIM_START
from tests.simhttp import posts_of

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")


@pytest.fixture
def deps(sim: RunningSimulator, tmp_path: Path) -> Iterator[Deps]:
    store = Store.open(tmp_path / "e.db", cipher=TokenCipher.generate())
    store.save_account(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace="TA", now=SIM_START
    )
    with HttpEngagementClient(
        consumer_key="sim-consumer-key",
        consumer_secret="sim-consumer-secret",
        engagement_base_url=sim.url,
        oauth_base_url=sim.url,
    ) as client:
        ticks = iter(range(10**6))
        service = build_service(
            client, store, sleep=lambda s: None, monotonic=lambda: float(next(ticks)) * 1000
        )
        yield Deps(service, store, Settings())
    store.close()


def ask(deps: Deps, team: str, text: str) -> str:
    message = run(Invocation(team, "C1", "U1", text), deps=deps, now=SIM_START)
    return message.text + "\n" + str(message.blocks)


def test_owned_metrics_only_in_the_connecting_workspace(sim: RunningSimulator, deps: Deps):
    post = next(p["id"] for p in posts_of(sim, "sim_brand") if not p["deleted"])
    in_a = deps.service.report(_totals(post), now=SIM_START, workspace="TA").totals[post][
        "impressions"
    ]
    in_b = deps.service.report(_totals(post), now=SIM_START, workspace="TB").totals[post][
        "impressions"
    ]
    assert in_a.count is not None
    assert in_b.count is None
    assert in_b.reason is not None
    assert "impressions" in ask(deps, "TA", f"totals {post}").lower()


def test_series_and_accounts_are_per_workspace(sim: RunningSimulator, deps: Deps):
    post = next(p["id"] for p in posts_of(sim, "sim_brand") if not p["deleted"])
    assert "connect" in ask(deps, "TB", f"hourly {post}").lower()
    assert "@sim_brand" in ask(deps, "TA", "accounts")
    assert "@sim_brand" not in ask(deps, "TB", "accounts")
    assert "No connected account" in ask(deps, "TB", "disconnect @sim_brand")
    assert deps.store.connected_user_ids() == frozenset({"1000000001"})


def test_tracking_alerts_and_digests_are_per_workspace(deps: Deps):
    ask(deps, "TA", "track 1796874333705080832")
    ask(deps, "TA", "alert spike high")
    ask(deps, "TA", "digest on 9:00")
    assert "1796874333705080832" not in ask(deps, "TB", "tracked")
    assert deps.store.channels.alerts("TA", "C1")
    assert "no alert rules" in ask(deps, "TB", "alerts").lower()
    assert not deps.store.channels.settings("TB", "C1").digest_enabled


def test_a_leaderboard_never_shows_another_workspaces_private_numbers(
    sim: RunningSimulator, deps: Deps
):
    posts = [p["id"] for p in posts_of(sim, "sim_brand") if not p["deleted"]][:3]
    for post in posts:
        ask(deps, "TA", f"totals {post}")  # A's snapshots now hold impressions
        ask(deps, "TB", f"track {post}")
    rows = deps.service.leaderboard(
        posts, "impressions", period="7d", limit=5, now=SIM_START, workspace="TB"
    )
    assert rows == []


def _totals(post: str) -> EngagementQuery:
    return EngagementQuery((post,), ("impressions", "favorites"))
