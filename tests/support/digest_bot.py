"""The digest job's harness: one bot process (its own store connection, X client and service)
with the channel it digests, and what it posted."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.app import build_service
from bot.channels.deps import Deps
from bot.channels.digest import DigestOutcome, run_digest
from bot.config import Settings
from bot.engagement.models import UserAuth
from bot.render.digest import DigestData
from bot.simulator.server import RunningSimulator
from bot.slack.outbox import slack_finder, slack_post
from bot.slack.web import build_web_client, channel_membership
from bot.store import Store
from bot.store.channels import ChannelSettings
from bot.store.cipher import TokenCipher
from tests.support.clocks import FakeClock
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.support.simhttp import http_client
from tests.support.universe import SIM_START

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
NOW = SIM_START  # 07:30 in New York: the digest covers Wed 25 Nov 2026, local
ZONE = "America/New_York"
CHANNEL = "C0DIGEST"
DAY = date(2026, 11, 25)


METRICS = ("impressions", "engagements", "favorites", "retweets", "replies")


class Killed(BaseException):
    """The process dying: nothing after it runs, no `except Exception` catches it."""


class DigestBot:
    """One process's view: its own store connection, X client and service."""

    def __init__(
        self, sim: RunningSimulator, path: Path, cipher: TokenCipher, settings: Settings
    ) -> None:
        self.store = Store.open(path, cipher=cipher)
        self.client = http_client(sim)
        self.clock = clock = FakeClock()
        service = build_service(
            self.client, self.store, sleep=clock.sleep, monotonic=clock.monotonic
        )
        self.web = build_web_client(settings, token=BOT_TOKEN)
        self.deps = Deps(service, self.store, settings, can_post=channel_membership(self.web))
        self.post = slack_post(self.web)
        self.find_posted = slack_finder(self.web)

    def digest(self, *, now: datetime = NOW, **options: Any) -> DigestOutcome:
        channel = self.store.channels.settings(TEAM_ID, CHANNEL)
        options.setdefault("post", self.post)
        options.setdefault("find_posted", self.find_posted)
        return run_digest(channel, local_date=None, now=now, deps=self.deps, **options)

    def close(self) -> None:
        self.client.close()
        self.store.close()


def set_up_channel(store: Store) -> None:
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=NOW
    )
    store.channels.save_settings(
        ChannelSettings(TEAM_ID, CHANNEL, digest_enabled=True, timezone=ZONE), now=NOW
    )
    store.channels.track(TEAM_ID, CHANNEL, kind="account", refs=["sim_brand"], by="U1", now=NOW)


def posted(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c.body for c in fake.api_calls("chat.postMessage")]


def quiet_data() -> DigestData:
    zero = dict.fromkeys(METRICS, 0)
    return DigestData(
        channel_id=CHANNEL,
        local_date=DAY,
        zone=ZONE,
        post_ids=("1790000000000000001",),
        left_out=0,
        totals=zero,
        day_before=zero,
        week_average=dict.fromkeys(METRICS, 0.0),
        hourly=(0,) * 24,
        new_posts=(),
        top=(),
    )
