"""`run` in Socket Mode over a real WebSocket: SLACK_APP_TOKEN set, Bolt's own
SocketModeHandler (slack_sdk's builtin client) opens a connection with
apps.connections.open on the loopback fake Slack, which serves a real WebSocket server
(tests/support/fake_socket.py). Slash commands arrive as envelopes over it, are acked over it,
and answered at their response_url; nothing goes to /slack/events. Button presses and view
submissions arrive as `interactive` envelopes and do what they do over HTTP; a submission's
validation errors travel in its ack's payload."""

from __future__ import annotations

from typing import Any

import requests

from bot.render import buttons
from tests.support.fake_slack import APP_TOKEN, TEAM_ID, iter_texts
from tests.support.interactive import CHANNEL, picked, time_of, user_and_team
from tests.support.running import Running, settings_for
from tests.support.slack_app import sim_posts

SOCKET_ADMIN = "U0ALICE"  # in ENGAGEMENT_ADMINS of settings_for: may change the settings


def socket_settings(fake, sim, tmp_path):
    return settings_for(fake, sim, tmp_path, slack_app_token=APP_TOKEN, slack_signing_secret=None)


def test_run_in_socket_mode_receives_a_slash_command_over_the_websocket_and_acks_it(
    fake, sim, tmp_path
):
    running = Running(socket_settings(fake, sim, tmp_path), sim)
    try:
        fake.socket_mode.wait_connected()
        (opened,) = fake.api_calls("apps.connections.open")
        assert opened.headers["authorization"] == f"Bearer {APP_TOKEN}"  # the app-level token
        assert fake.socket_mode.connected_paths[0].startswith("/link/?ticket=")

        ack = fake.push_command("help")
        assert set(ack) <= {"envelope_id", "payload"}
        assert ack["envelope_id"] == fake.socket_mode.envelopes[0]["envelope_id"]
        (reply,) = fake.wait_for_responses(1)
        assert "/engagement" in "\n".join(iter_texts(reply))
        assert fake.api_calls("apps.connections.open") == [opened]  # one connection, kept

        health = requests.get(f"{running.url}/healthz", timeout=10).json()
        assert health == {"ok": True, "mode": "socket", "connected": True}
    finally:
        assert running.close() == 0


def test_a_command_that_asks_x_is_acked_at_once_and_answered_later(fake, sim, tmp_path):
    post = sim_posts(sim, "sim_brand")[0]
    running = Running(socket_settings(fake, sim, tmp_path), sim)
    try:
        ack = fake.push_command(f"totals {post}", channel_id="C0NUMBERS")
        assert "envelope_id" in ack
        (reply,) = fake.wait_for_responses(1)
        text = "\n".join(iter_texts(reply))
        assert f"/status/{post}" in text
        assert "likes" in text
        # Socket Mode sends nothing over HTTP: the events path says so.
        events = requests.post(f"{running.url}/slack/events", data=b"x", timeout=10)
        assert events.status_code == 404
    finally:
        assert running.close() == 0


def test_a_button_press_arrives_over_the_websocket_is_acked_and_snoozes_the_channel(
    fake, sim, tmp_path, store
):
    running = Running(socket_settings(fake, sim, tmp_path), sim)
    try:
        fake.socket_mode.wait_connected()
        press = {
            "type": "block_actions",
            **user_and_team(SOCKET_ADMIN),
            "container": {"type": "message", "message_ts": "1790000000.000100"},
            "channel": {"id": CHANNEL, "name": "general"},
            "message": {"type": "message", "ts": "1790000000.000100", "text": "alert"},
            "response_url": fake.response_url("action"),
            "actions": [
                {
                    "action_id": buttons.SNOOZE_2H,
                    "value": str(buttons.SNOOZE_HOURS),
                    "block_id": "alert_actions",
                    "action_ts": "1790000001.0",
                }
            ],
        }
        assert store.channels.settings(TEAM_ID, CHANNEL).snoozed_until is None
        ack = fake.push("interactive", press)
        assert ack["envelope_id"] == fake.socket_mode.envelopes[-1]["envelope_id"]
        assert not ack.get("payload")  # a press is acked with nothing to show
        (told,) = fake.wait_for_responses(1)
        assert "snooze" in "\n".join(iter_texts(told)).lower()
        snoozed = store.channels.settings(TEAM_ID, CHANNEL).snoozed_until
        assert snoozed is not None  # what the HTTP press stores, stored
        assert snoozed > sim.state.now()
        assert len(fake.api_calls("apps.connections.open")) == 1  # the one connection, kept
    finally:
        assert running.close() == 0


def test_a_view_submission_over_the_websocket_gets_its_errors_in_the_ack_or_is_saved(
    fake, sim, tmp_path, store
):
    running = Running(socket_settings(fake, sim, tmp_path), sim)
    try:
        fake.socket_mode.wait_connected()
        opener = {
            "type": "block_actions",
            **user_and_team(SOCKET_ADMIN),
            "container": {"type": "view", "view_id": "V0HOME"},
            "view": {"id": "V0HOME", "type": "home", "team_id": TEAM_ID},
            "actions": [
                {
                    "action_id": buttons.CHANNEL_MENU,
                    "selected_option": {"value": f"{buttons.OPEN_DIGEST}:{CHANNEL}"},
                    "block_id": "b",
                    "action_ts": "1790000001.0",
                }
            ],
        }
        fake.push("interactive", opener)
        fake.wait_for(lambda calls: any(c.method == "views.open" for c in calls))
        view = fake.views("views.open")[-1]
        assert view["callback_id"] == "digest_settings"

        bad = fake.push("interactive", submission(view, "25:99", "Mars/Base"))
        assert bad["payload"]["response_action"] == "errors"
        assert set(bad["payload"]["errors"]) == {"digest_time", "digest_zone"}
        assert not store.channels.settings(TEAM_ID, CHANNEL).digest_enabled

        good = fake.push("interactive", submission(view, "07:45", "Asia/Tokyo"))
        assert not good.get("payload")  # the modal closes
        fake.wait_for(lambda calls: any(c.method == "chat.postEphemeral" for c in calls))
        saved = store.channels.settings(TEAM_ID, CHANNEL)
        assert (saved.digest_enabled, saved.digest_time, saved.timezone) == (
            True,
            "07:45",
            "Asia/Tokyo",
        )
        (told,) = fake.api_calls("chat.postEphemeral")
        assert "07:45" in "\n".join(iter_texts(told.body))
    finally:
        assert running.close() == 0


def submission(view: dict[str, Any], at: str, zone: str) -> dict[str, Any]:
    """The Digest settings modal `view`, submitted: on, at `at`, in `zone`."""
    values = {"digest_on": picked("on"), "digest_time": time_of(at), "digest_zone": picked(zone)}
    return {
        "type": "view_submission",
        **user_and_team(SOCKET_ADMIN),
        "view": {
            "id": "V0MODAL",
            "team_id": TEAM_ID,
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "blocks": view["blocks"],
            "state": {"values": {block: {"value": state} for block, state in values.items()}},
        },
    }
