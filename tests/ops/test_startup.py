"""The one-shot commands stay light: a whole run, in a fresh interpreter, against the simulator,
imports none of the bot's heavy optional parts (Slack, the scheduler, charts) nor what its
libraries would drag in unasked: sqlite-utils (numpy when installed, its plugin and CLI
machinery: pluggy, click) and requests-oauthlib with oauthlib's OAuth 2 half. Each is imported
only by the command that uses it (bench/startup.py measures what that saves)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bot.cli import main
from bot.simulator.server import RunningSimulator
from tests.support.paths import REPO
from tests.support.simhttp import BRAND, live_posts
from tests.support.universe import point_env_at

HEAVY = (
    "slack_sdk",
    "slack_bolt",
    "apscheduler",
    "matplotlib",
    "numpy",
    "sqlite_utils",
    "pluggy",
    "click",
    "requests_oauthlib",
    "oauthlib.oauth2",
)

# Light, but no part of a one-Post `query totals`: each was imported by it once.
NOT_FOR_A_QUERY = (
    "zoneinfo",  # the settings' time zones are checked only when one is set
)

# The command as `engagement-bot` runs it, then which heavy packages it left imported.
RUN_THEN_LIST_HEAVY = f"""
import json, sys
from bot.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:  # --help
    code = exit.code
print(json.dumps({{"code": code, "heavy": [m for m in {HEAVY!r} if m in sys.modules],
    "unneeded": [m for m in {NOT_FOR_A_QUERY!r} if m in sys.modules],
    "simulator": "bot.simulator.cli" in sys.modules}}), file=sys.stderr)
"""


@pytest.fixture
def connected(sim: RunningSimulator, tmp_path, monkeypatch) -> str:
    """@sim_brand connected in a database in tmp_path (the working directory); one of its
    Posts."""
    point_env_at(monkeypatch, tmp_path, sim.url)  # the child inherits this environment
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # this checkout's bot, whatever is installed
    assert main(["accounts", "add", "--token", BRAND[0], "--secret", BRAND[1]]) == 0
    return live_posts(sim, "sim_brand", 1)[0]


def run_in_fresh_interpreter(*argv: str) -> tuple[dict[str, object], str]:
    """The command's verdict (exit status, heavy modules imported) and its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_THEN_LIST_HEAVY, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    verdict: dict[str, object] = json.loads(done.stderr.strip().splitlines()[-1])
    return verdict, done.stdout


def test_query_totals_imports_nothing_heavy(connected: str):
    verdict, out = run_in_fresh_interpreter("query", "totals", "--format", "csv", connected)

    assert verdict["code"] == 0
    assert f"{connected},impressions," in out  # the run reached X and printed the numbers
    assert verdict["heavy"] == []
    assert verdict["unneeded"] == []
    assert verdict["simulator"] is False  # only the query's grammar was built


@pytest.mark.parametrize(
    ("argv", "shows"),
    [
        (["--help"], "query"),
        (["accounts", "list"], "@sim_brand"),
        (["usage"], "API calls"),
    ],
)
def test_help_accounts_and_usage_import_nothing_heavy(connected: str, argv: list[str], shows):
    verdict, out = run_in_fresh_interpreter(*argv)

    assert verdict["code"] == 0
    assert shows in out
    assert verdict["heavy"] == []


# The command as `engagement-bot` and `python -m bot` run it (bot.cli.run), in a process that
# would say so if the interpreter were torn down after it.
RUN_AS_THE_PROGRAM = """
import atexit, sys
atexit.register(lambda: print("torn down", file=sys.stderr))
from bot.cli import run
run()
"""


def run_as_the_program(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN_AS_THE_PROGRAM, *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_program_leaves_without_tearing_down_and_loses_no_output(connected: str):
    done = run_as_the_program("query", "totals", "--format", "csv", connected)

    assert done.returncode == 0
    assert done.stdout.startswith("post_id,metric,value,missing\n")
    assert f"{connected},impressions," in done.stdout
    assert done.stdout.endswith("\n")
    assert "torn down" not in done.stderr  # finalisation skipped: tens of ms saved


def test_the_program_keeps_its_exit_status_and_message_on_a_usage_error(connected: str):
    done = run_as_the_program("query", "totals", "--format", "nope", connected)

    assert done.returncode == 2
    assert "invalid choice: 'nope'" in done.stderr
    assert done.stdout == ""
