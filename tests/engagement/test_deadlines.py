"""A slow, hung or rate-limiting X (and a rate-limiting Slack) never leaves a person unanswered.

`serve()` runs as `engagement-bot run` does, on real HTTP, with ENGAGEMENT_ANSWER_SECONDS=3.
X's Engagement API is a hostile stand-in on loopback (tests/support/hostile_x.py) in front of the
simulator; Slack is the loopback fake. Each test waits on real hanging sockets, bounded by the
short deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from bot.channels.meter import NO_METER
from bot.engagement.models import APP_ONLY, Endpoint, EngagementRequest
from bot.errors import TransportError
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from bot.slack.app import build_app
from tests.support.fake_slack import FakeSlack, iter_texts
from tests.support.hostile_x import HostileX
from tests.support.running import Running, settings_for
from tests.support.simhttp import x_client
from tests.support.slack_app import StandIn, sim_posts
from tests.support.slack_app import settings_for as app_settings
from tests.support.slack_requests import command_body, signed_headers, slash

ANSWER_S = 3
# What a reply may take beyond its deadline on a loaded test machine (posting it, scheduling).
SLACK_S = 1.5
SLOW = "X is slow"


@pytest.fixture
def hostile(sim: RunningSimulator) -> Iterator[HostileX]:
    with HostileX(sim.url, drip_every=0.5) as running:
        yield running


@pytest.fixture
def bot(
    fake: FakeSlack, sim: RunningSimulator, hostile: HostileX, tmp_path: Any
) -> Iterator[Running]:
    # Every call to X goes through the hostile stand-in: engagement, v2 lookups, the app token.
    settings = settings_for(
        fake, sim, tmp_path, x_api_url=hostile.url, x_oauth_url=hostile.url, answer_seconds=ANSWER_S
    )
    running = Running(settings, sim)
    yield running
    running.close()


def send(bot: Running, fake: FakeSlack, text: str, reply_to: str, user: str = "U0ALICE") -> None:
    body = command_body(text, response_url=fake.response_url(reply_to), user_id=user)
    acked = requests.post(
        f"{bot.url}/slack/events", data=body.encode(), headers=signed_headers(body), timeout=5
    )
    assert acked.status_code == 200


def answer(fake: FakeSlack, reply_to: str, *, within: float) -> str:
    """The text of the first reply to `reply_to`, which must arrive within `within` s."""
    fake.wait_for(
        lambda calls: any(c.kind == "response" and c.method == reply_to for c in calls),
        timeout=within,
    )
    return "\n".join(iter_texts(fake.responses(reply_to)[0]))


def health(bot: Running) -> requests.Response:
    return requests.get(f"{bot.url}/healthz", timeout=5)


@pytest.mark.parametrize("mode", ["hang", "drip"])
def test_with_x_hung_every_totals_is_answered_by_its_deadline_and_help_at_once(
    bot: Running, fake: FakeSlack, sim: RunningSimulator, hostile: HostileX, mode: str
) -> None:
    post = sim_posts(sim, "sim_brand")[0]
    hostile.mode = mode
    started = time.monotonic()
    kinds = [f"totals {post}", "track @sim_creator"]  # numbers, and an account lookup
    for n in range(10):  # more than the X pool's 8 threads: two wait in its queue
        send(bot, fake, kinds[n % len(kinds)], f"t{n}")
    asked = time.monotonic()
    send(bot, fake, "help", "help")

    assert "/engagement" in answer(fake, "help", within=1.0)
    assert time.monotonic() - asked < 1.0
    for n in range(10):
        text = answer(fake, f"t{n}", within=started + ANSWER_S + SLACK_S - time.monotonic())
        assert SLOW in text, text
    assert hostile.requests_in(mode) >= 1
    if mode == "drip":
        # The bot hung up on the dripping replies (the stand-in notices at its next byte).
        assert hostile.cut.wait(timeout=2 * hostile.drip_every + 1)

    stalled = health(bot)
    assert stalled.status_code == 503
    assert "timeouts" in stalled.json()["x"]

    # X recovers: the next command is answered normally.
    hostile.mode = "pass"
    send(bot, fake, f"totals {post}", "after")
    text = answer(fake, "after", within=ANSWER_S + SLACK_S)
    assert SLOW not in text, text
    assert "Likes" in text, text


def test_a_429_asking_for_15_minutes_is_answered_by_the_deadline(
    bot: Running, fake: FakeSlack, sim: RunningSimulator, hostile: HostileX
) -> None:
    post = sim_posts(sim, "sim_brand")[0]
    hostile.mode = "429"
    send(bot, fake, f"totals {post}", "limited")
    text = answer(fake, "limited", within=ANSWER_S + SLACK_S)
    assert "try again" in text, text
    assert hostile.requests_in("429") == 1  # no retry into a window that stays shut


def test_a_healthy_x_leaves_health_ok(bot: Running, fake: FakeSlack, sim: RunningSimulator) -> None:
    post = sim_posts(sim, "sim_brand")[0]
    for n in range(3):
        send(bot, fake, f"totals {post} likes", f"ok{n}")
        assert SLOW not in answer(fake, f"ok{n}", within=ANSWER_S + SLACK_S)
    assert health(bot).status_code == 200
    assert health(bot).json() == {"ok": True, "mode": "http"}


def test_slack_rate_limiting_users_info_does_not_hold_help_back(
    bot: Running, fake: FakeSlack
) -> None:
    # Eight people change settings while Slack answers users.info with 429, Retry-After 20.
    fake.fail_next("users.info", status=429, retry_after=20, times=24)
    started = time.monotonic()
    for n in range(8):
        send(bot, fake, "digest off", f"d{n}", user=f"U0PERSON{n}")
    asked = time.monotonic()
    send(bot, fake, "help", "help")

    assert "/engagement" in answer(fake, "help", within=1.0)
    assert time.monotonic() - asked < 1.0
    for n in range(8):
        text = answer(fake, f"d{n}", within=started + 2.0 - time.monotonic())
        assert "Slack is busy" in text, text
        assert "20 s" in text, text
    assert [c.status for c in fake.api_calls("users.info")] == [429] * 8  # none slept on
    unwell = health(bot)
    assert unwell.status_code == 503
    assert unwell.json()["slack"].startswith("HTTP 429 answers on 8 of the last")


def test_an_answer_still_stuck_at_its_deadline_is_announced_then_posted_when_it_comes(fake):
    """Past the deadline the person hears why at once: a command already running posts its
    answer when it has it; one still queued behind it is dropped and says so."""
    release = threading.Event()

    def stuck(invocation: Any) -> Message:
        assert release.wait(10)
        return Message("late numbers")

    run = StandIn(stuck)
    with ThreadPoolExecutor(1) as pool:
        app = build_app(
            app_settings(fake, answer_seconds=1),
            SimpleNamespace(can_post=None, health=None, meter=NO_METER),  # type: ignore[arg-type]
            clock=lambda: datetime(2026, 11, 26, 12, 30, tzinfo=UTC),
            run=run,
            executor=pool,
        )
        slash(app, "totals 1", response_url=fake.response_url("running"))
        slash(app, "totals 2", response_url=fake.response_url("queued"))

        running = answer(fake, "running", within=1 + SLACK_S)
        assert SLOW in running
        assert "still arrive" in running
        queued = answer(fake, "queued", within=1 + SLACK_S)
        assert SLOW in queued
        assert "dropped" in queued

        release.set()
        fake.wait_for(lambda calls: len([c for c in calls if c.method == "running"]) == 2)
    assert [r["text"] for r in fake.responses("running")][-1] == "late numbers"
    assert [i.text for i in run.invocations] == ["totals 1"]  # the queued one never ran


def test_a_dripping_reply_is_cut_at_the_read_timeout_even_without_a_deadline(
    sim: RunningSimulator, hostile: HostileX
) -> None:
    """Each byte arriving within the per-read timeout must not keep a reply alive forever."""
    post = sim_posts(sim, "sim_brand")[0]
    hostile.mode = "drip"
    request = EngagementRequest(Endpoint.TOTALS, (post,), ("favorites",), APP_ONLY)
    with x_client(hostile.url, oauth_base_url=sim.url, read_timeout=2.0) as client:
        started = time.monotonic()
        with pytest.raises(TransportError, match="still arriving after 2 s"):
            client.fetch(request)
    assert time.monotonic() - started < 2.0 + SLACK_S
