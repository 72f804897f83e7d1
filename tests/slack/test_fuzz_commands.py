"""Fuzzing `/engagement <text>`: whatever a stranger types reaches `commands.run`.

The real dispatcher, a real Store on a SQLite file (with accounts, tracking, a digest, alerts
and quiet hours already set), X simulated in process (tests/support/memory_x.py). Random and
mutated-valid texts (unicode, control characters, huge lengths, Slack's escaped mentions and
links) must each get a reply, never an exception: a short, specific one within Slack's limits.
A text that does not parse changes no row of the store and makes no call to X.

test_parsing.py fuzzes the parser alone and test_slack_app.py sends short texts through Bolt;
this file goes through the whole command path with long and hostile texts and checks the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from bot.app import build_service
from bot.channels.deps import Deps
from bot.config import Settings
from bot.copy.usage import SUBCOMMANDS
from bot.engagement.models import UserAuth
from bot.errors import UsageError
from bot.render import blocks
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from bot.simulator.texts import sentence
from bot.slack.commands import GUARDED, Invocation, run
from bot.slack.parse.grammar import EXAMPLES, parse
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.clocks import FakeClock
from tests.support.memory_x import MemoryX, admin
from tests.support.slack_limits import assert_valid_message
from tests.support.universe import SIM_START

TEAM, CHANNEL, USER = "T0FUZZ", "C0FUZZ", "U0FUZZ"
BRAND_ID = "1000000001"
MAX_ERROR_REPLY = 1_500  # the error (≤ 700) and its usage line (≤ 500), with their framing
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def sim_get(sim: RunningSimulator, path: str) -> Any:
    return admin(sim.state, "GET", path)


class World:
    """The deps, the database file, sim_brand's Post IDs and the simulator; printed briefly
    in failing examples (the simulator's own repr is huge)."""

    def __init__(self, deps: Deps, path: Path, posts: list[str], sim: RunningSimulator) -> None:
        self.deps, self.path, self.posts, self.sim = deps, path, posts, sim

    def __repr__(self) -> str:
        return "world"


@pytest.fixture
def world(sim: RunningSimulator, tmp_path: Path) -> Iterator[World]:
    """Deps on a SQLite file that already holds what a busy channel has set up."""
    path = tmp_path / "engagement.db"
    store = Store.open(path, cipher=TokenCipher.generate())
    clock = FakeClock()
    with MemoryX(sim.state) as client:
        service = build_service(client, store, sleep=clock.sleep, monotonic=clock.monotonic)
        deps = Deps(service, store, Settings(), can_post=lambda channel: True)
        store.accounts.save(
            user_id=BRAND_ID,
            screen_name="sim_brand",
            auth=UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand"),
            workspace=None,
            now=SIM_START,
        )
        posts = [p["id"] for p in sim_get(sim, "posts?author=sim_brand")["posts"]]
        for text in (
            f"track {posts[0]} {posts[1]} @sim_brand",
            "digest on 9:00 Europe/Paris",
            f"alert likes > 100/h {posts[0]}",
            "alert spike high",
            "quiet 10pm to 7am",
            "snooze 2h",
            f"totals {posts[0]}",
        ):
            reply = ask(deps, text)
            assert "⚠️" not in reply.text, (text, reply.text)
        yield World(deps, path, posts, sim)
    store.close()


def ask(deps: Deps, text: str) -> Message:
    invocation = Invocation(TEAM, CHANNEL, USER, text, response_url=None)
    return run(invocation, deps=deps, now=SIM_START)


def rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    with sqlite3.connect(path) as db:
        tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: sorted(map(tuple, db.execute(f"SELECT * FROM {t}")), key=repr) for t in tables}  # noqa: S608


def x_calls(sim: RunningSimulator) -> int:
    return len(sim_get(sim, "requests")["requests"])


# -- what a stranger types -------------------------------------------------------------------

ANY_CHAR = st.characters(codec="utf-8", exclude_categories=("Cs",))
NASTY = st.sampled_from(
    [
        "\x00",
        "\x07",
        "\x1b[31m",
        "\r\n",
        "\t",
        "\u200b",  # zero-width space
        "\u202e",  # right-to-left override
        "\ufeff",
        "\u00a0",
        "\u3000",
        "１２３",  # fullwidth digits
        "₁₂",  # subscript digits
        "٣",  # Arabic-Indic digit
        "ｔｏｐ",
        "İ",  # lower() changes its length
        "ß",
        "🥇",
        "&amp;",
        "&lt;!channel&gt;",
        "<!here>",
        "<!channel>",
        "<!subteam^S123|@team>",
        "<@U0ALICE>",
        "<@W123|alice>",
        "<#C0GENERAL|general>",
        "<mailto:a@b.c|a@b.c>",
        "<https://x.com/sim_brand/status/1|x.com/sim_brand>",
        "<https://twitter.com/a/status/99999999999999999999999>",
        "<https://evil.example/x.com/a/status/1|https://x.com/a/status/1>",
        "https://x.com/a/status/1?s=20&t=abc",
        "https://x.com/i/web/status/1",
        "@",
        "@a_handle_far_too_long_for_x",
        "-1",
        "0",
        "1e9",
        "9" * 40,
        "NaN",
        "`",
        "```",
        "*bold*",
        "|",
        ">",
        ";DROP TABLE posts;--",
        "'",
        '"',
        "%00",
        "../..",
    ]
)
WORDS = st.one_of(
    st.sampled_from(SUBCOMMANDS),
    st.sampled_from(
        ["on", "off", "now", "from", "to", "likes", "impressions", "24h", "7d", "spike", "high"]
    ),
    NASTY,
    st.text(ANY_CHAR, max_size=12),
    st.integers(-(10**30), 10**30).map(str),
)
SEPARATORS = st.sampled_from([" ", "  ", "\t", "\n", ",", " , ", "\u00a0", "\u2003"])
TEXTS = st.one_of(
    st.text(ANY_CHAR, max_size=80),
    st.lists(WORDS, max_size=10).flatmap(lambda ws: SEPARATORS.map(lambda s: s.join(ws))),
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid example with a few edits: words inserted, dropped, doubled, swapped or escaped."""
    words = draw(st.sampled_from(sorted(EXAMPLES.values()))).removeprefix("/engagement").split()
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["insert", "drop", "double", "swap", "wrap", "case"]))
        at = draw(st.integers(0, max(len(words) - 1, 0)))
        if edit == "insert" or not words:
            words.insert(at, draw(WORDS))
        elif edit == "drop":
            del words[at]
        elif edit == "double":
            words.insert(at, words[at])
        elif edit == "swap":
            other = draw(st.integers(0, len(words) - 1))
            words[at], words[other] = words[other], words[at]
        elif edit == "wrap":  # as Slack sends a link or a mention it recognised
            words[at] = draw(
                st.sampled_from([f"<{words[at]}>", f"<{words[at]}|{words[at]}>", f"<@{words[at]}>"])
            )
        else:
            words[at] = words[at].upper()
    return draw(SEPARATORS).join(words)


HUGE = st.one_of(
    st.tuples(WORDS, st.integers(1_000, 40_000)).map(lambda wn: wn[0] * (wn[1] // 8 + 1)),
    st.tuples(st.sampled_from(SUBCOMMANDS), st.integers(2_000, 20_000)).map(
        lambda wn: wn[0] + " " + " ".join(["1460323737035677698"] * (wn[1] // 20))
    ),
    st.integers(5_000, 60_000).map(lambda n: "track " + "@a " * (n // 3)),
    st.integers(5_000, 60_000).map(lambda n: "x" * n),
)


def check(world: World, text: str, deps: Deps | None = None) -> Message:
    """One text end to end, and every property a reply must have."""
    deps, path, sim = deps or world.deps, world.path, world.sim
    try:
        parse(text, today=SIM_START.date())
        parses = True
    except UsageError as error:
        parses, problem = False, str(error)
    event("parses" if parses else "usage error")
    before, calls = (rows(path), x_calls(sim)) if not parses else (None, 0)
    reply = ask(deps, text)  # anything but a Message fails the test
    assert isinstance(reply, Message)
    assert_valid_message(reply)
    assert "Traceback" not in reply.text
    assert "Something went wrong" not in reply.text
    if not parses:
        assert reply.ephemeral
        assert len(reply.text) <= MAX_ERROR_REPLY, len(reply.text)
        assert reply == blocks.error_message(problem)  # the parser's own words, no more
        assert rows(path) == before, "a text that does not parse changed the store"
        assert x_calls(sim) == calls, "a text that does not parse called X"
    return reply


@FUZZ
@given(text=TEXTS)
@example(text="\x00")
@example(text="<!channel> top")
@example(text="track <#C0GENERAL|general>")
@example(text="untrack <@U0ALICE>")
@example(text="digest on 9:00 \x1b[31mEurope/Paris")
@example(text="alert off 99999999999999999999999999")
@example(text="totals <https://evil.example/x.com/a/status/1|https://x.com/a/status/1>")
def test_any_text_gets_a_short_valid_reply_and_bad_ones_change_nothing(world, text):
    check(world, text)


@FUZZ
@given(text=mutated())
def test_mutated_examples_get_a_short_valid_reply_and_bad_ones_change_nothing(world, text):
    check(world, text)


@settings(FUZZ, max_examples=25)
@given(text=HUGE)
def test_huge_texts_get_a_short_reply(world, text):
    reply = check(world, text)
    assert len(reply.text) <= MAX_ERROR_REPLY or not reply.ephemeral


@settings(FUZZ, max_examples=40)
@given(
    word=st.sampled_from(["totals", "hourly", "daily", "track", "alert likes > 5/h"]),
    wrap=st.sampled_from(
        [
            "<{url}>",
            "<{url}|{url}>",
            "<{url}|x.com/sim_brand>",
            "<{url}|anything at all>",
            "{url}?s=20",
            "{url}/",
            "{url}/photo/1",
        ]
    ),
    which=st.integers(0, 1),
)
def test_slack_escaped_links_to_real_posts_are_understood(world, word, wrap, which):
    """Slack wraps every URL it sees in <…|…>: the Post behind it is still the one meant."""
    url = f"https://x.com/sim_brand/status/{world.posts[which]}"
    reply = check(world, f"{word} {wrap.format(url=url)}")
    # The world is shared across examples: the same rule again is refused as a duplicate, which
    # names the Post (by its author and words, or its ID while its words are unknown), so the
    # link was understood.
    words = sentence(world.sim.state.universe.seed, int(world.posts[which]))[:20]
    named = any(f"@sim_brand · {n}" in reply.text for n in (f"“{words}", world.posts[which]))
    understood = "already has that rule: alert #" in reply.text and named
    assert "⚠️" not in reply.text or understood, reply.text


@settings(FUZZ, max_examples=80)
@given(text=st.one_of(mutated(), st.sampled_from(sorted(EXAMPLES.values()))))
def test_a_settings_change_someone_may_not_make_changes_nothing(world, text):
    """Not an admin: whatever they type, a guarded subcommand is refused and stores nothing."""
    try:
        command = parse(text, today=SIM_START.date())
    except UsageError:
        command = None
    guarded = type(command) in GUARDED
    event("guarded" if guarded else "other")
    refused = replace(world.deps, may_change=lambda team, user: False)
    before = rows(world.path)
    reply = check(world, text, deps=refused)
    if guarded:
        assert reply.ephemeral
        assert "⚠️" in reply.text
        assert rows(world.path) == before
