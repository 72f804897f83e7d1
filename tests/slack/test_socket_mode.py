"""`run` in Socket Mode over a real WebSocket: SLACK_APP_TOKEN set, Bolt's own
SocketModeHandler (slack_sdk's builtin client) opens a connection with
apps.connections.open on the loopback fake Slack, which serves a real WebSocket server
(tests/support/fake_socket.py). Slash commands arrive as envelopes over it, are acked over it,
and answered at their response_url; nothing goes to /slack/events."""

from __future__ import annotations

import requests

from tests.support.fake_slack import APP_TOKEN, iter_texts
from tests.support.running import Running, settings_for
from tests.support.slack_app import sim_posts


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
