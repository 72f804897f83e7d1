"""The Slack end of end-to-end tests: settings for the real Bolt app on the fake Slack, a
stand-in for commands.run, one `/engagement` round trip (`ask`), and the simulator set-up those
tests share. The `deps` and `bot` fixtures built from these live in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests

from bot.config import Settings
from bot.engagement.models import UserAuth
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from bot.store import Store
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack, iter_texts
from tests.support.slack_requests import SIGNING_SECRET, slash
from tests.support.universe import SIM_START


def settings_for(fake: FakeSlack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
    }
    values.update(overrides)
    return Settings(**values)


class StandIn:
    """A stand-in for commands.run: records invocations, answers what a test scripted."""

    def __init__(self, reply: Message | Callable[[Any], Message] | Exception) -> None:
        self.reply = reply
        self.invocations: list[Any] = []
        self.nows: list[datetime] = []

    def __call__(self, invocation: Any, *, deps: Any, now: datetime) -> Message:
        self.invocations.append(invocation)
        self.nows.append(now)
        if isinstance(self.reply, Exception):
            raise self.reply
        if callable(self.reply):
            return self.reply(invocation)
        return self.reply


def texts(payload: dict[str, Any]) -> str:
    return "\n".join(iter_texts(payload))


def sim_admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    reply = requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=30)
    reply.raise_for_status()
    return reply.json()


def sim_posts(sim: RunningSimulator, author: str) -> list[str]:
    return [p["id"] for p in sim_admin(sim, "GET", f"posts?author={author}")["posts"]]


def x_requests(sim: RunningSimulator) -> list[Any]:
    return list(sim_admin(sim, "GET", "requests")["requests"])


def connect_brand(store: Store) -> None:
    store.accounts.save(
        user_id="1000000001",
        screen_name="sim_brand",
        auth=UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand"),
        workspace=None,
        now=SIM_START,
    )


def ask(app: Any, fake: FakeSlack, text: str, **fields: str) -> dict[str, Any]:
    """One `/engagement text`: acked with an empty 200, exactly one reply; returns it."""
    before = len(fake.responses())
    response = slash(app, text, response_url=fake.response_url(), **fields)
    assert (response.status, response.body) == (200, "")
    replies = fake.responses()[before:]
    assert len(replies) >= 1, replies
    return replies[0]


def track_before_it_went_protected(store: Store, channel: str, handle: str) -> None:
    """`track` refuses a protected account; one tracked while it was public stays tracked."""
    store.channels.track(TEAM_ID, channel, kind="account", refs=[handle], by="U1", now=SIM_START)
