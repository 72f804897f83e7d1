"""Workspaces see only what is theirs: an account connected in workspace A makes its Posts
owned for A alone; B naming those Posts gets what anyone gets, public metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.app import build_service
from bot.channels.deps import Deps
from bot.cli import main
from bot.config import Settings
from bot.engagement.models import UserAuth
from bot.engagement.query import EngagementQuery
from bot.simulator.server import RunningSimulator
from bot.slack.commands import Invocation, run
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.memory_x import MemoryX, posts_of
from tests.support.universe import SIM_START

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
KEY = Fernet.generate_key().decode()
CREATOR = UserAuth("1000000002-simtoken-sim_creator", "simsecret-sim_creator")


@pytest.fixture
def deps(memory_client: MemoryX, tmp_path: Path) -> Iterator[Deps]:
    store = Store.open(tmp_path / "e.db", cipher=TokenCipher.from_keys([KEY]))
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace="TA", now=SIM_START
    )
    ticks = iter(range(10**6))
    service = build_service(
        memory_client, store, sleep=lambda s: None, monotonic=lambda: float(next(ticks)) * 1000
    )
    yield Deps(service, store, Settings())
    store.close()


def ask(deps: Deps, team: str, text: str) -> str:
    message = run(Invocation(team, "C1", "U1", text), deps=deps, now=SIM_START)
    return message.text + "\n" + str(message.blocks)


def test_owned_metrics_only_in_the_connecting_workspace(sim: RunningSimulator, deps: Deps):
    post = next(p["id"] for p in posts_of(sim.state, "sim_brand") if not p["deleted"])
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
    post = next(p["id"] for p in posts_of(sim.state, "sim_brand") if not p["deleted"])
    assert "connect" in ask(deps, "TB", f"hourly {post}").lower()
    assert "@sim_brand" in ask(deps, "TA", "accounts")
    assert "@sim_brand" not in ask(deps, "TB", "accounts")
    assert "No connected account" in ask(deps, "TB", "disconnect @sim_brand")
    assert deps.store.accounts.connected_ids() == frozenset({"1000000001"})


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
    posts = [p["id"] for p in posts_of(sim.state, "sim_brand") if not p["deleted"]][:3]
    for post in posts:
        ask(deps, "TA", f"totals {post}")  # A's snapshots now hold impressions
        ask(deps, "TB", f"track {post}")
    rows = deps.service.leaderboard(
        posts, "impressions", period="7d", limit=5, now=SIM_START, workspace="TB"
    )
    assert rows == []


def _totals(post: str) -> EngagementQuery:
    return EngagementQuery((post,), ("impressions", "favorites"))


# -- an account the operator linked for every workspace ----------------------------------------


@pytest.fixture
def shared(deps: Deps) -> Deps:
    """@sim_creator linked with `engagement-bot accounts add` (no --workspace): every
    workspace's."""
    deps.store.accounts.save(
        user_id="1000000002", screen_name="sim_creator", auth=CREATOR, workspace=None, now=SIM_START
    )
    return deps


def test_disconnecting_a_shared_account_in_one_workspace_leaves_it_to_the_others(
    sim: RunningSimulator, shared: Deps
):
    post = next(p["id"] for p in posts_of(sim.state, "sim_creator") if not p["deleted"])
    reply = ask(shared, "TB", "disconnect @sim_creator")
    assert "from this workspace" in reply
    assert "keeps serving the others" in reply
    assert "@sim_creator" not in ask(shared, "TB", "accounts")
    assert "No connected account" in ask(shared, "TB", "disconnect @sim_creator")
    assert "connect" in ask(shared, "TB", f"hourly {post}").lower()  # public numbers only in B
    # A still has it, tokens and all.
    assert "@sim_creator" in ask(shared, "TA", "accounts")
    assert shared.store.accounts.auth("1000000002") == CREATOR
    assert "1000000002" in shared.store.accounts.connected_ids("TA")
    a_totals = shared.service.report(_totals(post), now=SIM_START, workspace="TA").totals
    assert a_totals[post]["impressions"].count is not None
    # Connecting it again from B serves B again, and A keeps it.
    shared.store.accounts.save(
        user_id="1000000002", screen_name="sim_creator", auth=CREATOR, workspace="TB", now=SIM_START
    )
    assert "@sim_creator" in ask(shared, "TB", "accounts")
    assert "@sim_creator" in ask(shared, "TA", "accounts")


def test_usage_in_a_workspace_shows_only_its_own_calls_and_accounts(
    sim: RunningSimulator, shared: Deps
):
    brand_post = next(p["id"] for p in posts_of(sim.state, "sim_brand") if not p["deleted"])
    creator_post = next(p["id"] for p in posts_of(sim.state, "sim_creator") if not p["deleted"])
    ask(shared, "TA", f"totals {brand_post}")  # @sim_brand's token, for A
    month = SIM_START.strftime("%Y-%m")
    in_b = ask(shared, "TB", "usage")
    assert "@sim_brand" not in in_b
    assert "No X API calls yet" in in_b
    ask(shared, "TB", f"totals {creator_post}")  # @sim_creator's token, for B
    in_b = ask(shared, "TB", "usage")
    assert "@sim_creator" in in_b
    assert "@sim_brand" not in in_b
    in_a = ask(shared, "TA", "usage")
    assert "@sim_brand" in in_a
    assert "@sim_creator" not in in_a
    everything = shared.store.usage.month(month)  # the operator's view
    assert {o.handle for o in everything.owners} == {"@sim_brand", "@sim_creator"}
    assert sum(e.calls for e in everything.endpoints) == sum(
        e.calls for e in shared.store.usage.month(month, "TA").endpoints
    ) + sum(e.calls for e in shared.store.usage.month(month, "TB").endpoints)


def test_the_operators_cli_sees_every_workspaces_usage_and_exclusions(
    sim: RunningSimulator, shared: Deps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    brand_post = next(p["id"] for p in posts_of(sim.state, "sim_brand") if not p["deleted"])
    creator_post = next(p["id"] for p in posts_of(sim.state, "sim_creator") if not p["deleted"])
    ask(shared, "TA", f"totals {brand_post}")
    ask(shared, "TB", f"totals {creator_post}")
    ask(shared, "TB", "disconnect @sim_creator")
    monkeypatch.setenv("ENGAGEMENT_DB", str(tmp_path / "e.db"))
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", KEY)
    assert main(["usage", "--month", SIM_START.strftime("%Y-%m")]) == 0
    out = capsys.readouterr().out
    assert "@sim_brand" in out
    assert "@sim_creator" in out
    assert main(["accounts", "list"]) == 0
    listed = capsys.readouterr().out
    assert "all workspaces but TB" in listed
