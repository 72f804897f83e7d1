"""`engagement-bot query` as a script runs it: exit codes a script can act on, Post lists from
standard input and files, a `--explain` plan equal to the run's calls, no bearer token unless an
app-only call is made, and progress while waiting for X's rate limit.

Real parts throughout: the simulator over loopback HTTP, a SQLite file, our own parser and
service. Where X makes us wait (retries, rate-limit windows) the clock is injected and sleeping
moves the simulator's clock, so no test waits for real.
"""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any

import pytest
import requests

from bot.cli import main
from bot.config import Settings
from bot.ops.commands import QueryArgs, run_query
from bot.simulator.server import RunningSimulator
from tests.support.clocks import SimTime
from tests.support.universe import SIM_START, point_env_at

BRAND_TOKEN = ["--token", "1000000001-simtoken-sim_brand", "--secret", "simsecret-sim_brand"]


def admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def posts(sim: RunningSimulator, author: str, **flags: bool) -> list[str]:
    """IDs of an author's Posts; `deleted=True` etc. picks those, by default neither."""
    found = admin(sim, "GET", f"posts?author={author}")["posts"]
    return [
        p["id"]
        for p in found
        if p["deleted"] == flags.get("deleted", False)
        and p["protected"] == flags.get("protected", False)
    ]


def engagement_calls(sim: RunningSimulator) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = admin(sim, "GET", "requests")["requests"]
    return calls


def add_posts(sim: RunningSimulator, author: str, count: int) -> list[str]:
    """Many Posts at once, through the live state as POST /_sim/posts does (that route rebuilds
    the engagement model for each Post: 5,000 would take seconds)."""
    state = sim.state
    with state.lock:
        made = [
            state.universe.add_post({"author": author, "age_hours": 1 + i % 2000}, now=state.now())
            for i in range(count)
        ]
        state.universe_changed()
    return [str(p.id) for p in made]


@pytest.fixture
def env(sim: RunningSimulator, tmp_path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    return point_env_at(monkeypatch, tmp_path, sim.url)


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


# --- exit codes -----------------------------------------------------------------------------


def test_help_documents_every_exit_code(capsys: pytest.CaptureFixture[str]):
    with pytest.raises(SystemExit) as done:
        main(["query", "totals", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "exit status:" in out
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"^  {code}  \S", out, re.MULTILINE), code
    assert "- reads them from standard input and @FILE" in out


def test_exit_0_when_every_number_answered_or_missing_for_good(
    sim: RunningSimulator, env: dict[str, str], capsys: pytest.CaptureFixture[str]
):
    """A competitor's impressions can never be read, a deleted Post has no numbers and a
    protected account's Post none for us: retrying cannot help, so the run succeeds and says
    why they are missing (with an account connected, so every author is looked up)."""
    assert main(["accounts", "add", *BRAND_TOKEN]) == 0
    own = posts(sim, "sim_brand")[0]
    competitor = posts(sim, "sim_creator")[0]
    gone = posts(sim, "sim_creator", deleted=True)[0]
    hidden = posts(sim, "sim_private")[0]  # the account is protected
    capsys.readouterr()
    assert main(["query", "totals", own, competitor, gone, hidden, "--format", "json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["totals"][own]["impressions"]["value"] is not None
    assert doc["totals"][competitor]["favorites"]["value"] is not None
    assert doc["totals"][competitor]["impressions"]["missing"] == "not_owned"
    assert {m["reason"] for m in doc["missing"] if m["post_id"] == gone} == {"unavailable"}
    assert {m["reason"] for m in doc["missing"] if m["post_id"] == hidden} == {"protected"}
    assert captured.err == ""


def test_exit_1_without_x_credentials(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.chdir(tmp_path)
    for name in ("X_CONSUMER_KEY", "X_CONSUMER_SECRET", "X_API_URL", "X_OAUTH_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ENGAGEMENT_DB", str(tmp_path / "engagement.db"))
    assert main(["query", "totals", "20"]) == 1
    assert "X_CONSUMER_KEY" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "lines", "message"),
    [
        (["query", "totals"], None, "the following arguments are required: POST"),
        (["query", "totals", "-"], "20\n# a comment\n\nnot-a-post\n", "standard input, line 4"),
        (["query", "totals", "-", "-"], "20\n", "- (standard input) can be given once"),
        (["query", "totals", "@missing.txt"], None, "cannot read the Post list @missing.txt"),
        (["query", "totals", "-"], "# nothing but a comment\n", "no Posts given"),
    ],
)
def test_exit_2_for_usage_errors_naming_the_line(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    lines: str | None,
    message: str,
):
    stdin(monkeypatch, lines or "")
    try:
        code = main(argv)
    except SystemExit as exited:  # argparse's own usage errors
        code = int(str(exited.code))
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("faults", "status"),
    [
        ({"error_rate": 1.0, "error_statuses": [503]}, 503),  # X down
        ({"queue": ["429"] * 6}, 429),  # the rate limit stays exhausted past every retry
    ],
)
def test_exit_3_when_x_failed_every_attempt(
    sim: RunningSimulator,
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    faults: dict[str, Any],
    status: int,
):
    """Every attempt failed: the waits run on the injected clock, every value is missing, and
    the status says so (it was 0, as if all was well)."""
    ids = posts(sim, "sim_creator")[:3]
    admin(sim, "PUT", "faults", faults)
    clock = SimTime(sim)
    out, err = io.StringIO(), io.StringIO()
    args = QueryArgs("totals", ids, "likes,reposts", "json", explain=False)
    code = run_query(
        Settings.from_env(env),
        args,
        now=SIM_START,
        out=out,
        err=err,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    assert code == 3
    doc = json.loads(out.getvalue())
    assert all(v["value"] is None for p in doc["totals"].values() for v in p.values())
    assert {m["reason"] for m in doc["missing"]} == {"failed"}
    assert "6 values missing because X did not answer" in err.getvalue()
    assert [e["status"] for e in engagement_calls(sim)] == [status] * 6  # 1 try + 5 retries
    assert len(clock.slept) == 5  # a wait before each retry, on our clock only
    capsys.readouterr()


def test_exit_3_when_a_posts_author_could_not_be_looked_up(
    sim: RunningSimulator, env: dict[str, str], capsys: pytest.CaptureFixture[str]
):
    """With an account connected, a Post's author decides whether its impressions can be read.
    If the lookup fails, "not owned" is a guess, not a fact: the run is incomplete."""
    assert main(["accounts", "add", *BRAND_TOKEN]) == 0
    admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 0})  # every lookup gets a 429
    own = posts(sim, "sim_brand")[:2]
    capsys.readouterr()
    assert main(["query", "totals", *own, "--format", "json"]) == 3
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["totals"][own[0]]["favorites"]["value"] is not None  # public numbers came
    assert "the author of 2 Posts could not be looked up" in captured.err
    admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 300})
    assert main(["query", "totals", *own, "--format", "json"]) == 0  # next time: all of it
    doc = json.loads(capsys.readouterr().out)
    assert doc["totals"][own[0]]["impressions"]["value"] is not None


# --- Post lists -----------------------------------------------------------------------------


def test_five_thousand_ids_from_stdin_in_twenty_calls(
    sim: RunningSimulator,
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    """`engagement-bot query totals - --format json < ids.txt`: 250 Posts per /totals call."""
    ids = add_posts(sim, "sim_creator", 5000)
    stdin(monkeypatch, "# exported Posts\n" + "\n".join(ids) + "\n\n")
    assert main(["query", "totals", "-", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["totals"]) == ids
    assert all(doc["totals"][i]["favorites"]["value"] is not None for i in ids)
    calls = engagement_calls(sim)
    assert len(calls) == 20
    assert {c["endpoint"] for c in calls} == {"totals"}
    assert sorted(i for c in calls for i in c["tweet_ids"]) == sorted(ids)


def test_a_file_stdin_and_arguments_mix_and_links_count(
    sim: RunningSimulator,
    env: dict[str, str],
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    a, b, c, d = posts(sim, "sim_creator")[:4]
    (tmp_path / "ids.txt").write_text(
        f"# launch week\n{a}  # the teaser\n\nhttps://x.com/sim_creator/status/{b}?s=20\n"
    )
    stdin(monkeypatch, f"{c}\n")
    argv = ["query", "totals", "@ids.txt", "-", d, a, "--metrics", "likes", "--format", "csv"]
    assert main(argv) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == [a, b, c, d]  # in order, a once


# --- --explain is the plan run --------------------------------------------------------------

_CALL = re.compile(r"^POST /insights/engagement/(\w+) \| (app-only|owner (\d+)) \| (\d+) Posts?")


def planned(text: str) -> list[tuple[str, str, int]]:
    """(endpoint, owner or "app-only", Post count) of each call --explain printed."""
    found = [_CALL.match(line) for line in text.splitlines()]
    return sorted((m[1], m[3] or m[2], int(m[4])) for m in found if m)


def test_explain_on_a_fresh_database_shows_the_calls_the_run_makes(
    sim: RunningSimulator, env: dict[str, str], capsys: pytest.CaptureFixture[str]
):
    """Posts of a connected account, a competitor's and a deleted one, on a database that knows
    none of them: --explain looks the authors up (and says so), then plans what the run does."""
    assert main(["accounts", "add", *BRAND_TOKEN]) == 0
    ids = [
        *posts(sim, "sim_brand")[:4],
        posts(sim, "sim_creator")[0],
        posts(sim, "sim_brand", deleted=True)[0],
    ]
    capsys.readouterr()
    assert main(["query", "totals", *ids, "--explain"]) == 0
    explained = capsys.readouterr().out
    assert "author lookups: 1 v2 call" in explained
    assert engagement_calls(sim) == []  # a lookup is not an engagement call
    assert "needs the author's connected X account" not in explained.split(ids[0])[0]

    assert main(["query", "totals", *ids]) == 0
    made = sorted(
        (c["endpoint"], c["user"] or c["auth_mode"], len(c["tweet_ids"]))
        for c in engagement_calls(sim)
    )
    assert planned(explained) == made
    assert ("totals", "1000000001", 4) in made  # the owner's Posts with the owner's token


# --- bearer tokens --------------------------------------------------------------------------


def token_requests(caplog: pytest.LogCaptureFixture) -> int:
    """POSTs to /oauth2/token as the simulator's access log saw them."""
    return sum(
        "POST /oauth2/token" in r.getMessage()
        for r in caplog.records
        if r.name == "bot.simulator.server"
    )


def test_no_bearer_token_when_every_call_uses_an_accounts_token(
    sim: RunningSimulator,
    env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
):
    """Links naming a connected account settle the author without a lookup; every call is then
    signed with the account's token and the app's bearer token is never fetched. A competitor's
    Post needs an app-only call: then, and only then, it is."""
    caplog.set_level(logging.DEBUG, logger="bot.simulator.server")
    assert main(["accounts", "add", *BRAND_TOKEN]) == 0
    links = [f"https://x.com/sim_brand/status/{i}" for i in posts(sim, "sim_brand")[:3]]
    assert main(["query", "totals", *links, "--format", "json"]) == 0
    assert {c["auth_mode"] for c in engagement_calls(sim)} == {"user"}
    assert token_requests(caplog) == 0
    competitor = f"https://x.com/sim_creator/status/{posts(sim, 'sim_creator')[0]}"
    assert main(["query", "totals", competitor, "--format", "json"]) == 0
    assert token_requests(caplog) == 1
    capsys.readouterr()


# --- progress while waiting for the rate limit ----------------------------------------------


def test_progress_says_what_it_waits_for(
    sim: RunningSimulator, env: dict[str, str], capsys: pytest.CaptureFixture[str]
):
    """One /totals request a minute: the second and third calls wait for a new window, and
    each wait is one line on stderr naming the endpoint, how long, and the calls left."""
    admin(sim, "PUT", "options", {"rate_limit_totals": 1})
    ids = add_posts(sim, "sim_creator", 600)  # 3 calls of at most 250
    clock = SimTime(sim)
    out, err = io.StringIO(), io.StringIO()
    args = QueryArgs("totals", ids, "likes", "csv", explain=False)
    settings = Settings.from_env(env)
    code = run_query(
        settings,
        args,
        now=SIM_START,
        out=out,
        err=err,
        progress=True,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    assert code == 0
    lines = err.getvalue().splitlines()
    assert len(lines) == len(clock.slept) == 2
    for line, left in zip(lines, (2, 1), strict=True):
        assert re.fullmatch(
            rf"waiting \d+ s for X's rate-limit window on /totals \({left} of 3 calls left\)",
            line,
        ), line
    assert len(engagement_calls(sim)) == 3

    quiet = io.StringIO()
    admin(sim, "POST", "rate-limits/reset")
    code = run_query(
        settings,
        args,
        now=SIM_START,
        out=io.StringIO(),
        err=quiet,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
    )
    assert code == 0
    assert quiet.getvalue() == ""  # no --progress and not a terminal: nothing on stderr
    capsys.readouterr()
