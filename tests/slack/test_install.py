"""Several workspaces: the OAuth install ("Add to Slack") end to end over loopback with real
Bolt, the installations encrypted in our SQLite file, each workspace served with its own bot
token, uninstalls (which forget the workspace: nothing of it left in the file or its WAL, and
`engagement-bot forget --team` by hand), key rotation, and workspaces kept apart."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
import yaml
from cryptography.fernet import Fernet
from slack_sdk import WebClient
from sqlite_utils import Database, Migrations

from bot.app import build_service, open_store
from bot.channels.deps import Deps
from bot.channels.outbox import Action, Refused, Window
from bot.cli import main
from bot.config import Settings
from bot.engagement.models import UserAuth
from bot.errors import ConfigError
from bot.ops.commands import rotate_key
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from bot.slack.app import build_app
from bot.slack.installations import SlackInstallations, SlackOAuthStates
from bot.slack.server import check_settings
from bot.slack.web import SCOPES
from bot.slack.workspaces import NotInstalled, Workspaces
from bot.slack.wsgi import OAUTH_NOT_SET_UP, RunningServer, make_wsgi_app, serve_in_background
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.fake_slack import iter_texts
from tests.support.running import Running, StandInSocketMode
from tests.support.simhttp import x_client
from tests.support.slack_oauth import (
    OAUTH_CLIENT_ID,
    OAUTH_CLIENT_SECRET,
    OAuthFakeSlack,
    bearer_team,
    team_token,
    user_token,
)
from tests.support.slack_requests import SIGNING_SECRET, command_body, signed_headers
from tests.support.universe import SIM_START

PUBLIC_URL = "https://bot.example.test"
BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
# Secrets this file adds on top of conftest's SECRET_MARKERS.
MORE_SECRETS = ("xoxp-fake", OAUTH_CLIENT_SECRET, "code-T")


@pytest.fixture(autouse=True)
def _no_install_secret_in_any_log(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """User tokens, the client secret and install codes never reach a log either."""
    caplog.set_level(logging.DEBUG)
    yield
    leaked = [
        r.getMessage()[:200]
        for r in caplog.get_records("call")
        # urllib3 logs the test's own requests: it plays the installer's browser.
        if not r.name.startswith("urllib3") and any(m in r.getMessage() for m in MORE_SECRETS)
    ]
    assert not leaked, f"secrets in the log: {leaked[:3]}"


@pytest.fixture
def fake() -> Iterator[OAuthFakeSlack]:
    with OAuthFakeSlack() as running:
        yield running


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def oauth_settings_for(
    fake: OAuthFakeSlack, sim: RunningSimulator, tmp_path: Path, **more: Any
) -> Settings:
    values: dict[str, Any] = {
        "slack_client_id": OAUTH_CLIENT_ID,
        "slack_client_secret": OAUTH_CLIENT_SECRET,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": fake.api_url,
        "x_api_url": sim.url,
        "x_oauth_url": sim.url,
        "x_consumer_key": "sim-consumer-key",
        "x_consumer_secret": "sim-consumer-secret",
        "db_path": tmp_path / "engagement.db",
        "public_url": PUBLIC_URL,
        "port": 0,
    }
    values.update(more)
    return Settings(**values)


@dataclass
class Deployment:
    """One multi-workspace deployment: Bolt's app over our store, behind our WSGI server."""

    settings: Settings
    store: Store
    cipher: TokenCipher
    clock: Clock
    workspaces: Workspaces
    deps: Deps
    http: RunningServer

    @property
    def url(self) -> str:
        return self.http.url


@pytest.fixture
def deployment(fake: OAuthFakeSlack, sim: RunningSimulator, tmp_path: Path) -> Iterator[Deployment]:
    settings = oauth_settings_for(fake, sim, tmp_path)
    cipher = TokenCipher.generate()
    clock = Clock(SIM_START)
    store = Store.open(settings.db_path, cipher=cipher)
    installations = SlackInstallations(store, cipher=cipher, client_id=OAUTH_CLIENT_ID, clock=clock)
    workspaces = Workspaces(settings, store, installations)
    with x_client(sim) as client:
        ticks = iter(range(10**6))
        service = build_service(
            client, store, sleep=lambda s: None, monotonic=lambda: float(next(ticks)) * 1000
        )
        deps = Deps(
            service,
            store,
            settings,
            can_post=workspaces.can_post,
            may_change=workspaces.may_change,
        )
        app = build_app(
            settings, deps, clock=clock, process_before_response=True, workspaces=workspaces
        )
        http = serve_in_background(
            make_wsgi_app(
                app, health=lambda: {"ok": True}, signing_secret=settings.slack_signing_secret
            )
        )
        try:
            yield Deployment(settings, store, cipher, clock, workspaces, deps, http)
        finally:
            http.stop()
            store.close()


# -- the install flow, as a browser goes through it ----------------------------------------------


@dataclass
class Started:
    location: str
    state: str
    cookie: str  # the "name=value" the browser sends back


def start_install(url: str) -> Started:
    reply = requests.get(f"{url}/slack/install", allow_redirects=False, timeout=10)
    assert reply.status_code == 302, reply.text
    location = reply.headers["Location"]
    (state,) = parse_qs(urlsplit(location).query)["state"]
    cookie = reply.headers["Set-Cookie"].split(";")[0]
    assert cookie == f"slack-app-oauth-state={state}"
    return Started(location, state, cookie)


def finish_install(
    url: str, started: Started, *, code: str | None = None, **query: str
) -> requests.Response:
    """Slack sends the browser back: ?code=…&state=… (or ?error=access_denied&state=…)."""
    params = {"state": started.state, **query}
    if code is not None:
        params["code"] = code
    return requests.get(
        f"{url}/slack/oauth_redirect?{urlencode(params)}",
        headers={"Cookie": started.cookie},
        allow_redirects=False,
        timeout=10,
    )


def install(url: str, team: str, *, user: bool = False) -> requests.Response:
    started = start_install(url)
    reply = finish_install(url, started, code=f"code-{team}" + ("-user" if user else ""))
    assert reply.status_code == 200, reply.text
    return reply


def stored_rows(store: Store) -> dict[str, int]:
    return {
        table: store.database.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("slack_installations", "slack_bots", "slack_oauth_states")
    }


def test_install_redirects_to_slacks_authorize_page_with_a_one_time_state(deployment):
    started = start_install(deployment.url)
    parts = urlsplit(started.location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://slack.com/oauth/v2/authorize"
    query = parse_qs(parts.query)
    assert query["client_id"] == [OAUTH_CLIENT_ID]
    assert sorted(query["scope"][0].split(",")) == sorted(SCOPES)
    assert query["redirect_uri"] == [f"{PUBLIC_URL}/slack/oauth_redirect"]
    assert len(started.state) >= 32
    assert start_install(deployment.url).state != started.state  # a new state each time
    # Only a digest of the state is kept.
    hashes = [r[0] for r in deployment.store.database.execute("SELECT * FROM slack_oauth_states")]
    assert len(hashes) == 2
    assert started.state not in hashes


def test_an_install_is_saved_encrypted_and_each_workspace_uses_its_own_token(
    deployment, fake: OAuthFakeSlack
):
    page = install(deployment.url, "T1")
    assert "Engagement Bot is installed in Team T1" in page.text
    assert "slack-app-oauth-state=deleted" in page.headers["Set-Cookie"]
    install(deployment.url, "T2", user=True)
    exchanges = fake.api_calls("oauth.v2.access")
    assert [c.body["code"] for c in exchanges] == ["code-T1", "code-T2-user"]
    assert all(c.body["redirect_uri"] == f"{PUBLIC_URL}/slack/oauth_redirect" for c in exchanges)

    assert deployment.workspaces.installations.teams() == ["T1", "T2"]
    assert deployment.workspaces.bot_token("T1") == team_token("T1")
    found = deployment.workspaces.installations.find_installation(
        enterprise_id=None, team_id="T2", user_id="U0INSTALLER"
    )
    assert found is not None
    assert (found.bot_token, found.user_token) == (team_token("T2"), user_token("T2"))
    assert found.bot_user_id == "U0BOTT2"
    assert stored_rows(deployment.store)["slack_oauth_states"] == 0  # spent

    # At rest: no token, in any table or in the WAL, in clear.
    deployment.store.database.execute("PRAGMA wal_checkpoint(FULL)")
    files = [deployment.settings.db_path, *deployment.settings.db_path.parent.glob("*.db-wal")]
    raw = b"".join(path.read_bytes() for path in files)
    for secret in (team_token("T1"), team_token("T2"), user_token("T2"), "xoxb-", "xoxp-"):
        assert secret.encode() not in raw

    # A signed command from each workspace is authorized with that workspace's bot token.
    fake_calls_before = len(fake.api_calls("auth.test"))
    for team in ("T1", "T2"):
        reply = post_command(deployment.url, fake, "help", team=team, channel=f"C{team}")
        assert reply.status_code == 200
    checks = fake.api_calls("auth.test")[fake_calls_before:]
    assert [bearer_team(c) for c in checks] == ["T1", "T2"]
    answers = fake.wait_for_responses(2)
    assert all("/engagement" in " ".join(iter_texts(a)) for a in answers)


def post_command(
    url: str, fake: OAuthFakeSlack, text: str, *, team: str, channel: str, user: str = "U0ALICE"
) -> requests.Response:
    body = command_body(
        text,
        response_url=fake.response_url(f"{team}-{channel}-{len(fake.responses())}"),
        team_id=team,
        channel_id=channel,
        user_id=user,
    )
    return requests.post(
        f"{url}/slack/events", data=body.encode(), headers=signed_headers(body), timeout=10
    )


def test_a_workspace_that_never_installed_gets_the_reinstall_message(deployment, fake):
    install(deployment.url, "T1")
    reply = post_command(deployment.url, fake, "help", team="T9", channel="C9")
    assert reply.status_code == 200
    (answer,) = fake.wait_for_responses(1)
    assert "installation with this app is no longer available" in answer["text"]
    assert all(bearer_team(c) != "T9" for c in fake.api_calls())


@pytest.mark.parametrize(
    ("query", "status", "title"),
    [
        ({"error": "access_denied"}, 200, "Installation cancelled"),
        ({"code": "code-T3", "state": "not-a-state-we-issued"}, 401, "expired or was already used"),
        ({"code": "not-a-code"}, 401, "Slack did not confirm the installation"),
        ({}, 401, "Slack did not confirm the installation"),  # no code
    ],
)
def test_a_failed_or_cancelled_install_shows_a_page_and_stores_nothing(
    deployment, fake, query: dict[str, str], status: int, title: str
):
    started = start_install(deployment.url)
    if "state" in query:
        started = Started(
            started.location, query["state"], f"slack-app-oauth-state={query['state']}"
        )
    reply = finish_install(
        deployment.url, started, **{k: v for k, v in query.items() if k != "state"}
    )
    assert reply.status_code == status
    assert reply.headers["Content-Type"].startswith("text/html")
    assert title in reply.text
    assert 'href="/slack/install"' in reply.text
    assert "slack-app-oauth-state=deleted" in reply.headers["Set-Cookie"]
    rows = stored_rows(deployment.store)
    assert (rows["slack_installations"], rows["slack_bots"]) == (0, 0)


def test_a_reused_state_a_stale_one_and_another_browser_are_refused(deployment, fake):
    started = start_install(deployment.url)
    assert finish_install(deployment.url, started, code="code-T1").status_code == 200
    replay = finish_install(deployment.url, started, code="code-T1")  # the same link again
    assert replay.status_code == 401
    assert "already used" in replay.text
    again = finish_install(deployment.url, start_install(deployment.url), code="code-T1")
    assert again.status_code == 401  # Slack refuses a spent code (and no log shows it)
    assert "refused the installation code" in again.text

    stale = start_install(deployment.url)
    deployment.clock.now += timedelta(minutes=10, seconds=1)
    expired = finish_install(deployment.url, stale, code="code-T2")
    assert expired.status_code == 401
    assert "expired" in expired.text

    other = start_install(deployment.url)
    no_cookie = requests.get(
        f"{deployment.url}/slack/oauth_redirect?state={other.state}&code=code-T2", timeout=10
    )
    assert no_cookie.status_code == 400
    assert "another browser" in no_cookie.text
    assert deployment.workspaces.installations.teams() == ["T1"]
    assert [c.body["code"] for c in fake.api_calls("oauth.v2.access")] == ["code-T1"] * 2


def test_the_state_store_is_single_use_and_expires():
    with Store.open(":memory:", cipher=TokenCipher.generate()) as store:
        clock = Clock(SIM_START)
        states = SlackOAuthStates(store, clock=clock, ttl=timedelta(minutes=10))
        first, second = states.issue(), states.issue()
        assert states.consume(first) is True
        assert states.consume(first) is False
        assert states.consume("") is False
        clock.now += timedelta(minutes=10)
        assert states.consume(second) is False  # expired at exactly ttl
        states.issue()  # sweeps what expired
        assert stored_rows(store)["slack_oauth_states"] == 1


def event_body(team: str, event: dict[str, Any]) -> str:
    return json.dumps(
        {
            "token": "deprecated",
            "team_id": team,
            "api_app_id": "A0ENGAGE",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{team}{event['type']}",
            "event_time": 1790000000,
        }
    )


def post_event(url: str, body: str) -> requests.Response:
    headers = signed_headers(body) | {"content-type": "application/json"}
    return requests.post(f"{url}/slack/events", data=body.encode(), headers=headers, timeout=10)


def test_uninstalling_or_revoking_deletes_the_installation(deployment, fake):
    install(deployment.url, "T1")
    install(deployment.url, "T2", user=True)
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": ["U0INSTALLER"], "bot": ["U0BOTT2"]}}
    assert post_event(deployment.url, event_body("T2", revoked)).status_code == 200
    installations = deployment.workspaces.installations
    assert installations.find_installation(enterprise_id=None, team_id="T2") is None
    assert installations.find_bot(enterprise_id=None, team_id="T2") is None

    assert installations.teams() == ["T1"]
    body = event_body("T1", {"type": "app_uninstalled"})
    assert post_event(deployment.url, body).status_code == 200
    assert installations.teams() == []
    assert stored_rows(deployment.store) == {
        "slack_installations": 0,
        "slack_bots": 0,
        "slack_oauth_states": 0,
    }
    # The uninstalled workspace's commands get the reinstall message; its jobs pause.
    post_command(deployment.url, fake, "help", team="T1", channel="CT1")
    (answer,) = fake.wait_for_responses(1)
    assert "no longer available" in answer["text"]
    with pytest.raises(NotInstalled) as raised:
        deployment.workspaces.post("CT1", Message("hello"))
    assert raised.value.failure.action is Action.PAUSE


def test_jobs_post_find_and_check_with_the_token_of_the_channels_workspace(deployment, fake):
    install(deployment.url, "T1")
    install(deployment.url, "T2")
    store, workspaces = deployment.store, deployment.workspaces
    store.channels.track(
        "T1", "C1", kind="post", refs=["1796874333705080832"], by="U1", now=SIM_START
    )
    store.channels.add_alert(
        "T2", "C2", kind="spike", metric=None, threshold=None, post_id=None, handle=None,
        sensitivity="high", by="U2", now=SIM_START,
    )  # fmt: skip
    assert (workspaces.team_of("C1"), workspaces.team_of("C2")) == ("T1", "T2")
    assert workspaces.post("C1", Message("one"))
    assert workspaces.post("C2", Message("two"))
    posted = fake.api_calls("chat.postMessage")
    assert [(c.body["channel"], bearer_team(c)) for c in posted] == [("C1", "T1"), ("C2", "T2")]
    assert workspaces.can_post("C2") is True
    assert bearer_team(fake.api_calls("conversations.info")[-1]) == "T2"
    assert workspaces.find_posted("C1", "no-such-marker") is None
    assert bearer_team(fake.api_calls("conversations.history")[-1]) == "T1"
    # A channel no workspace has spoken from, nor stored: nothing to post with.
    assert workspaces.can_post("C404") is False
    with pytest.raises(NotInstalled):
        workspaces.post("C404", Message("lost"))
    # A revoked token is Slack's own refusal, which pauses the channel too.
    fake.revoke("T2")
    with pytest.raises(Refused) as refused:
        workspaces.post("C2", Message("three"))
    assert refused.value.failure.action is Action.PAUSE


def test_admin_checks_ask_each_workspace_with_its_own_token(deployment, fake):
    install(deployment.url, "T1")
    install(deployment.url, "T2")
    fake.admins.add("U0BOSS")
    assert deployment.workspaces.may_change("T2", "U0BOSS") is True
    assert deployment.workspaces.may_change("T1", "U0ALICE") is False
    assert [bearer_team(c) for c in fake.api_calls("users.info")] == ["T2", "T1"]
    assert deployment.workspaces.may_change("T9", "U0BOSS") is False  # not installed there


def test_one_deployment_keeps_two_workspaces_apart(deployment, fake, sim):
    install(deployment.url, "T1")
    install(deployment.url, "T2")
    deployment.store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace="T1", now=SIM_START
    )
    fake.admins.add("U0ALICE")
    for team in ("T1", "T2"):
        post_command(deployment.url, fake, "accounts", team=team, channel=f"C{team}")
    in_t1, in_t2 = (" ".join(iter_texts(a)) for a in fake.wait_for_responses(2))
    assert "@sim_brand" in in_t1
    assert "@sim_brand" not in in_t2
    post_command(deployment.url, fake, "disconnect @sim_brand", team="T2", channel="CT2")
    refused = " ".join(iter_texts(fake.wait_for_responses(3)[-1]))
    assert "No connected account" in refused
    assert deployment.store.accounts.connected_ids("T1") == frozenset({"1000000001"})
    assert deployment.store.accounts.connected_ids("T2") == frozenset()


def test_rotate_key_re_encrypts_the_installations_and_they_keep_working(fake, sim, tmp_path: Path):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings = oauth_settings_for(fake, sim, tmp_path, secret_key=old)
    store = open_store(settings)
    clock = Clock(SIM_START)
    installations = SlackInstallations(
        store, cipher=TokenCipher.from_keys([old]), client_id=OAUTH_CLIENT_ID, clock=clock
    )
    with x_client(sim, consumer_key="k", consumer_secret="s") as client:
        deps = Deps(build_service(client, store), store, settings)
        app = build_app(
            settings,
            deps,
            clock=clock,
            process_before_response=True,
            workspaces=Workspaces(settings, store, installations),
        )
        http = serve_in_background(
            make_wsgi_app(
                app, health=lambda: {"ok": True}, signing_secret=settings.slack_signing_secret
            )
        )
        try:
            install(http.url, "T1", user=True)
        finally:
            http.stop()
            store.close()

    out: list[str] = []
    rotated = replace_key(settings, f"{new},{old}")

    class Out:
        def write(self, text: str) -> None:
            out.append(text)

    assert rotate_key(rotated, out=Out()) == 0  # type: ignore[arg-type]
    assert "2 Slack installation record(s)" in "".join(out)
    with open_store(replace_key(settings, new)) as store:
        only_new = SlackInstallations(
            store, cipher=TokenCipher.from_keys([new]), client_id=OAUTH_CLIENT_ID
        )
        found = only_new.find_installation(enterprise_id=None, team_id="T1")
        assert found is not None
        assert (found.bot_token, found.user_token) == (team_token("T1"), user_token("T1"))
        only_old = SlackInstallations(store, cipher=TokenCipher.from_keys([old]), client_id=None)
        assert only_old.undecryptable() == ["slack_installations T1", "slack_bots T1"]


def replace_key(settings: Settings, key: str) -> Settings:
    from dataclasses import replace

    return replace(settings, secret_key=key)


def test_a_ciphertext_moved_to_another_workspace_is_refused():
    with Store.open(":memory:", cipher=TokenCipher.generate()) as store:
        cipher = TokenCipher.generate()
        installations = SlackInstallations(
            store, cipher=cipher, client_id=OAUTH_CLIENT_ID, clock=Clock(SIM_START)
        )
        from slack_sdk.oauth.installation_store import Bot

        for team in ("T1", "T2"):
            installations.save_bot(
                Bot(
                    team_id=team,
                    bot_token=team_token(team),
                    bot_id="B1",
                    bot_user_id="U1",
                    installed_at=SIM_START,
                )
            )
        store.database.execute(
            "UPDATE slack_bots SET secrets = (SELECT secrets FROM slack_bots WHERE team_id = 'T1')"
            " WHERE team_id = 'T2'"
        )
        from bot.errors import SecretKeyError

        with pytest.raises(SecretKeyError):
            installations.find_bot(enterprise_id=None, team_id="T2")


# -- `run` with SLACK_CLIENT_ID: settings, and serve()'s wiring ---------------------------------


def test_run_needs_no_bot_token_but_an_https_public_url(fake, sim, tmp_path):
    check_settings(oauth_settings_for(fake, sim, tmp_path))  # no SLACK_BOT_TOKEN: fine
    with pytest.raises(ConfigError, match="ENGAGEMENT_PUBLIC_URL"):
        check_settings(oauth_settings_for(fake, sim, tmp_path, public_url="http://localhost:3000"))
    socket_mode = oauth_settings_for(
        fake, sim, tmp_path, slack_app_token="xapp-fake", slack_signing_secret=None
    )
    check_settings(socket_mode)  # the install pages are on run's HTTP listener in both modes
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        check_settings(oauth_settings_for(fake, sim, tmp_path, slack_client_id=None))


def test_serve_installs_and_answers_two_workspaces(fake, sim, tmp_path):
    running = Running(oauth_settings_for(fake, sim, tmp_path), sim)
    try:
        assert fake.api_calls() == []  # no SLACK_BOT_TOKEN to check at start-up
        install(running.url, "T1")
        install(running.url, "T2")
        for team in ("T1", "T2"):
            assert post_command(running.url, fake, "help", team=team, channel="C1").ok
        fake.wait_for_responses(2)
        assert sorted(bearer_team(c) for c in fake.api_calls("auth.test")) == [
            "T1",
            "T1",
            "T2",
            "T2",
        ]  # one at each install, one at each command
    finally:
        assert running.close() == 0


def test_socket_mode_serves_the_install_pages_on_the_http_listener(fake, sim, tmp_path):
    handler = StandInSocketMode()
    settings = oauth_settings_for(
        fake, sim, tmp_path, slack_app_token="xapp-fake", slack_signing_secret=None
    )
    running = Running(settings, sim, socket_mode_handler=lambda app, token: handler)
    try:
        assert handler.events == ["connect"]
        install(running.url, "T1")
        assert (
            requests.post(f"{running.url}/slack/events", data=b"x", timeout=10).status_code == 404
        )
        assert requests.post(f"{running.url}/slack/install", timeout=10).status_code == 405
    finally:
        assert running.close() == 0
    with open_store(settings) as store:
        assert stored_rows(store)["slack_bots"] == 1


def test_single_workspace_servers_do_not_serve_the_install_pages(fake, sim, tmp_path):
    settings = oauth_settings_for(fake, sim, tmp_path, slack_client_id=None)
    http = serve_in_background(make_wsgi_app(None, health=lambda: {"ok": True}))
    try:
        for path in ("/slack/install", "/slack/oauth_redirect"):
            reply = requests.get(f"{http.url}{path}", timeout=10)
            assert (reply.status_code, reply.text.strip()) == (404, OAUTH_NOT_SET_UP)
    finally:
        http.stop()
    assert settings.slack_client_id is None


def test_build_app_in_oauth_mode_needs_the_installation_store(fake, sim, tmp_path):
    with pytest.raises(ConfigError, match="SLACK_CLIENT_ID"):
        build_app(oauth_settings_for(fake, sim, tmp_path), None, clock=Clock(SIM_START))  # type: ignore[arg-type]


# -- schema ---------------------------------------------------------------------------------------


def test_migrations_apply_by_name_so_a_gap_or_a_late_m007_is_fine(tmp_path):
    """m007 is reserved for another change: m008 applies without it, and an m007 registered
    later still applies once."""
    path = tmp_path / "gap.db"
    first = Migrations("gap-check")
    for name in ("m001", "m002", "m003", "m004", "m005", "m006", "m008"):
        first(name=name)(lambda db, n=name: db.execute(f"CREATE TABLE {n} (x)"))
    first.apply(Database(path))
    later = Migrations("gap-check")
    for name in ("m001", "m002", "m003", "m004", "m005", "m006", "m007", "m008"):
        later(name=name)(lambda db, n=name: db.execute(f"CREATE TABLE {n} (x)"))
    db = Database(path)
    assert [m.name for m in later.pending(db)] == ["m007"]
    later.apply(db)
    assert {"m007", "m008"} <= set(db.table_names())
    with Store.open(tmp_path / "real.db", cipher=TokenCipher.generate()) as store:
        assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= set(
            store.database.table_names()
        )


# -- the manifest's OAuth variant ------------------------------------------------------------------


def test_the_oauth_variant_in_the_manifests_comments_is_valid_for_slack():
    from jsonschema import Draft7Validator
    from referencing import Registry, Resource

    from tests.support.manifest import MANIFEST, RAW, VERSIONS, load_schema, schema_errors

    registry: Registry[Any] = Registry().with_resources(
        (RAW + name, Resource.from_contents(load_schema("schemas/" + name))) for name in VERSIONS
    )
    validators = (
        Draft7Validator(load_schema("manifest.schema.json"), registry=registry),
        Draft7Validator(load_schema("schemas/" + VERSIONS[0])),
    )
    text = MANIFEST.read_text(encoding="utf-8")
    manifest = yaml.safe_load(text)
    for socket_mode in (True, False):
        variant = json.loads(json.dumps(manifest))
        variant["oauth_config"]["redirect_urls"] = [f"{PUBLIC_URL}/slack/oauth_redirect"]
        bot_events = ["app_home_opened", "app_uninstalled", "tokens_revoked"]
        events: dict[str, Any] = {"bot_events": bot_events}
        if not socket_mode:
            events["request_url"] = f"{PUBLIC_URL}/slack/events"
            variant["settings"]["socket_mode_enabled"] = False
            variant["features"]["slash_commands"][0]["url"] = f"{PUBLIC_URL}/slack/events"
        variant["settings"]["event_subscriptions"] = events
        assert schema_errors(validators, variant) == []
    for line in (
        "- <ENGAGEMENT_PUBLIC_URL>/slack/oauth_redirect",
        # the bot events are in the manifest itself now (tests/slack/test_manifest.py)
        "request_url: <ENGAGEMENT_PUBLIC_URL>/slack/events",
    ):
        assert line in text


def test_runs_scheduler_posts_with_each_workspaces_token(deployment, fake, monkeypatch):
    from bot import app
    from bot.channels.digest import prefetch
    from bot.jobs import scheduler

    built: dict[str, Any] = {}
    monkeypatch.setattr(scheduler, "build_scheduler", lambda **kwargs: built.update(kwargs))
    web = WebClient(base_url="http://127.0.0.1:9/api/")
    install(deployment.url, "T2")
    deployment.store.channels.add_alert(
        "T2", "C2", kind="spike", metric=None, threshold=None, post_id=None, handle=None,
        sensitivity="high", by="U2", now=SIM_START,
    )  # fmt: skip
    app.digest_jobs(deployment.deps, web, clock=deployment.clock, workspaces=deployment.workspaces)
    assert built["post"] == deployment.workspaces.post
    # Searches for interrupted posts go through one paced queue, with the channel's team token.
    find_posted = built["run_digest"].keywords["find_posted"]
    assert built["run_alerts"].keywords["find_posted"] is find_posted is built["reconciler"]
    window = Window(SIM_START, SIM_START + timedelta(minutes=5))
    assert find_posted("C2", "no-such-marker", window) is None
    assert bearer_team(fake.api_calls("conversations.history")[-1]) == "T2"
    assert built["prefetch"] is prefetch  # each digest's numbers are fetched ahead of it
    app.digest_jobs(deployment.deps, web, clock=deployment.clock)  # one workspace: unchanged
    assert built["post"] != deployment.workspaces.post


# -- uninstalling forgets -------------------------------------------------------------------------

GONE, STAYS = "T0FORGETME", "T0STAYS"
GONE_CHANNEL, STAYS_CHANNEL = "C0FORGETME", "C0STAYS"
GONE_USER, STAYS_USER = "U0FORGETME", "U0STAYS"


def posts_of(sim: RunningSimulator, handle: str) -> list[str]:
    reply = requests.get(f"{sim.url}/_sim/posts?author={handle}", timeout=10)
    return [p["id"] for p in reply.json()["posts"]]


def file_bytes(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def rows_of(path: Path, table: str, where: str = "1") -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY 1, 2").fetchall()
    finally:
        conn.close()


@pytest.fixture
def two_workspaces(
    deployment: Deployment, fake: OAuthFakeSlack, sim: RunningSimulator
) -> tuple[Deployment, dict[str, str]]:
    """GONE connected @sim_brand, tracks two of its Posts and @sim_brand, has a digest and an
    alert rule, and asked for numbers; STAYS tracks @sim_creator, one creator Post and one of
    the brand Posts GONE tracks."""
    install(deployment.url, GONE)
    install(deployment.url, STAYS)
    store = deployment.store
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=GONE, now=SIM_START
    )
    brand = posts_of(sim, "sim_brand")
    creator = posts_of(sim, "sim_creator")
    only_gone, in_both, theirs = brand[0], brand[1], creator[0]
    fake.admins.update({GONE_USER, STAYS_USER})
    commands = [
        (GONE, GONE_CHANNEL, GONE_USER, f"track {only_gone} {in_both} @sim_brand"),
        (GONE, GONE_CHANNEL, GONE_USER, "digest on 08:00"),
        (GONE, GONE_CHANNEL, GONE_USER, "alert likes > 5"),
        (GONE, GONE_CHANNEL, GONE_USER, f"totals {only_gone} {in_both}"),
        (STAYS, STAYS_CHANNEL, STAYS_USER, f"track {theirs} {in_both} @sim_creator"),
        (STAYS, STAYS_CHANNEL, STAYS_USER, f"totals {theirs} {in_both}"),
    ]
    for number, (team, channel, user, text) in enumerate(commands, start=1):
        reply = post_command(deployment.url, fake, text, team=team, channel=channel, user=user)
        assert reply.status_code == 200
        fake.wait_for_responses(number)
    return deployment, {"only_gone": only_gone, "in_both": in_both, "theirs": theirs}


def test_an_uninstall_leaves_no_trace_of_the_workspace_and_spares_the_other(
    two_workspaces: tuple[Deployment, dict[str, str]],
) -> None:
    deployment, posts = two_workspaces
    path = deployment.settings.db_path
    before = file_bytes(path)
    for trace in (GONE, GONE_CHANNEL, GONE_USER, b"sim_brand", posts["only_gone"]):
        assert (trace if isinstance(trace, bytes) else trace.encode()) in before
    (token_row,) = rows_of(path, "account_tokens")
    bot_secrets = rows_of(path, "slack_bots", f"team_id = '{GONE}'")[0][-1]
    stays_before = {
        table: rows_of(path, table, where)
        for table, where in (
            ("channel_tracks", f"team_id = '{STAYS}'"),
            ("slack_bots", f"team_id = '{STAYS}'"),
            ("totals", f"post_id IN ('{posts['theirs']}', '{posts['in_both']}')"),
        )
    }
    assert all(stays_before.values())

    body = event_body(GONE, {"type": "app_uninstalled"})
    assert post_event(deployment.url, body).status_code == 200

    after = file_bytes(path)
    for trace in (GONE, GONE_CHANNEL, GONE_USER, "sim_brand", posts["only_gone"]):
        assert trace.encode() not in after, trace
    for sealed in (str(token_row[1]), str(bot_secrets)):
        assert sealed.encode() not in after
    for table, where in (
        ("channel_tracks", f"team_id = '{STAYS}'"),
        ("slack_bots", f"team_id = '{STAYS}'"),
        ("totals", f"post_id IN ('{posts['theirs']}', '{posts['in_both']}')"),
    ):
        assert rows_of(path, table, where) == stays_before[table]
    assert deployment.store.accounts.listed() == []
    assert deployment.workspaces.installations.teams() == [STAYS]


def test_forget_by_hand_does_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path, key = tmp_path / "engagement.db", Fernet.generate_key().decode()
    with Store.open(path, cipher=TokenCipher.from_keys([key])) as store:
        store.accounts.save(
            user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=GONE, now=SIM_START
        )
        for team, channel, ref in ((GONE, GONE_CHANNEL, "sim_brand"), (STAYS, STAYS_CHANNEL, "x")):
            store.channels.track(team, channel, kind="account", refs=[ref], by="U1", now=SIM_START)
    ((_, sealed),) = rows_of(path, "account_tokens")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENGAGEMENT_DB", str(path))
    monkeypatch.setenv("ENGAGEMENT_SECRET_KEY", key)
    assert main(["forget", "--team", GONE]) == 0
    assert capsys.readouterr().out.startswith(f"forgot workspace {GONE}: ")
    after = file_bytes(path)
    for trace in (GONE, GONE_CHANNEL, "sim_brand", str(sealed)):
        assert trace.encode() not in after, trace
    assert rows_of(path, "channel_tracks") == [
        (STAYS, STAYS_CHANNEL, "account", "x", "U1", rows_of(path, "channel_tracks")[0][-1])
    ]
