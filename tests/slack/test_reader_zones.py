"""Hours in the reader's zone: an hourly series only the asker sees is in their Slack time zone
(users.info `tz`, asked once and remembered), one posted in the channel (with its chart) is in
the channel's digest zone; each says which. Real Bolt, the real users.info client against the
fake Slack, X simulated."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.slack.app import build_app
from bot.slack.user_zones import MISS_SECONDS, ZONE_SECONDS, UserZones
from bot.slack.web import build_web_client
from bot.store.channels import ChannelSettings
from tests.support.clocks import FakeClock
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID
from tests.support.slack_app import ask, connect_brand, settings_for, sim_posts, texts
from tests.support.universe import SIM_START

TITLE_END = re.compile(r"– \d+ \w+ (\d\d):00 ([A-Za-z_/]+)")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def zones(fake, clock) -> UserZones:
    web = build_web_client(settings_for(fake), token=BOT_TOKEN)
    return UserZones(lambda _team: web, monotonic=clock.monotonic)


@pytest.fixture
def app(fake, deps, sim, zones):
    return build_app(
        settings_for(fake),
        replace(deps, reader_zone=zones),
        clock=sim.state.now,
        process_before_response=True,
    )


def last_hour(text: str) -> tuple[int, str]:
    found = TITLE_END.search(text)
    assert found, text
    return int(found.group(1)), found.group(2)


def test_an_ephemeral_series_is_in_the_askers_zone_and_a_shared_one_in_the_channels(
    app, fake, sim, store
):
    connect_brand(store)
    post = sim_posts(sim, "sim_brand")[2]
    fake.zones["U0ALICE"] = "Asia/Tokyo"  # UTC+9
    store.channels.save_settings(
        ChannelSettings(TEAM_ID, "C0SHARED", timezone="Europe/Paris"), now=SIM_START
    )  # UTC+1 in November
    fake.not_member.add("C0PRIVATE")  # no chart there: the reply is the asker's alone

    mine = ask(app, fake, f"hourly {post}", channel_id="C0PRIVATE")
    assert mine["response_type"] == "ephemeral"
    mine_text = texts(mine)
    assert "Times in Asia/Tokyo (your Slack time zone)" in mine_text

    shared = ask(app, fake, f"hourly {post}", channel_id="C0SHARED")
    assert shared["response_type"] == "in_channel"
    shared_text = texts(shared)
    assert "Times in Europe/Paris (this channel's digest zone)" in shared_text
    assert "Asia/Tokyo" not in shared_text

    # The same last hour, on two clocks eight hours apart.
    tokyo, tokyo_name = last_hour(mine_text)
    paris, paris_name = last_hour(shared_text)
    assert (tokyo_name, paris_name) == ("Asia/Tokyo", "Europe/Paris")
    assert (tokyo - paris) % 24 == 8
    assert len(fake.api_calls("users.info")) == 1  # remembered for the second reply


def test_without_a_slack_zone_the_reply_uses_the_channels_and_says_so(app, fake, sim, store):
    connect_brand(store)
    post = sim_posts(sim, "sim_brand")[2]
    fake.not_member.add("C0PRIVATE")
    store.channels.save_settings(
        ChannelSettings(TEAM_ID, "C0PRIVATE", timezone="America/New_York"), now=SIM_START
    )
    text = texts(ask(app, fake, f"hourly {post}", channel_id="C0PRIVATE"))
    assert "Times in America/New_York (this channel's digest zone)" in text


def test_zones_are_remembered_for_hours_and_misses_for_minutes(fake, zones, clock):
    fake.zones["U1"] = "Europe/Berlin"
    fake.zones["U2"] = "Not/AZone"
    assert zones(TEAM_ID, "U1") == "Europe/Berlin"
    assert zones(TEAM_ID, "U2") is None  # an unknown zone name is no zone
    fake.zones["U1"] = "America/Chicago"  # travelled
    fake.zones["U2"] = "Asia/Kolkata"
    clock.sleep(MISS_SECONDS + 1)
    assert zones(TEAM_ID, "U1") == "Europe/Berlin"  # still remembered
    assert zones(TEAM_ID, "U2") == "Asia/Kolkata"  # a miss is asked again soon
    clock.sleep(ZONE_SECONDS)
    assert zones(TEAM_ID, "U1") == "America/Chicago"
    fake.missing.add("U3")
    assert zones(TEAM_ID, "U3") is None  # Slack's error: no zone, no exception
    assert len(fake.api_calls("users.info")) == 5
