"""`engagement-bot demo` tours the whole bot: every step shows real content, the same every time,
in well under a minute."""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass

import pytest

from bot.console.demo import DEMO_START, run_demo
from bot.simulator.seeded_universe import default_universe
from bot.simulator.texts import post_text

STEPS = (
    "Connect two X accounts through X's OAuth (/engagement connect)",
    "Track our account and a competitor's Posts (@sim_creator, not connected)",
    "Totals: ours with impressions, the competitor's public metrics only (/totals)",
    "Hourly series of a connected account's Post (/28hr)",
    "Daily series of an older Post (/historical)",
    "Leaderboard: the channel's Posts by likes, last 7 days",
    "Daily digest: switched on, then yesterday's posted by the digest job",
    "A spike injected in the simulator becomes one alert",
    "What the bot cost in X API calls this month",
)


@dataclass(frozen=True)
class Run:
    code: int
    text: str
    seconds: float

    def step(self, number: int) -> str:
        """The output of one step, from its heading to the next one."""
        start = self.text.index(f"── {number}. ")
        end = self.text.find(f"── {number + 1}. ", start)
        return self.text[start : end if end >= 0 else None]


@pytest.fixture(scope="module")
def demo() -> Run:
    out = io.StringIO()
    started = time.monotonic()
    code = run_demo(out, now=DEMO_START)
    return Run(code, out.getvalue(), time.monotonic() - started)


def test_it_exits_0_in_under_a_minute_in_about_150_lines(demo: Run):
    assert demo.code == 0
    assert demo.seconds < 60
    assert len(demo.text.splitlines()) <= 160


def test_every_step_has_a_numbered_heading_in_order(demo: Run):
    headings = re.findall(r"^── (\d+)\. (.+) ──$", demo.text, re.MULTILINE)
    assert headings == [(str(n), title) for n, title in enumerate(STEPS, start=1)]


def test_two_accounts_connect_through_the_bots_oauth_listener(demo: Run):
    step = demo.step(1)
    for handle in ("sim_brand", "sim_newcomer"):
        assert f"@{handle} clicks Authorize → 302 to the bot's callback" in step
        assert f"callback page (200): Connected @{handle}, you can close this tab." in step
        assert f"Slack, only to you: Connected X account @{handle} to this workspace" in step
    assert step.count("» /engagement connect") == 2
    assert "/x/connect/<one-time id>" in step


def test_the_competitor_is_tracked(demo: Run):
    assert "✅ Now tracking @sim_brand, @sim_creator in this channel." in demo.step(2)


def test_totals_show_our_impressions_and_only_public_metrics_for_the_competitor(demo: Run):
    step = demo.step(3)
    ours = step.split("@sim_brand · ", 1)[1].split("------", 1)[0]
    theirs = step.split("@sim_creator · ", 1)[1]
    assert int(re.search(r"Impressions ([\d,]+)", ours).group(1).replace(",", "")) > 0
    assert re.search(r"Likes [1-9][\d,]*", theirs)
    assert "Impressions " not in theirs.split("\n  Impressions, engagements", 1)[0]
    assert "Impressions, engagements (1 of 2 Posts): only for your connected accounts' Posts" in (
        theirs
    )


def test_the_hourly_series_comes_from_28hr(demo: Run):
    step = demo.step(4)
    assert "HOUR BY HOUR · 25 NOV 08:00 – 26 NOV 12:00 UTC" in step
    rows = re.findall(r"^  (?:Wed|Thu) \d\d:00 +([\d.]+K?)$", step, re.MULTILINE)
    cut = int(re.search(r"^    … \((\d+) more lines\)$", step, re.MULTILINE).group(1))
    assert len(rows) + cut == 29  # 25 Nov 08:00 to 26 Nov 12:00, the long table abridged
    assert all(row != "0" for row in rows)
    assert "1 API call" in step


def test_the_daily_series_has_seven_days(demo: Run):
    step = demo.step(5)
    assert "DAY BY DAY · 20 NOV 2026 – 26 NOV 2026" in step
    rows = re.findall(r"^  \w{3} \d\d Nov +(\d+)$", step, re.MULTILINE)
    assert len(rows) == 7
    assert all(int(v) > 0 for v in rows)


def test_the_leaderboard_is_ranked_in_descending_order(demo: Run):
    step = demo.step(6)
    assert "TOP POSTS BY LIKES · LAST 7 DAYS" in step
    ranked = re.findall(r"^  (?:🥇|🥈|🥉|\d+\.) ([\d,]+) likes · @", step, re.MULTILINE)
    values = [int(v.replace(",", "")) for v in ranked]
    assert len(values) == 5
    assert values == sorted(values, reverse=True)


def test_the_digest_job_posts_yesterdays_totals(demo: Run):
    step = demo.step(7)
    assert "✅ Daily digest on: every day at 09:00 UTC" in step
    assert "[the job posts to #C0DEMO]" in step
    assert "DAILY DIGEST · WED 25 NOV 2026" in step
    for metric in ("Impressions", "Engagements", "Likes", "Reposts", "Replies"):
        assert re.search(rf"{metric}  [1-9][\d,]* [▲▼]", step), metric
    assert "Top Posts of the day" in step
    assert step.rstrip().endswith("→ digest posted")


def test_the_injected_spike_becomes_exactly_one_alert_naming_its_post(demo: Run):
    step = demo.step(8)
    assert "✅ Alert #1: Spikes (medium sensitivity) on" in step
    spiked = re.search(r"simulator: Post (\d+) gets 12× its traffic at 12:00", step).group(1)
    assert "simulator clock → 13:05 UTC" in step
    assert step.count("ENGAGEMENT ALERT") == 1
    spike_line = (
        r"^  • Spike · @sim_brand · “([^”]+)” .*impressions in 12:00–13:00.*\(alert #1: Spik"
    )
    alerts = re.findall(spike_line, step, re.MULTILINE)
    # The Post is named by its words (the simulator's default universe, seed 1).
    assert len(alerts) == 1
    assert post_text(
        1, default_universe(seed=1, start_time=DEMO_START).posts[int(spiked)]
    ).startswith(alerts[0].removesuffix("…"))
    assert "→ 1 alert fired" in step


def test_usage_counts_the_tours_calls(demo: Run):
    step = demo.step(9)
    assert "X API USAGE · NOVEMBER 2026" in step
    calls = [int(n) for n in re.findall(r"^  • [\w ]+: (\d+) API calls?$", step, re.MULTILINE)]
    assert calls
    assert all(n > 0 for n in calls)
    assert "• @sim_brand:" in step


def test_ports_and_link_ids_are_masked(demo: Run):
    assert not re.search(r"127\.0\.0\.1:\d", demo.text)
    assert not re.search(r"/x/connect/(?!<one-time id>)", demo.text)


def test_the_tour_is_the_same_every_time(demo: Run):
    again = io.StringIO()
    assert run_demo(again, now=DEMO_START) == 0
    assert again.getvalue() == demo.text
