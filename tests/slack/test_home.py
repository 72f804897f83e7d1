"""The App Home and the buttons end to end: signed app_home_opened and block_actions
deliveries to the real Bolt app, the real permissions module asking the fake Slack (which
records views.publish / views.open), the store on a SQLite file, X simulated."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.models.views import View

from bot.render import buttons
from bot.slack.app import build_app
from bot.slack.permissions import workspace_admins
from bot.slack.web import build_web_client
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID
from tests.support.interactive import (
    ADMIN,
    CHANNEL,
    MEMBER,
    open_home,
    press_in_home,
    press_on_message,
)
from tests.support.slack_app import ask, connect_brand, settings_for, sim_posts, texts
from tests.support.universe import SIM_START


@pytest.fixture
def app(fake: Any, deps: Any, sim: Any) -> Any:
    """The real app whose settings changes need a workspace admin (users.info on the fake)."""
    fake.admins.add(ADMIN)
    settings = settings_for(fake)
    client = build_web_client(settings, token=BOT_TOKEN)
    deps.may_change = workspace_admins(client, settings, monotonic=time.monotonic)
    return build_app(settings, deps, clock=sim.state.now, process_before_response=True)


def home_text(view: dict[str, Any]) -> str:
    View(**{k: v for k, v in view.items() if not k.startswith("_")}).validate_json()
    return texts({"blocks": view["blocks"]})


def test_the_home_tab_shows_the_users_real_settings(app, fake, store, sim):
    connect_brand(store)
    ask(app, fake, "digest on 8:30 europe/paris", user_id=ADMIN)
    ask(app, fake, "track @sim_brand", user_id=ADMIN)
    ask(app, fake, "alert spike high", user_id=ADMIN)
    ask(app, fake, "quiet 22:00-07:00", user_id=ADMIN)
    text = home_text(open_home(app, fake))
    assert "@sim_brand · tokens OK" in text
    assert f"<#{CHANNEL}>" in text
    assert "Digest: daily at 08:30 (Europe/Paris)" in text
    assert "Alerts (1): Spikes (high sensitivity)" in text
    assert "Quiet hours 22:00–07:00 (Europe/Paris)" in text
    assert "X API calls" in text
    # An admin gets each channel's menu; someone else sees the same, without it.
    admin = open_home(app, fake)
    assert any(
        b.get("accessory", {}).get("action_id") == buttons.CHANNEL_MENU for b in admin["blocks"]
    )
    member = open_home(app, fake, user=MEMBER)
    assert not any("accessory" in b for b in member["blocks"])
    assert "only workspace admins" in home_text(member)


def test_snooze_2h_on_an_alert_snoozes_the_channel_and_shows_in_the_home_tab(app, fake, store, sim):
    ask(app, fake, "track @sim_brand", user_id=ADMIN)
    ask(app, fake, "alert spike", user_id=ADMIN)
    response = press_on_message(app, fake, {"action_id": buttons.SNOOZE_2H, "value": "2"})
    assert (response.status, response.body) == (200, "")
    until = store.channels.settings(TEAM_ID, CHANNEL).snoozed_until
    assert until == sim.state.now() + timedelta(hours=2)
    (reply,) = fake.responses("action")
    assert reply["response_type"] == "ephemeral"
    assert reply["replace_original"] is False
    assert "snoozed until" in texts(reply).lower()
    assert f"Snoozed until {until:%Y-%m-%d %H:%M} UTC" in home_text(open_home(app, fake))


def test_a_member_pressing_snooze_is_refused_and_nothing_changes(app, fake, store):
    ask(app, fake, "track @sim_brand", user_id=ADMIN)
    ask(app, fake, "alert spike", user_id=ADMIN)
    before = store.channels.settings(TEAM_ID, CHANNEL)
    press_on_message(app, fake, {"action_id": buttons.SNOOZE_2H, "value": "2"}, user=MEMBER)
    assert store.channels.settings(TEAM_ID, CHANNEL) == before
    (reply,) = fake.responses("action")
    assert "Only workspace admins" in texts(reply)


def test_show_hourly_posts_the_series_and_its_chart_in_the_alerts_thread(app, fake, store, sim):
    connect_brand(store)
    post = sim_posts(sim, "sim_brand")[0]
    ts = "1790000123.000200"
    action = {"action_id": f"{buttons.SHOW_HOURLY}:0", "value": post}
    press_on_message(app, fake, action, user=MEMBER, ts=ts)
    (posted,) = fake.api_calls("chat.postMessage")
    assert posted.body["thread_ts"] == ts
    assert posted.body["channel"] == CHANNEL
    assert post in texts(posted.body)
    (upload,) = fake.api_calls("files.completeUploadExternal")
    assert upload.body["thread_ts"] == ts


def test_the_home_menu_snoozes_and_resumes_a_channel(app, fake, store, sim):
    ask(app, fake, "track @sim_brand", user_id=ADMIN)
    ask(app, fake, "alert spike", user_id=ADMIN)
    option = {"value": f"{buttons.SNOOZE}:{CHANNEL}"}
    press_in_home(app, {"action_id": buttons.CHANNEL_MENU, "selected_option": option})
    assert store.channels.settings(TEAM_ID, CHANNEL).snoozed_until is not None
    assert "Snoozed until" in home_text(fake.views()[-1])  # the Home is redrawn at once
    option = {"value": f"{buttons.RESUME}:{CHANNEL}"}
    press_in_home(app, {"action_id": buttons.CHANNEL_MENU, "selected_option": option})
    assert store.channels.settings(TEAM_ID, CHANNEL).snoozed_until is None
    assert "Snoozed until" not in home_text(fake.views()[-1])


def test_many_channels_page_through_the_home_tab(app, fake, store):
    for n in range(45):
        store.channels.add_alert(
            TEAM_ID, f"C{n:04d}", kind="spike", sensitivity="low", by=ADMIN, now=SIM_START
        )
    first = open_home(app, fake)
    assert "Channels 1–20 of 45" in home_text(first)
    assert "<#C0000>" in home_text(first)
    assert "<#C0020>" not in home_text(first)
    press_in_home(app, {"action_id": f"{buttons.HOME_PAGE}:next", "value": "1"})
    second = home_text(fake.views()[-1])
    assert "Channels 21–40 of 45" in second
    assert "<#C0020>" in second
    assert "<#C0000>" not in second


def test_a_member_pressing_mute_is_refused_and_nothing_is_muted(app, fake, store, sim):
    post = sim_posts(sim, "sim_brand")[0]
    press_on_message(app, fake, {"action_id": f"{buttons.MUTE_POST}:0", "value": post}, user=MEMBER)
    assert store.channels.muted(TEAM_ID, CHANNEL) == frozenset()
    (reply,) = fake.responses("action")
    assert "Only workspace admins" in texts(reply)
