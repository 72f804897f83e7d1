"""Who may change settings: workspace admins and owners (users.info) and ENGAGEMENT_ADMINS, for
every guarded subcommand; reads and tracking stay open to everyone. Signed requests to the real
Bolt app and dispatcher, the real permissions module asking the fake Slack, X simulated."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from bot.app import build_service
from bot.channels.deps import Deps
from bot.config import Settings
from bot.errors import ConfigError
from bot.simulator.server import RunningSimulator
from bot.slack.app import build_app
from bot.slack.commands import GUARDED
from bot.slack.parse.commands import Mute
from bot.slack.parse.grammar import parse
from bot.slack.permissions import CACHE_SECONDS, workspace_admins
from bot.slack.web import build_web_client
from bot.store import Store
from tests.support.clocks import FakeClock
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.support.simhttp import x_client
from tests.support.slack_app import ask, connect_brand, settings_for, sim_posts, texts
from tests.support.universe import SIM_START

CHANNEL = "C0GENERAL"
ADMIN, LISTED, MEMBER = "U0ADMIN", "U0LISTED", "U0BOB"
REFUSAL = "Only workspace admins and the people listed in ENGAGEMENT_ADMINS can change"

# Every guarded subcommand, as typed ("{rule}" is the prepared alert's ID).
GUARDED_TEXTS = [
    "connect",
    "disconnect @sim_brand",
    "digest on 8:30",
    "digest off",
    "digest weekly monday 09:00",
    "digest weekly off",
    "alert likes > 100/h",
    "alert spike high",
    "alert off {rule}",
    "snooze 2h",
    "quiet 10pm to 7am",
]
READ_TEXTS = [
    "help",
    "totals {post}",
    "hourly {post}",
    "daily {post} 7d",
    "top likes 3 7d",
    "tracked",
    "alerts",
    "accounts",
    "usage",
    "digest now",
    "track {post}",
    "untrack {post}",
]


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guarded(sim: RunningSimulator, fake: FakeSlack, store: Store, clock: Clock) -> Iterator[Any]:
    """The real app whose Deps.may_change is the real permissions module on the fake Slack."""
    settings = settings_for(fake, admins=frozenset({LISTED}))
    with x_client(sim) as x:
        x_clock = FakeClock()
        service = build_service(x, store, sleep=x_clock.sleep, monotonic=x_clock.monotonic)
        web = build_web_client(settings, token=BOT_TOKEN)
        deps = Deps(
            service, store, settings, may_change=workspace_admins(web, settings, monotonic=clock)
        )
        yield build_app(settings, deps, clock=sim.state.now, process_before_response=True)


@pytest.fixture
def rule(store: Store) -> int:
    """A connected account, an alert rule and a digest that is on: something to change."""
    connect_brand(store)
    added = store.channels.add_alert(
        TEAM_ID, CHANNEL, kind="spike", sensitivity="normal", by=ADMIN, now=SIM_START
    )
    current = store.channels.settings(TEAM_ID, CHANNEL)
    store.channels.save_settings(replace(current, digest_enabled=True), now=SIM_START)
    return added.id


def state(store: Store) -> tuple[Any, ...]:
    return (
        store.channels.settings(TEAM_ID, CHANNEL),
        [(r.id, r.kind) for r in store.channels.alerts(TEAM_ID, CHANNEL)],
        store.accounts.connected_ids(TEAM_ID),  # what the workspace's admins change
        store.digest_schedules.of_channel(TEAM_ID, CHANNEL),
    )


def users_info(fake: FakeSlack) -> list[str]:
    return [c.body.get("user", "") for c in fake.api_calls("users.info")]


def test_the_guarded_texts_cover_every_guarded_subcommand():
    guarded_types = {type(parse(t.format(rule=1), today=SIM_START.date())) for t in GUARDED_TEXTS}
    # Mute is an alert's button, not typed: tests/slack/test_alert_buttons.py presses it.
    assert guarded_types == set(GUARDED) - {Mute}


@pytest.mark.parametrize("text", GUARDED_TEXTS)
def test_a_member_is_refused_and_nothing_changes(guarded, fake, store, rule, text):
    before = state(store)
    reply = ask(guarded, fake, text.format(rule=rule), user_id=MEMBER)
    assert reply["response_type"] == "ephemeral"
    assert REFUSAL in texts(reply)
    assert "Ask one of them." in texts(reply)
    assert state(store) == before
    assert users_info(fake) == [MEMBER]


@pytest.mark.parametrize("text", GUARDED_TEXTS)
@pytest.mark.parametrize("who", ["admin", "owner", "listed"])
def test_an_admin_owner_or_listed_user_may(guarded, fake, store, rule, text, who):
    user = LISTED if who == "listed" else ADMIN
    if who != "listed":
        fake.admins.add(ADMIN)  # the fake says is_admin and is_owner together
    before = state(store)
    reply = ask(guarded, fake, text.format(rule=rule), user_id=user)
    shown = texts(reply)
    assert REFUSAL not in shown
    if text == "connect":
        assert "not set up" in shown  # past the guard: the handler answered
    elif text == "digest weekly off":
        assert "no weekly report" in shown  # past the guard: there was none to turn off
    else:
        assert state(store) != before
    assert users_info(fake) == ([] if who == "listed" else [ADMIN])


@pytest.mark.parametrize("text", READ_TEXTS)
def test_reads_and_tracking_are_open_to_everyone(guarded, fake, sim, rule, text):
    post = sim_posts(sim, "sim_brand")[0]
    if text.startswith("untrack"):
        ask(guarded, fake, f"track {post}", user_id=MEMBER)
    reply = ask(guarded, fake, text.format(post=post), user_id=MEMBER)
    assert REFUSAL not in texts(reply)
    assert users_info(fake) == []


@pytest.mark.parametrize(
    ("error", "said"),
    [
        ("user_not_found", REFUSAL),
        # Slack failing on its side is no "you may not": the person is told to try again.
        ("ratelimited", "Slack is busy"),
        ("internal_error", "Slack is busy"),
    ],
)
def test_when_slack_cannot_say_the_change_is_refused_and_logged(
    guarded, fake, store, rule, error, said, caplog
):
    fake.admins.add(ADMIN)
    fake.fail_next("users.info", error=error)
    before = state(store)
    with caplog.at_level(logging.WARNING, logger="bot.slack.permissions"):
        reply = ask(guarded, fake, "snooze 2h", user_id=ADMIN)
    assert said in texts(reply)
    assert state(store) == before
    assert any(error in r.getMessage() for r in caplog.records)
    # A failure is not remembered: the next try asks again and succeeds.
    assert REFUSAL not in texts(ask(guarded, fake, "snooze 2h", user_id=ADMIN))
    assert users_info(fake) == [ADMIN, ADMIN]


def test_an_unknown_user_is_refused(guarded, fake, store, rule):
    fake.missing.add(MEMBER)
    assert REFUSAL in texts(ask(guarded, fake, "digest off", user_id=MEMBER))
    assert store.channels.settings(TEAM_ID, CHANNEL).digest_enabled


def test_users_info_is_asked_once_per_ten_minutes(guarded, fake, store, rule, clock):
    fake.admins.add(ADMIN)
    ask(guarded, fake, "snooze 2h", user_id=ADMIN)
    ask(guarded, fake, "quiet 10pm to 7am", user_id=ADMIN)
    assert users_info(fake) == [ADMIN]
    ask(guarded, fake, "alert spike high", user_id=MEMBER)
    assert REFUSAL in texts(ask(guarded, fake, "snooze off", user_id=MEMBER))
    assert users_info(fake) == [ADMIN, MEMBER]  # a refusal is remembered too
    clock.t += CACHE_SECONDS - 1
    ask(guarded, fake, "digest off", user_id=ADMIN)
    assert users_info(fake) == [ADMIN, MEMBER]
    clock.t += 2
    fake.admins.discard(ADMIN)  # demoted: noticed once the cache entry is older than 10 min
    assert REFUSAL in texts(ask(guarded, fake, "digest on", user_id=ADMIN))
    assert users_info(fake) == [ADMIN, MEMBER, ADMIN]


def test_without_may_change_everyone_may():
    """Console and CLI build Deps without may_change: nothing is guarded there."""
    assert Deps.__dataclass_fields__["may_change"].default is None


def test_engagement_admins_is_read_from_the_environment():
    settings = Settings.from_env({"ENGAGEMENT_ADMINS": " U012AB3CD, W0ENTERPRISE ,,"})
    assert settings.admins == frozenset({"U012AB3CD", "W0ENTERPRISE"})
    assert Settings.from_env({}).admins == frozenset()
    with pytest.raises(ConfigError, match="ENGAGEMENT_ADMINS") as caught:
        Settings.from_env({"ENGAGEMENT_ADMINS": "U012AB3CD,@alice"})
    assert "'@alice'" in str(caught.value)


def test_serve_guards_settings_changes(fake, sim, tmp_path):
    """`run` (serve()) wires the permissions itself: U0ALICE is listed, Bob is nobody."""
    import requests

    from tests.support.running import Running
    from tests.support.running import settings_for as run_settings
    from tests.support.slack_requests import command_body, signed_headers

    running = Running(run_settings(fake, sim, tmp_path), sim)
    try:
        for user in ("U0ALICE", MEMBER):
            body = command_body("snooze 2h", response_url=fake.response_url(user), user_id=user)
            posted = requests.post(
                f"{running.url}/slack/events",
                data=body.encode(),
                headers=signed_headers(body),
                timeout=10,
            )
            assert posted.status_code == 200
        fake.wait_for_responses(2)
    finally:
        assert running.close() == 0
    (alice,) = fake.responses("U0ALICE")
    (bob,) = fake.responses(MEMBER)
    assert REFUSAL not in texts(alice)
    assert REFUSAL in texts(bob)
    assert users_info(fake) == [MEMBER]
