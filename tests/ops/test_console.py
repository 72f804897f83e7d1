"""`engagement-bot console` as a newcomer runs it: no credentials, the embedded simulator."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest

from bot.cli import main
from bot.config import Settings
from bot.console.console import console_deps, handle_line, repl
from bot.simulator.texts import sentence

NO_X = ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_API_URL", "X_OAUTH_URL", "X_BEARER_TOKEN")


@pytest.fixture(autouse=True)
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in NO_X:
        monkeypatch.delenv(name, raising=False)


def test_top_prints_a_readable_leaderboard(capsys: pytest.CaptureFixture[str]):
    assert main(["console", "--command", "/engagement top favorites 5 7d"]) == 0
    out = capsys.readouterr().out
    assert "TOP POSTS BY LIKES" in out
    ranked = [line for line in out.splitlines() if re.match(r"^(🥇|🥈|🥉|\d+\.) ", line)]
    assert len(ranked) == 5
    values = [int(re.search(r"([\d,]+) likes", line).group(1).replace(",", "")) for line in ranked]
    assert values == sorted(values, reverse=True)
    assert "<!date" not in out  # Slack markup is drawn for a terminal


def test_json_prints_the_slack_payload(capsys: pytest.CaptureFixture[str]):
    assert main(["console", "--json", "--command", "/engagement help"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["response_type"] == "ephemeral"
    assert payload["blocks"]


def test_a_session_answers_each_line_and_explains_typos():
    now = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
    out = io.StringIO()
    with console_deps(Settings.from_env({}), now=now, out=io.StringIO()) as deps:
        lines = io.StringIO("/engagement tracked\n\n/engagement topp\n")
        assert (
            repl(deps, channel="C0CONSOLE", user="U0CONSOLE", clock=lambda: now, inp=lines, out=out)
            == 0
        )
        reply = handle_line("totals 12a", deps, channel="C1", user="U1", now=now, as_json=False)
    text = out.getvalue()
    assert "@sim_brand" in text  # the tracked account
    assert "`top" in text.split("@sim_brand", 1)[1]  # the typo after it gets a suggestion
    assert "12a" in reply


def test_a_series_where_no_chart_can_be_uploaded_does_not_promise_one():
    now = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
    with console_deps(Settings.from_env({}), now=now, out=io.StringIO()) as deps:
        [brand] = [a for a in deps.store.accounts.listed() if a.screen_name == "sim_brand"]
        (owned,) = deps.service.recent_posts(brand.user_id, since=now.replace(day=20))[:1]
        reply = handle_line(f"hourly {owned}", deps, channel="C1", user="U1", now=now, as_json=True)
    payload = json.loads(reply)
    assert "Chart below" not in json.dumps(payload)
    assert payload["response_type"] == "ephemeral"  # without a chart the reply stays private
    assert "Impressions" in json.dumps(payload)


@pytest.mark.parametrize(
    ("mrkdwn", "text"),
    [
        ("_Only for @sim_brand's Posts_", "Only for @sim_brand's Posts"),
        ("*Likes* 5 · snake_case_name", "Likes 5 · snake_case_name"),
        ("<https://x.com/a/status/1|@a · 1>", "@a · 1 (https://x.com/a/status/1)"),
    ],
)
def test_mrkdwn_is_drawn_as_plain_terminal_text(mrkdwn: str, text: str):
    from bot.console.console import _plain

    assert _plain(mrkdwn) == text


@pytest.mark.parametrize(
    "now", [datetime(2026, 11, 26, 12, 30, tzinfo=UTC), datetime(2027, 3, 9, 7, 5, tzinfo=UTC)]
)
def test_the_post_ids_it_suggests_exist_in_its_simulator(now: datetime):
    """The console's simulator starts at the real time, so its Post IDs change from run to run:
    the ones it suggests come from that simulator and answer with numbers, whatever the start."""
    hint = io.StringIO()
    with console_deps(Settings.from_env({}), now=now, out=hint) as deps:
        suggested = re.search(r"e\.g\. /engagement (totals [\d ]+)$", hint.getvalue(), re.M)
        assert suggested is not None, hint.getvalue()
        reply = handle_line(
            suggested.group(1), deps, channel="C1", user="U1", now=now, as_json=False
        )
    owned, competitor, old = suggested.group(1).split()[1:]
    text = hint.getvalue()
    assert re.search(rf"{owned}  @sim_brand, [\d.]+ h old \(yours", text)
    assert re.search(rf"{competitor}  @(?!sim_brand)\w+, .*\(public numbers only\)", text)
    assert re.search(rf"{old}  @sim_brand, \d+ days old", text)
    assert "deleted" not in reply.lower()
    assert "unknown to X" not in reply
    # Named by their author and words (the simulator's default universe, seed 1).
    assert f"@sim_brand · “{sentence(1, int(owned))[:20]}" in reply
    assert f"@sim_brand · “{sentence(1, int(old))[:20]}" in reply
    assert reply.count("Likes") == 3  # a number for each of the three
