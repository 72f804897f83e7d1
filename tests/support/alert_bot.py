"""The alert job's harness: one bot process on the simulator, a clock whose waiting moves the
simulator's clock too, spikes injected into the simulator, and the alerts posted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from bot.app import build_service
from bot.channels.alerts import run_alert_pass
from bot.channels.deps import Deps
from bot.config import Settings
from bot.simulator.server import RunningSimulator
from bot.slack.outbox import slack_post
from bot.slack.web import build_web_client, channel_membership
from bot.store import Store
from bot.store.alert_log import Firing
from bot.store.cipher import TokenCipher
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.simhttp import http_client
from tests.support.universe import SIM_START

CHANNEL = "C0ALERTS"
HOUR = timedelta(hours=1)


class SimPacedClock:
    """The service's clock for an alert bot: `sleep` moves the simulator's clock as well."""

    def __init__(self, sim: RunningSimulator | None = None) -> None:
        self.t = 0.0
        self.sim = sim

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        """Waiting moves the simulator's clock too (and with it its rate-limit windows).
        The simulator first: a thread that sees our clock past a reset must find X there too."""
        if self.sim is not None and seconds > 0:
            advance(self.sim, timedelta(seconds=seconds))
        self.t += seconds


class AlertBot:
    """One process: its own store connection, X client and service."""

    def __init__(
        self,
        sim: RunningSimulator,
        path: Path,
        cipher: TokenCipher,
        settings: Settings,
        *,
        clock: SimPacedClock | None = None,
    ) -> None:
        self.sim = sim
        self.store = Store.open(path, cipher=cipher)
        self.client = http_client(sim)
        clock = clock or SimPacedClock()
        service = build_service(
            self.client, self.store, sleep=clock.sleep, monotonic=clock.monotonic
        )
        web = build_web_client(settings, token=BOT_TOKEN)
        self.deps = Deps(service, self.store, settings, can_post=channel_membership(web))
        self.post = slack_post(web)

    def check(self) -> list[Firing]:
        return run_alert_pass(now=sim_now(self.sim), deps=self.deps, post=self.post)

    def close(self) -> None:
        self.client.close()
        self.store.close()


def sim_now(sim: RunningSimulator) -> datetime:
    reply = requests.get(f"{sim.url}/_sim/clock", timeout=30)
    reply.raise_for_status()
    return datetime.fromisoformat(reply.json()["now"].replace("Z", "+00:00")).astimezone(UTC)


def advance(sim: RunningSimulator, delta: timedelta) -> None:
    reply = requests.post(
        f"{sim.url}/_sim/clock", json={"advance_seconds": delta.total_seconds()}, timeout=30
    )
    reply.raise_for_status()


def add_spike(sim: RunningSimulator, post_id: str, hour: datetime, multiplier: int = 20) -> None:
    doc = {"post_id": post_id, "hour": f"{hour:%Y-%m-%dT%H:00:00Z}", "multiplier": multiplier}
    reply = requests.post(f"{sim.url}/_sim/spikes", json={**doc, "hours": 1}, timeout=30)
    reply.raise_for_status()


def brand_post(sim: RunningSimulator, *, older_than: timedelta) -> str:
    reply = requests.get(f"{sim.url}/_sim/posts?author=sim_brand", timeout=30)
    reply.raise_for_status()
    limit = f"{SIM_START - older_than:%Y-%m-%dT%H:%M:%S}"
    posts = [p for p in reply.json()["posts"] if not p["deleted"] and p["created_at"] < limit]
    posts.sort(key=lambda p: p["created_at"], reverse=True)
    return str(posts[0]["id"])


def alert_posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c.body for c in fake.api_calls("chat.postMessage") if c.body.get("channel") == CHANNEL]
