"""`engagement-bot query` stays a light command: a whole run, in a fresh interpreter, against the
simulator, imports none of the bot's heavy optional parts (Slack, the scheduler, charts); they
are imported only by the commands that use them."""

from __future__ import annotations

import json
import subprocess
import sys

from bot.cli import main
from bot.simulator.server import RunningSimulator
from tests.support.paths import REPO
from tests.support.simhttp import BRAND, live_posts
from tests.support.universe import point_env_at

HEAVY = ("slack_sdk", "slack_bolt", "apscheduler", "matplotlib")

# The query as `engagement-bot query` runs it, then which heavy packages it left imported.
QUERY_THEN_LIST_HEAVY = f"""
import json, sys
from bot.cli import main
code = main(sys.argv[1:])
print(json.dumps({{"code": code, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}),
      file=sys.stderr)
"""


def test_query_totals_imports_no_slack_scheduler_or_charts(
    sim: RunningSimulator, tmp_path, monkeypatch
):
    point_env_at(monkeypatch, tmp_path, sim.url)  # the child inherits this environment
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # this checkout's bot, whatever is installed
    assert main(["accounts", "add", "--token", BRAND[0], "--secret", BRAND[1]]) == 0
    post = live_posts(sim, "sim_brand", 1)[0]

    done = subprocess.run(
        [sys.executable, "-c", QUERY_THEN_LIST_HEAVY, "query", "totals", "--format", "csv", post],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    verdict = json.loads(done.stderr.strip().splitlines()[-1])
    assert verdict["code"] == 0
    assert f"{post},impressions," in done.stdout  # the run reached X and printed the numbers
    assert verdict["heavy"] == []
