"""The command line as a user runs it: `engagement-bot simulator` in its own process with our
client pointed at it, and `engagement-bot demo`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from bot.cli import main
from bot.console.demo import run_demo
from bot.engagement.models import DAILY, HOURLY, Endpoint, EngagementRequest, UserAuth
from tests.support.simhttp import http_client
from tests.support.universe import point_env_at

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")


@pytest.fixture(scope="module")
def simulator_process() -> Iterator[str]:
    """`python -m bot simulator` on a free port, as an operator starts it."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "simulator",
            "--port",
            "0",
            "--mode",
            "test",
            "--start-time",
            "2026-11-26T12:30:00Z",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    try:
        assert line.startswith("listening on http://127.0.0.1:")
        yield line.removeprefix("listening on ")
    finally:
        proc.terminate()
        proc.stdout.close()
        assert proc.wait(timeout=10) == 0


def test_client_fetches_every_endpoint_from_a_running_simulator(simulator_process: str):
    url = simulator_process
    client = http_client(url)
    user = client.user_by_username("sim_brand").user
    assert user is not None
    posts = [p.id for p in client.user_posts(user.id, max_results=25).posts]
    assert len(posts) == 25
    totals = client.fetch(EngagementRequest(Endpoint.TOTALS, tuple(posts), ("favorites",), BRAND))
    hourly = client.fetch(
        EngagementRequest(Endpoint.HOURLY_28HR, tuple(posts), ("impressions",), BRAND, (HOURLY,))
    )
    start = datetime(2026, 11, 1, tzinfo=UTC)
    end = datetime(2026, 11, 26, 12, tzinfo=UTC)
    daily = client.fetch(
        EngagementRequest(
            Endpoint.HISTORICAL, tuple(posts), ("impressions",), BRAND, (DAILY,), start, end
        )
    )
    assert hourly.start is not None
    same_hours = client.fetch(
        EngagementRequest(
            Endpoint.HISTORICAL,
            tuple(posts),
            ("impressions",),
            BRAND,
            (HOURLY,),
            hourly.start,
            datetime(2026, 11, 26, 13, tzinfo=UTC),
        )
    )
    for post_id in posts:
        assert totals.value(post_id, "favorites") is not None
        hours = hourly.hourly(post_id, "impressions")
        assert len(hours) == 29
        assert same_hours.hourly(post_id, "impressions") == hours  # /28hr == /historical
        assert len(daily.daily(post_id, "impressions")) == 26  # 1-26 November
    newest = posts[0]
    ground = requests.get(f"{url}/_sim/series?tweet_id={newest}&metrics=impressions", timeout=10)
    truth = ground.json()["buckets"]["impressions"]
    for bucket, count in hourly.hourly(newest, "impressions").items():
        assert truth.get(bucket.strftime("%Y-%m-%dT%H:%M:%SZ"), 0) == count


def test_simulator_rejects_a_bad_option_with_exit_2(capsys: pytest.CaptureFixture[str]):
    assert main(["simulator", "--mode", "party", "--port", "0"]) == 2
    assert "mode must be one of normal, test, demo" in capsys.readouterr().err


def test_demo_prints_the_tour_from_its_fixed_start(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path
):
    """`engagement-bot demo` on a clean machine: no settings, the fixed start, exit 0.
    tests/ops/test_demo.py checks what the tour shows."""
    from bot.console.demo import DEMO_START

    monkeypatch.chdir(tmp_path)
    for name in ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_API_URL", "X_OAUTH_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["demo"]) == 0
    printed = capsys.readouterr().out
    out = io.StringIO()
    assert run_demo(out, now=DEMO_START) == 0
    assert printed == out.getvalue()
    assert list(tmp_path.iterdir()) == []  # the database was a throwaway one


@pytest.fixture
def x_env(simulator_process: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment an operator sets to point the bot at a running simulator."""
    point_env_at(monkeypatch, tmp_path, simulator_process)
    return simulator_process


def sim_json(url: str, path: str) -> Any:
    return requests.get(f"{url}/_sim/{path}", timeout=10).json()


def test_query_totals_json_prints_the_simulators_numbers(x_env: str, capsys):
    ids = [p["id"] for p in sim_json(x_env, "posts?author=sim_creator")["posts"][:3]]
    assert main(["query", "totals", *ids, "--metrics", "likes,reposts", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for post_id in ids:
        truth = sim_json(x_env, f"series?tweet_id={post_id}&metrics=favorites,retweets")
        assert doc["totals"][post_id]["favorites"]["value"] == truth["lifetime"]["favorites"]
        assert doc["totals"][post_id]["retweets"]["value"] == truth["lifetime"]["retweets"]


def test_query_explain_prints_the_plan_and_calls_nothing(x_env: str, capsys):
    before = len(sim_json(x_env, "requests")["requests"])
    ids = [p["id"] for p in sim_json(x_env, "posts?author=sim_creator")["posts"][:2]]
    assert main(["query", "daily", *ids, "--from", "2026-09-01", "--explain"]) == 0
    out = capsys.readouterr().out
    assert "app-only" in out or "not fetched" in out
    assert len(sim_json(x_env, "requests")["requests"]) == before


def test_accounts_add_list_remove(x_env: str, capsys):
    token = ["--token", "1000000002-simtoken-sim_creator", "--secret", "simsecret-sim_creator"]
    assert main(["accounts", "add", *token]) == 0
    assert "Linked @sim_creator" in capsys.readouterr().out
    assert main(["accounts", "list"]) == 0
    assert "@sim_creator" in capsys.readouterr().out
    assert main(["accounts", "remove", "@SIM_CREATOR"]) == 0
    assert main(["accounts", "list"]) == 0
    assert "No X accounts linked" in capsys.readouterr().out


def test_accounts_add_with_a_bad_token_fails_plainly(x_env: str, capsys):
    token = ["--token", "1000000002-nope", "--secret", "wrong"]
    assert main(["accounts", "add", *token]) == 1
    err = capsys.readouterr().err
    assert "nope" not in err
    assert "wrong" not in err
    assert main(["accounts", "list"]) == 0
    assert "No X accounts linked" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["query", "totals", "12a"], "not a Post ID"),
        (["query", "totals", "1", "--metrics", "likez"], "unknown metric"),
        (["query", "daily", "1", "--from", "2026-11-20", "--to", "2026-11-01"], "--to"),
    ],
)
def test_query_bad_input_exits_2_with_a_reason(x_env: str, capsys, argv: list[str], message: str):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_rotate_key_round_trip_and_a_wrong_key_loses_nothing(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys
):
    from cryptography.fernet import Fernet

    from bot.app import open_store
    from bot.config import Settings
    from bot.engagement.models import UserAuth

    monkeypatch.chdir(tmp_path)
    old, new, stranger = (Fernet.generate_key().decode() for _ in range(3))
    db = str(tmp_path / "engagement.db")
    auth = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
    store = open_store(Settings.from_env({"ENGAGEMENT_DB": db, "ENGAGEMENT_SECRET_KEY": old}))
    store.accounts.save(
        user_id="1000000001",
        screen_name="sim_brand",
        auth=auth,
        workspace=None,
        now=datetime(2026, 11, 26, tzinfo=UTC),
    )
    store.close()
    monkeypatch.setenv("ENGAGEMENT_DB", db)

    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", f"{stranger},{new}")
    assert main(["rotate-key"]) == 1  # neither key opens the tokens: nothing rewritten
    assert "secret key does not match" in capsys.readouterr().err

    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", f"{new},{old}")
    assert main(["rotate-key"]) == 0
    assert "Re-encrypted 1" in capsys.readouterr().out
    with open_store(Settings.from_env({"ENGAGEMENT_DB": db, "ENGAGEMENT_SECRET_KEY": new})) as s:
        assert s.accounts.auth("1000000001") == auth  # the new key alone opens it now
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", new)
    assert main(["rotate-key"]) == 1  # one key only: says how to rotate
    assert "NEW,OLD" in capsys.readouterr().err
