"""`serve()` (what `engagement-bot run` starts) in a thread on the fake Slack and the simulator,
with a signed slash command to send it and a stand-in for the Socket Mode WebSocket handler
(for what only needs connect/close). With `slack_app_token=APP_TOKEN` and no stand-in, `run`
uses Bolt's real SocketModeHandler over the fake's WebSocket (`fake.push_command(...)`)."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any

import requests

from bot.app import engagement, serve
from bot.config import Settings
from bot.simulator.server import RunningSimulator
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.slack_requests import SIGNING_SECRET, command_body, signed_headers


def settings_for(fake: FakeSlack, sim: RunningSimulator, tmp_path: Path, **more: Any) -> Settings:
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "x_api_url": sim.url,
        "x_oauth_url": sim.url,
        "x_consumer_key": "sim-consumer-key",
        "x_consumer_secret": "sim-consumer-secret",
        "db_path": tmp_path / "engagement.db",
        "port": 0,
        # serve() guards settings changes; the signed commands come from U0ALICE.
        "admins": frozenset({"U0ALICE"}),
    }
    values.update(more)
    return Settings(**values)


class Running:
    """`serve()` in a thread until the test ends; `url` is its HTTP server."""

    def __init__(
        self, settings: Settings, sim: RunningSimulator, *, x_oauth: bool = False, **kwargs: Any
    ) -> None:
        self.stop = threading.Event()
        urls: queue.Queue[str] = queue.Queue()
        self.result: list[int | BaseException] = []

        def target() -> None:  # as bot.app.run_bot does, with a stop event and a ready hook
            try:
                with engagement(settings, metered=True) as parts:
                    deps = parts.deps(settings, x_oauth=parts.client if x_oauth else None)
                    self.result.append(
                        serve(
                            settings,
                            deps,
                            clock=sim.state.now,
                            stop=self.stop,
                            host="127.0.0.1",
                            ready=urls.put,
                            **kwargs,
                        )
                    )
            except BaseException as error:
                self.result.append(error)
                urls.put("")

        self.thread = threading.Thread(target=target, name="serve", daemon=True)
        self.thread.start()
        self.url = urls.get(timeout=20)
        assert self.url, self.result

    def close(self) -> int | BaseException:
        self.stop.set()
        self.thread.join(timeout=20)
        assert not self.thread.is_alive()
        return self.result[0]


def post_command(url: str, text: str, fake: FakeSlack, **sign: Any) -> requests.Response:
    body = command_body(text, response_url=fake.response_url())
    headers = signed_headers(body, **sign)
    return requests.post(f"{url}/slack/events", data=body.encode(), headers=headers, timeout=10)


class StandInSocketMode:
    """Bolt's SocketModeHandler as `serve()` uses it: connect, close, client.is_connected()."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.connected = False
        self.client = self

    def is_connected(self) -> bool:
        return self.connected

    def connect(self) -> None:
        self.events.append("connect")
        self.connected = True

    def close(self) -> None:
        self.events.append("close")
        self.connected = False
