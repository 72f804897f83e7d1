"""`engagement-bot query campaign | compare` as a script runs them: the real command line, a
SQLite file, the simulator on loopback. Expected numbers are the simulator's own truth."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.cli import main
from bot.config import Settings
from bot.simulator.server import RunningSimulator
from bot.store.opening import open_store
from tests.support.simhttp import lifetime, live_posts
from tests.support.universe import SIM_START, point_env_at

BRAND_TOKEN = ["--token", "1000000001-simtoken-sim_brand", "--secret", "simsecret-sim_brand"]
TEAM = "T0CLI"


@pytest.fixture
def env(sim: RunningSimulator, tmp_path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    return point_env_at(monkeypatch, tmp_path, sim.url)


def campaign(env: dict[str, str], name: str, posts: list[str], team: str = TEAM) -> None:
    """A campaign made as Slack would make it (the store the command line then reads)."""
    with open_store(Settings.from_env(env)) as store:
        made = store.campaigns.create(
            team, name, hashtag=None, from_handle=None, channel_id="C1", by="U1", now=SIM_START
        )
        assert made is not None
        store.campaigns.add_posts(made.id, posts, source="post", now=SIM_START)


def test_query_campaign_json_totals_are_the_simulators(sim, env, capsys):
    assert main(["accounts", "add", *BRAND_TOKEN]) == 0
    ours = list(live_posts(sim, "sim_brand", 2))
    theirs = list(live_posts(sim, "sim_creator", 2))
    campaign(env, "Spring launch", [*ours, *theirs])
    capsys.readouterr()
    code = main(["query", "campaign", "spring launch", "--format", "json", "--from", "2026-11-20"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["campaign"] == "Spring launch"
    assert doc["posts"] == 4
    assert doc["owned_posts"] == 2
    likes = sum(lifetime(sim, p, "favorites") for p in [*ours, *theirs])
    assert doc["totals"]["favorites"] == {"value": likes, "posts": 4}
    impressions = sum(lifetime(sim, p, "impressions") for p in ours)
    assert doc["totals"]["impressions"] == {"value": impressions, "posts": 2}
    assert set(doc["daily"]["impressions"]) >= {"2026-11-20", "2026-11-26"}


def test_query_compare_csv_has_both_sides_difference_and_ratio(sim, env, capsys):
    assert main(["accounts", "add", *BRAND_TOKEN]) == 0
    ours = list(live_posts(sim, "sim_brand", 3))
    campaign(env, "A", ours[:2])
    campaign(env, "B", ours[2:])
    capsys.readouterr()
    assert main(["query", "compare", "A", "B", "--format", "csv"]) == 0
    rows = {r["metric"]: r for r in csv.DictReader(io.StringIO(capsys.readouterr().out))}
    a = sum(lifetime(sim, p, "impressions") for p in ours[:2])
    b = lifetime(sim, ours[2], "impressions")
    assert rows["impressions"]["A"] == str(a)
    assert rows["impressions"]["B"] == str(b)
    assert rows["impressions"]["difference"] == str(a - b)
    assert float(rows["impressions"]["ratio"]) == pytest.approx(a / b, abs=1e-4)
    assert "engagement_rate" in rows


def test_usage_errors_exit_2_and_say_why(sim, env, capsys):
    assert main(["accounts", "add", *BRAND_TOKEN]) == 0
    campaign(env, "Spring launch", list(live_posts(sim, "sim_brand", 1)))
    campaign(env, "Spring launch", list(live_posts(sim, "sim_brand", 1)), team="T0OTHER")
    capsys.readouterr()
    assert main(["query", "campaign", "Nothing"]) == 2
    assert 'No campaign called "Nothing"' in capsys.readouterr().err
    assert main(["query", "campaign", "Spring launch"]) == 2
    assert "--workspace" in capsys.readouterr().err
    args = ["query", "campaign", "Spring launch", "--workspace", TEAM, "--from", "2014-01-01"]
    assert main(args) == 2
    assert "starts on 1 Sep 2014" in capsys.readouterr().err
