"""`engagement-bot run` over real HTTP: the WSGI server Slack POSTs to, its health check and its
placeholder X callback; `serve()` itself in HTTP mode and in Socket Mode (with a stand-in for
the WebSocket handler, the one part that would need the real Slack)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from bot.app import serve
from bot.channels.deps import Deps
from bot.channels.meter import NO_METER
from bot.cli import main
from bot.config import Settings
from bot.errors import ConfigError
from bot.slack.wsgi import SOCKET_MODE_EVENTS, X_CALLBACK_NOT_READY, RunningServer
from tests.support.running import Running, StandInSocketMode, post_command, settings_for
from tests.support.slack_requests import FORM, command_body, signed_headers


@pytest.fixture
def http_bot(fake, sim, tmp_path) -> Iterator[Running]:
    running = Running(settings_for(fake, sim, tmp_path), sim)
    yield running
    assert running.close() == 0


def test_a_signed_command_is_acked_quickly_and_answered(http_bot, fake):
    started = time.monotonic()
    reply = post_command(http_bot.url, "help", fake)
    assert time.monotonic() - started < 1.0
    assert (reply.status_code, reply.text) == (200, "")
    (answer,) = fake.wait_for_responses(1)
    assert answer["response_type"] == "ephemeral"
    assert "/engagement" in answer["text"]
    assert [c.method for c in fake.api_calls()] == ["auth.test"]  # once, at start-up


def test_a_forged_or_stale_request_gets_401(http_bot, fake):
    assert post_command(http_bot.url, "help", fake, secret="forged").status_code == 401
    stale = int(time.time()) - 301
    assert post_command(http_bot.url, "help", fake, timestamp=stale).status_code == 401
    unsigned = requests.post(
        f"{http_bot.url}/slack/events",
        data=command_body("help", response_url=fake.response_url()),
        headers={"content-type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert unsigned.status_code == 401
    assert fake.responses() == []


def test_healthz_and_the_other_paths(http_bot):
    health = requests.get(f"{http_bot.url}/healthz", timeout=10)
    assert health.status_code == 200
    assert health.json() == {"ok": True, "mode": "http"}
    callback = requests.get(f"{http_bot.url}/x/oauth/callback?oauth_token=t", timeout=10)
    assert callback.status_code == 404
    assert callback.text.strip() == X_CALLBACK_NOT_READY
    assert requests.get(f"{http_bot.url}/slack/events", timeout=10).status_code == 405
    assert requests.get(f"{http_bot.url}/nowhere", timeout=10).status_code == 404
    assert requests.post(f"{http_bot.url}/healthz", timeout=10).status_code == 405


def test_socket_mode_connects_and_keeps_only_health_and_callback_on_http(fake, sim, tmp_path):
    handler = StandInSocketMode()
    made: list[tuple[Any, str]] = []

    def factory(app: Any, token: str) -> StandInSocketMode:
        made.append((app, token))
        return handler

    settings = settings_for(
        fake, sim, tmp_path, slack_app_token="xapp-fake", slack_signing_secret=None
    )
    running = Running(settings, sim, socket_mode_handler=factory)
    try:
        ((app, token),) = made
        assert token == "xapp-fake"
        assert handler.events == ["connect"]
        events = requests.post(f"{running.url}/slack/events", data=b"x", timeout=10)
        assert events.status_code == 404
        assert events.text.strip() == SOCKET_MODE_EVENTS
        assert requests.get(f"{running.url}/healthz", timeout=10).json()["connected"] is True
        handler.connected = False
        assert requests.get(f"{running.url}/healthz", timeout=10).status_code == 503
    finally:
        assert running.close() == 0
    assert handler.events == ["connect", "close"]


def no_deps(settings: Settings) -> Deps:
    return Deps(service=None, store=None, settings=settings)  # type: ignore[arg-type]


def test_http_mode_needs_the_signing_secret(fake, sim, tmp_path):
    settings = settings_for(fake, sim, tmp_path, slack_signing_secret=None)
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
        serve(settings, no_deps(settings), clock=sim.state.now, stop=threading.Event())


def test_a_refused_bot_token_stops_the_server_at_start_up(fake, sim, tmp_path):
    settings = settings_for(fake, sim, tmp_path, slack_bot_token="xoxb-revoked")
    with pytest.raises(ConfigError, match="invalid_auth"):
        serve(settings, no_deps(settings), clock=sim.state.now, stop=threading.Event())
    assert [c.method for c in fake.api_calls()] == ["auth.test"]


def test_the_run_command_reports_missing_configuration(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENGAGEMENT_DB", str(tmp_path / "e.db"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "SLACK_SIGNING_SECRET" in err
    assert "Traceback" not in err


def test_run_has_help(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--help"])
    assert stopped.value.code == 0
    assert "Socket Mode" in capsys.readouterr().out


def test_the_running_server_type_reports_a_loopback_url():
    from bot.slack.wsgi import make_wsgi_app, serve_in_background

    server: RunningServer = serve_in_background(make_wsgi_app(None, health=lambda: {"ok": False}))
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert requests.get(f"{server.url}/healthz", timeout=10).status_code == 503
    finally:
        server.stop()


def test_the_defaultsocket_mode_handler_uses_the_apps_client(fake, sim, tmp_path):
    """Bolt's real SocketModeHandler, built but not connected: it would open the WebSocket
    through app.client, so SLACK_API_URL and the retry handlers apply to it too."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.slack.app import build_app
    from bot.slack.server import socket_mode_handler

    settings = settings_for(fake, sim, tmp_path, slack_app_token="xapp-fake")
    app = build_app(settings, None, clock=sim.state.now, run=lambda *a, **k: None)  # type: ignore[arg-type]
    handler = socket_mode_handler(app, "xapp-fake")
    try:
        assert isinstance(handler, SocketModeHandler)
        assert handler.client.web_client is app.client
        assert handler.app_token == "xapp-fake"
    finally:
        handler.close()
    assert fake.calls() == []


def test_socket_mode_requests_need_no_signature(fake, sim, tmp_path):
    """In Socket Mode the WebSocket is the authentication: Bolt dispatches the envelope's
    payload without a signing secret."""
    from slack_bolt import BoltRequest

    from bot.render.message import Message
    from bot.slack.app import build_app

    settings = settings_for(
        fake, sim, tmp_path, slack_app_token="xapp-fake", slack_signing_secret=None
    )
    app = build_app(
        settings,
        SimpleNamespace(can_post=None, health=None, meter=NO_METER),  # type: ignore[arg-type]
        clock=sim.state.now,
        process_before_response=True,
        run=lambda invocation, **k: Message(f"you said {invocation.text}"),
    )
    payload = {
        "team_id": "T0FAKE",
        "channel_id": "C0GENERAL",
        "user_id": "U0ALICE",
        "command": "/engagement",
        "text": "help",
        "response_url": fake.response_url(),
    }
    response = app.dispatch(BoltRequest(body=payload, mode="socket_mode"))
    assert response.status == 200
    assert fake.responses()[0]["text"] == "you said help"


def test_a_signed_request_delivered_three_times_acts_once(fake, sim, tmp_path):
    """A proxy's retry or a replay of the same bytes (same signature, same timestamp, inside
    Slack's five minutes): one alert rule, one connect link, one reply each."""
    settings = settings_for(fake, sim, tmp_path, public_url="https://bot.example.com")
    running = Running(settings, sim, x_oauth=True)
    try:
        # An account rule: a channel-wide one would be refused here (the channel covers nothing).
        rule = "alert likes > 100/h @sim_creator"
        for text, reply_id in ((rule, "alert"), ("connect", "connect")):
            body = command_body(text, response_url=fake.response_url(reply_id))
            headers = signed_headers(body)
            for _ in range(3):
                answer = requests.post(
                    f"{running.url}/slack/events", data=body.encode(), headers=headers, timeout=10
                )
                assert (answer.status_code, answer.text.strip()) == (200, "")
        post_command(running.url, "help", fake)  # answered after the others were run
        fake.wait_for(lambda calls: any(c.method == "1" for c in calls), timeout=10)
        fake.wait_for(lambda calls: sum(c.kind == "response" for c in calls) >= 3)
        assert len(fake.responses("alert")) == 1
        assert len(fake.responses("connect")) == 1
        with sqlite3.connect(tmp_path / "engagement.db") as db:
            assert db.execute("SELECT count(*) FROM alert_rules").fetchone() == (1,)
            assert db.execute("SELECT count(*) FROM connect_links").fetchone() == (1,)
    finally:
        assert running.close() == 0


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("application/json", None, id="form-sent-as-json"),
        pytest.param(FORM, "payload=%7Bnot+json", id="payload-not-json"),
        pytest.param("application/json", "[1, 2]", id="json-not-an-object"),
    ],
)
def test_a_body_bolt_cannot_read_is_a_400_not_a_500(http_bot, fake, content_type, body):
    sent = body if body is not None else command_body("help", response_url=fake.response_url())
    headers = {**signed_headers(sent), "content-type": content_type}
    answer = requests.post(
        f"{http_bot.url}/slack/events", data=sent.encode(), headers=headers, timeout=10
    )
    assert answer.status_code == 400
    assert answer.text.startswith("Bad Request: the body ")
    assert "Traceback" not in answer.text
    assert fake.responses() == []
    # The server is fine: the next well-formed command is answered.
    assert post_command(http_bot.url, "help", fake).status_code == 200
    assert len(fake.wait_for_responses(1)) == 1
