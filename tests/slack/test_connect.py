"""`/engagement connect` end to end: a signed slash command, the one-time link over HTTP, the
simulator's authorize page, our callback, and the account linked; then every way it can fail,
each with a clear page, nothing stored and the link not usable again."""

from __future__ import annotations

import logging
import re
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from bot.simulator.server import RunningSimulator
from bot.slack import connect
from bot.store.opening import open_store
from tests.support.fake_slack import FakeSlack, iter_texts
from tests.support.running import Running, StandInSocketMode, settings_for
from tests.support.simhttp import admin, live_posts
from tests.support.slack_requests import command_body, signed_headers

TEAM = "T0FAKE"
NEWCOMER_ID = "1000000004"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def bot(fake: FakeSlack, sim: RunningSimulator, tmp_path: Path) -> Iterator[Running]:
    port = free_port()
    settings = settings_for(fake, sim, tmp_path, port=port, public_url=f"http://127.0.0.1:{port}")
    running = Running(settings, sim, x_oauth=True)
    yield running
    assert running.close() == 0


def ask(bot: Running, fake: FakeSlack, text: str, reply_id: str) -> dict[str, Any]:
    """A signed slash command; the reply Slack got at its own response_url."""
    body = command_body(text, response_url=fake.response_url(reply_id))
    answer = requests.post(
        f"{bot.url}/slack/events", data=body.encode(), headers=signed_headers(body), timeout=10
    )
    assert answer.status_code == 200
    fake.wait_for(lambda calls: any(c.kind == "response" and c.method == reply_id for c in calls))
    (reply,) = fake.responses(reply_id)
    return reply


def text_of(reply: dict[str, Any]) -> str:
    return "\n".join(iter_texts(reply))


def connect_link(bot: Running, fake: FakeSlack, reply_id: str = "connect") -> str:
    reply = ask(bot, fake, "connect", reply_id)
    assert reply["response_type"] == "ephemeral"
    assert "15 minutes" in reply["text"]
    assert "single use" in reply["text"]
    match = re.search(r"<(http://[^|>]+/x/connect/[^|>]+)\|", reply["text"])
    assert match is not None, reply["text"]
    return match.group(1)


def open_link(link: str) -> requests.Response:
    return requests.get(link, allow_redirects=False, timeout=10)


def click_continue(link: str) -> requests.Response:
    """The person opens the link and clicks its "Continue to X" button (a form POST back)."""
    page = open_link(link)
    assert page.status_code == 200, page.text
    assert '<form method="post"><button type="submit">Continue to X</button></form>' in page.text
    return requests.post(link, allow_redirects=False, timeout=10)


def authorize(authorize_url: str, extra: str) -> str:
    """The simulator's authorize page, as a browser would approve it: our callback URL."""
    answer = requests.get(f"{authorize_url}&{extra}", allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def approve(bot: Running, link: str, who: str = "sim_newcomer") -> str:
    started = click_continue(link)
    assert started.status_code == 302
    callback = authorize(started.headers["Location"], f"sim_approve={who}")
    assert callback.startswith(f"{bot.url}/x/oauth/callback?link=")
    return callback


def accounts(tmp_path: Path) -> list[str]:
    with sqlite3.connect(tmp_path / "engagement.db") as db:
        rows = db.execute("SELECT screen_name FROM accounts ORDER BY screen_name").fetchall()
    return [name for (name,) in rows]


def test_connect_links_the_account_and_unlocks_its_private_metrics(
    bot: Running, fake: FakeSlack, sim: RunningSimulator, tmp_path: Path
) -> None:
    (post,) = live_posts(sim, "sim_newcomer", 1)
    before = text_of(ask(bot, fake, f"hourly {post}", "before"))
    assert "Only for your connected accounts' Posts" in before
    assert "no numbers available" in before

    link = connect_link(bot, fake)
    callback = approve(bot, link)
    done = requests.get(callback, allow_redirects=False, timeout=10)
    assert done.status_code == 200
    assert "Connected @sim_newcomer, you can close this tab." in done.text
    assert "sim_newcomer" in accounts(tmp_path)

    # The requester hears it in Slack, ephemerally, through the command's response_url.
    fake.wait_for(lambda calls: len([c for c in calls if c.method == "connect"]) >= 2)
    told = fake.responses("connect")[1]
    assert told["response_type"] == "ephemeral"
    assert "@sim_newcomer" in told["text"]

    after = text_of(ask(bot, fake, f"hourly {post}", "after"))
    assert "Only for your connected accounts' Posts" not in after
    assert "no numbers available" not in after
    assert re.search(r"\d", after)
    assert "impressions" in after.lower()
    assert "@sim_newcomer" in text_of(ask(bot, fake, "accounts", "accounts"))

    # Nothing secret in the file in plain text: neither request-token secret nor access token.
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("engagement.db*"))
    with sqlite3.connect(tmp_path / "engagement.db") as db:
        (request_token, sealed) = db.execute(
            "SELECT request_token, request_secret FROM connect_links"
        ).fetchone()
    assert sealed is None  # the request secret is forgotten once the link is spent
    assert request_token == parse_qs(urlsplit(callback).query)["oauth_token"][0]
    assert request_token.encode() in raw  # public: X shows it in the authorize URL
    grant_token = sim_access_token(sim)
    assert grant_token.encode() not in raw


def sim_access_token(sim: RunningSimulator) -> str:
    """The access token the simulator issued to sim_newcomer for our app."""
    state = requests.get(f"{sim.url}/_sim/state", timeout=10).json()
    text = repr(state)
    match = re.search(rf"{NEWCOMER_ID}-[A-Za-z0-9]{{40}}", text)
    assert match is not None
    return match.group(0)


def test_an_expired_link_is_refused(
    bot: Running, fake: FakeSlack, sim: RunningSimulator, tmp_path: Path
) -> None:
    link = connect_link(bot, fake)
    sim.state.clock.advance(16 * 60)
    answer = open_link(link)
    assert answer.status_code == 410
    assert "expired" in answer.text
    assert accounts(tmp_path) == []


def test_a_link_that_expires_at_x_is_refused_at_the_callback(
    bot: Running, fake: FakeSlack, sim: RunningSimulator, tmp_path: Path
) -> None:
    callback = approve(bot, connect_link(bot, fake))
    sim.state.clock.advance(16 * 60)
    answer = requests.get(callback, timeout=10)
    assert answer.status_code == 410
    assert "expired" in answer.text
    assert accounts(tmp_path) == []


def test_a_used_link_cannot_be_replayed(bot: Running, fake: FakeSlack, tmp_path: Path) -> None:
    link = connect_link(bot, fake)
    callback = approve(bot, link)
    assert requests.get(callback, timeout=10).status_code == 200
    for again in (open_link(link), requests.get(callback, timeout=10)):
        assert again.status_code == 410
        assert "already used" in again.text
    assert accounts(tmp_path) == ["sim_newcomer"]


def test_a_link_opens_x_only_once(bot: Running, fake: FakeSlack, tmp_path: Path) -> None:
    link = connect_link(bot, fake)
    assert click_continue(link).status_code == 302
    for again in (open_link(link), requests.post(link, allow_redirects=False, timeout=10)):
        assert again.status_code == 410
        assert "already used" in again.text


def test_previews_and_scanners_do_not_spend_the_link(
    bot: Running, fake: FakeSlack, tmp_path: Path
) -> None:
    """A link-preview bot, a mail scanner or a browser prefetch HEADs or GETs the link before
    the person does: the person still connects."""
    link = connect_link(bot, fake)
    for _ in range(2):
        head = requests.head(link, allow_redirects=False, timeout=10)
        assert head.status_code == 200
        assert head.text == ""
        assert open_link(link).status_code == 200
    done = requests.get(approve(bot, link), timeout=10)
    assert done.status_code == 200
    assert "Connected @sim_newcomer" in done.text
    assert accounts(tmp_path) == ["sim_newcomer"]


def test_a_hostile_screen_name_is_escaped_in_slack_and_on_the_page(
    bot: Running, fake: FakeSlack, sim: RunningSimulator, tmp_path: Path
) -> None:
    """X chooses the screen_name; whatever it holds, Slack shows it as text (no @channel
    mention, no link) and the browser shows it as text (no markup)."""
    hostile = "evil<!channel>&<https://evil.example|x><b>"
    admin(sim, "POST", "accounts", {"user_id": "1000000099", "screen_name": hostile})
    link = connect_link(bot, fake)
    done = requests.get(approve(bot, link, who=quote(hostile, safe="")), timeout=10)
    assert done.status_code == 200
    assert "&lt;!channel&gt;&amp;&lt;https://evil.example|x&gt;&lt;b&gt;" in done.text
    assert "<!channel>" not in done.text
    assert "<b>" not in done.text
    fake.wait_for(lambda calls: len([c for c in calls if c.method == "connect"]) >= 2)
    told = fake.responses("connect")[1]["text"]
    assert "@evil&lt;!channel&gt;&amp;&lt;https://evil.example|x&gt;&lt;b&gt;" in told
    assert "<!channel>" not in told
    assert "<https://evil.example" not in told


def test_a_denied_authorization_stores_nothing(
    bot: Running, fake: FakeSlack, tmp_path: Path
) -> None:
    link = connect_link(bot, fake)
    started = click_continue(link)
    callback = authorize(started.headers["Location"], "sim_deny=1")
    assert "denied=" in callback
    answer = requests.get(callback, timeout=10)
    assert answer.status_code == 200
    assert "Connection cancelled" in answer.text
    assert accounts(tmp_path) == []
    fake.wait_for(lambda calls: len([c for c in calls if c.method == "connect"]) >= 2)
    assert "cancelled" in fake.responses("connect")[1]["text"]
    assert open_link(link).status_code == 410


def test_a_wrong_verifier_is_refused(bot: Running, fake: FakeSlack, tmp_path: Path) -> None:
    callback = approve(bot, connect_link(bot, fake))
    wrong = re.sub(r"oauth_verifier=[^&]+", "oauth_verifier=0000000", callback)
    answer = requests.get(wrong, timeout=10)
    assert answer.status_code == 400
    assert "X refused the authorization" in answer.text
    assert accounts(tmp_path) == []
    assert requests.get(callback, timeout=10).status_code == 410  # the link is spent


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(
            lambda url: re.sub(r"oauth_token=[^&]+", "oauth_token=forged", url), id="token"
        ),
        pytest.param(lambda url: re.sub(r"&oauth_token=[^&]+", "", url), id="no-token"),
        pytest.param(lambda url: re.sub(r"&oauth_verifier=[^&]+", "", url), id="no-verifier"),
    ],
)
def test_a_tampered_callback_is_refused(
    bot: Running, fake: FakeSlack, tmp_path: Path, tamper: Any
) -> None:
    callback = approve(bot, connect_link(bot, fake))
    answer = requests.get(tamper(callback), timeout=10)
    assert answer.status_code == 400
    assert "does not match" in answer.text
    assert accounts(tmp_path) == []
    # The genuine callback still completes: a forged one does not spend the link.
    assert requests.get(callback, timeout=10).status_code == 200


def test_a_denied_callback_for_another_token_is_refused(
    bot: Running, fake: FakeSlack, tmp_path: Path
) -> None:
    link = connect_link(bot, fake)
    click_continue(link)
    link_id = link.rsplit("/", 1)[1]
    answer = requests.get(f"{bot.url}/x/oauth/callback?link={link_id}&denied=forged", timeout=10)
    assert answer.status_code == 400


@pytest.mark.parametrize("path", ["/x/connect/nope", "/x/connect/", "/x/oauth/callback?link=nope"])
def test_an_unknown_link_is_refused(bot: Running, tmp_path: Path, path: str) -> None:
    answer = requests.get(f"{bot.url}{path}", timeout=10)
    assert answer.status_code == 404
    assert connect.UNKNOWN.split(".")[0] in answer.text
    assert accounts(tmp_path) == []


def test_a_callback_before_the_link_was_opened_is_refused(
    bot: Running, fake: FakeSlack, tmp_path: Path
) -> None:
    link_id = connect_link(bot, fake).rsplit("/", 1)[1]
    answer = requests.get(
        f"{bot.url}/x/oauth/callback?link={link_id}&oauth_token=t&oauth_verifier=v", timeout=10
    )
    assert answer.status_code == 400
    assert accounts(tmp_path) == []


def test_socket_mode_serves_the_connection_on_its_http_listener(
    fake: FakeSlack, sim: RunningSimulator, tmp_path: Path
) -> None:
    """In Socket Mode the command arrives over the WebSocket (here: a link made directly in
    the store, as the command would, without a response_url); the flow runs on the small HTTP
    listener, and the requester hears of it through chat.postEphemeral."""
    port = free_port()
    settings = settings_for(
        fake,
        sim,
        tmp_path,
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        slack_app_token="xapp-fake",
        slack_signing_secret=None,
    )
    running = Running(
        settings, sim, x_oauth=True, socket_mode_handler=lambda app, token: StandInSocketMode()
    )
    try:
        with open_store(settings) as store:
            link = connect.start_link(
                store,
                settings,
                team_id=TEAM,
                channel_id="C0GENERAL",
                user_id="U0ALICE",
                response_url=None,
                now=sim.state.now(),
            )
        done = requests.get(approve(running, link), timeout=10)
        assert done.status_code == 200
        assert "Connected @sim_newcomer" in done.text
        fake.wait_for(lambda calls: any(c.method == "chat.postEphemeral" for c in calls))
        (told,) = fake.api_calls("chat.postEphemeral")
        assert told.body["user"] == "U0ALICE"
        assert told.body["channel"] == "C0GENERAL"
        assert "@sim_newcomer" in told.body["text"]
        assert accounts(tmp_path) == ["sim_newcomer"]
    finally:
        assert running.close() == 0


def test_no_token_verifier_or_link_id_reaches_the_log(
    bot: Running, fake: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    link = connect_link(bot, fake)
    callback = approve(bot, link)
    assert requests.get(callback, timeout=10).status_code == 200
    query = parse_qs(urlsplit(callback).query)
    secrets = [link.rsplit("/", 1)[1], query["oauth_token"][0], query["oauth_verifier"][0]]
    ours = [
        r for r in caplog.records if r.name.startswith("bot.") and r.name != "bot.simulator.server"
    ]  # the simulator and the test's own HTTP client (urllib3) are not the bot
    logged = "\n".join(r.getMessage() for r in ours)
    # (The access log line of the callback may land after the reply; the secrets are what count.)
    assert "connect: linked X account" in logged
    for secret in secrets:
        assert secret not in logged


def test_no_link_id_or_response_url_reaches_any_log_at_debug(
    bot: Running, fake: FakeSlack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """--debug turns every logger on, slack_sdk's included: the one-time link and the
    response_urls (each a credential to post in the channel) still never reach the log."""
    caplog.set_level(logging.DEBUG)  # what `run --debug` sets on the root logger
    link = connect_link(bot, fake)
    done = requests.get(approve(bot, link), timeout=10)
    assert done.status_code == 200
    fake.wait_for(lambda calls: len([c for c in calls if c.method == "connect"]) >= 2)
    ask(bot, fake, "help", "later")
    secrets = [
        link.rsplit("/", 1)[1],
        fake.response_url("connect"),
        fake.response_url("later"),
    ]
    # The test's own HTTP calls (urllib3 in this thread) and the simulator are not the bot.
    logged = "\n".join(
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if not r.name.startswith("bot.simulator")
        and not (r.name.startswith("urllib3") and r.threadName == "MainThread")
    )
    assert "slack_sdk" in logged or "bot." in logged  # the debug log was on
    found = [line for line in logged.splitlines() if any(s in line for s in secrets)]
    assert not found, sorted({line.split(": ")[0] for line in found})
