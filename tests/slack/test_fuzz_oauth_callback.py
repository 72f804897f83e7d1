"""Fuzzing the X account connection's two browser-facing routes, as a stranger reaches them:
GET /x/connect/<link id> and GET /x/oauth/callback?link=..&oauth_token=..&oauth_verifier=..

The real WSGI app (bot/slack/server.py) and connect flow (bot/slack/connect.py) on a loopback
port, a real Store on a SQLite file, X simulated. Every example starts from four fresh links:
pending (never opened), started (opened: X issued a request token), expired and used. A random
query or link id must get a small HTML page with a 4xx status (or the one documented outcome
for the started link's own request token), store no account, leave every link as it was unless
the documented flow spends it, and tell Slack nothing unless a link was finished.

test_connect.py walks the happy path and each named failure; this file throws everything else.
"""

from __future__ import annotations

import html
import http.client
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.simulator.server import RunningSimulator
from bot.slack import connect
from bot.slack.wsgi import XConnect, make_wsgi_app, serve_in_background
from bot.store import Store
from bot.store.cipher import TokenCipher
from bot.store.connect_links import ConnectLink
from tests.support.simhttp import x_client
from tests.support.universe import SIM_START

NOW = SIM_START
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
MESSAGES = {
    connect.EXPIRED,
    connect.USED,
    connect.UNKNOWN,
    connect.TAMPERED,
    connect.NOT_STARTED,
    connect.REFUSED,
    connect.CANCELLED,
}


@dataclass
class Links:
    """This example's links: ids by state, and the started link's request token."""

    pending: str
    started: str
    expired: str
    used: str
    token: str  # the started link's request token, as X sent it in the authorize URL

    def fill(self, value: str) -> str:
        """A drawn value with its placeholders filled in: {pending}, {token}, …, and
        {PENDING}, … for the id in upper case. Anything else stays as drawn."""
        for name, real in vars(self).items():
            value = value.replace("{" + name + "}", real)
            value = value.replace("{" + name.upper() + "}", real.upper())
        return value


class Site:
    """The HTTP listener with its X connection, and what a request could change."""

    def __init__(self, url: str, store: Store, db: Path, x_url: str) -> None:
        self.url, self.store, self.db, self.x_url = url, store, db, x_url
        split = urlsplit(url)
        self.host, self.port = split.hostname or "127.0.0.1", split.port or 80
        self.notified: list[tuple[ConnectLink, str]] = []

    def __repr__(self) -> str:  # Hypothesis prints fixtures in failing examples
        return "site"

    def get(self, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        """GET (or `method`) with `target` sent byte for byte (no client-side quoting)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.putrequest(method, target, skip_accept_encoding=True)
            conn.putheader("Connection", "close")
            if method == "POST":  # the page's button: an empty form
                conn.putheader("Content-Length", "0")
            conn.endheaders()
            response = conn.getresponse()
            headers = {k.lower(): v for k, v in response.getheaders()}
            return response.status, headers, response.read()
        finally:
            conn.close()

    def fresh_links(self) -> Links:
        make = self.store.connect_links.create
        owner = {"team_id": "T0FAKE", "channel_id": "C0GENERAL", "user_id": "U0ALICE"}
        pending = make(**owner, response_url=None, now=NOW).link_id
        started = make(**owner, response_url=None, now=NOW).link_id
        expired = make(**owner, response_url=None, now=NOW - timedelta(minutes=20)).link_id
        used = make(**owner, response_url=None, now=NOW).link_id
        assert self.store.connect_links.claim(used, now=NOW)
        status, headers, _ = self.get(connect.CONNECT_PATH + started, "POST")
        assert status == 302, status
        token = dict(parse_qsl(urlsplit(headers["location"]).query))["oauth_token"]
        return Links(pending, started, expired, used, token)

    def state(self) -> dict[str, list[tuple[Any, ...]]]:
        with sqlite3.connect(self.db) as db:
            names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            return {
                n: sorted(map(tuple, db.execute(f"SELECT * FROM {n}")), key=repr)  # noqa: S608
                for n in names
            }


@pytest.fixture
def site(sim: RunningSimulator, tmp_path: Path) -> Iterator[Site]:
    db = tmp_path / "engagement.db"
    store = Store.open(db, cipher=TokenCipher.generate())
    with x_client(sim) as client:
        holder: list[Site] = []
        # The page's own URL is only known once it listens; the callback URL X gets is only
        # compared, never followed, here.
        settings = Settings(public_url="http://127.0.0.1:1")

        def notify(link: ConnectLink, text: str) -> None:
            holder[0].notified.append((link, text))

        wsgi = make_wsgi_app(
            None,
            health=lambda: {"ok": True},
            x_connect=XConnect(store, client, settings, lambda: NOW, notify),
        )
        running = serve_in_background(wsgi)
        try:
            holder.append(Site(running.url, store, db, sim.url))
            yield holder[0]
        finally:
            running.stop()
            store.close()


def assert_page(status: int, headers: dict[str, str], body: bytes) -> None:
    """A small HTML page with a 4xx status and one of the flow's own messages."""
    assert 400 <= status < 500, (status, body[:200])
    if status == 414:  # the request line itself was too long: the HTTP server's own page
        return
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers.get("cache-control") == "no-store"
    assert body.startswith(b"<!doctype html>")
    assert len(body) < 2_000
    shown = body.decode().split("<p>", 1)[1].split("</p>", 1)[0]
    assert shown in {html.escape(m) for m in MESSAGES}, shown


# -- what a stranger puts in the query -------------------------------------------------------------

PLACEHOLDERS = st.sampled_from(
    ["{pending}", "{started}", "{expired}", "{used}", "{token}", "{started}{started}"]
)
JUNK = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "null",
            "undefined",
            "../../etc/passwd",
            "%00",
            "<script>alert(1)</script>",
            "' OR '1'='1",
            "\u202e",
            "🥇",
            "x" * 20_000,
        ]
    ),
)
VALUES = st.one_of(PLACEHOLDERS, PLACEHOLDERS, JUNK)
KEYS = st.sampled_from(
    ["link", "link", "oauth_token", "oauth_token", "oauth_verifier", "denied", "LINK", "x"]
)


@st.composite
def queries(draw: st.DrawFn) -> str:
    """A query string: pairs (duplicates allowed), sometimes raw junk instead."""
    if draw(st.integers(0, 9)) == 0:
        return draw(
            st.sampled_from(
                ["", "&", "=", "link", "link=%", "link=%zz", "link=%ff%fe", "a=b=c", "?link=x"]
            )
        )
    pairs = draw(st.lists(st.tuples(KEYS, VALUES), max_size=6))
    return urlencode([(k, v) for k, v in pairs])


def expected_change(query: dict[str, str], links: Links) -> bool:
    """Whether the documented flow spends the started link for this (parsed) query: the
    user cancelled on X, or a verifier for its own request token went to X (which refuses
    any verifier here, as nobody approved)."""
    if query.get("link") != links.started:
        return False
    if "denied" in query:
        return query["denied"] == links.token
    return query.get("oauth_token") == links.token and bool(query.get("oauth_verifier"))


@FUZZ
@given(query=queries())
@example(query="link={started}&oauth_token={token}")  # no verifier
@example(query="link={started}&oauth_token={token}&oauth_verifier=")  # an empty one
@example(query="link={started}&oauth_token={token}&oauth_verifier=guess")  # X refuses it
@example(query="link={started}&denied={token}")  # cancelled on X
@example(query="link={started}&denied=")  # a denial for another token
@example(query="link={pending}&oauth_token={token}&oauth_verifier=v")  # never started
@example(query="link={expired}&oauth_token={token}&oauth_verifier=v")
@example(query="link={used}&denied={token}")
@example(query="link={started}&link={pending}&oauth_token={token}&oauth_verifier=v")
@example(query="oauth_token={token}&oauth_verifier=v")  # no link at all
@example(query="link=" + "x" * 70_000)  # longer than the HTTP server takes
def test_any_callback_query_gets_a_4xx_page_and_stores_nothing(site: Site, query: str):
    links = site.fresh_links()
    target = connect.CALLBACK_PATH + "?" + links.fill(query)
    parsed = dict(parse_qsl(links.fill(query), keep_blank_values=True))
    before = site.state()
    notified = len(site.notified)
    status, headers, body = site.get(target)
    after = site.state()
    assert after["accounts"] == before["accounts"]  # never an account
    assert after["account_tokens"] == before["account_tokens"]
    if expected_change(parsed, links):
        assert status in (200, 400), status  # cancelled, or X refused the verifier
        if status == 200:
            assert connect.CANCELLED.split(":")[0] in body.decode()
            assert len(site.notified) == notified + 1
        link = site.store.connect_links.get(links.started)
        assert link is not None
        assert link.used_at is not None  # spent either way
    else:
        assert_page(status, headers, body)
        assert after == before, "a refused callback changed the store"
        assert len(site.notified) == notified


@settings(FUZZ, max_examples=80)
@given(
    link=st.one_of(
        PLACEHOLDERS,
        JUNK.map(lambda v: quote(v, safe="")),
        st.sampled_from(["", "/", "..", "%2e%2e", "a/b", "a?b=c", "%", "%zz", "%00"]),
        PLACEHOLDERS.map(lambda p: p + "/"),
        PLACEHOLDERS.map(lambda p: p.upper()),
    )
)
@example(link="{pending}")
@example(link="{started}")
@example(link="{expired}")
@example(link="{used}")
def test_any_connect_link_id_gets_a_redirect_only_when_pending(site: Site, link: str):
    links = site.fresh_links()
    before = site.state()
    for method in ("HEAD", "GET"):  # a preview or a scanner: never a change
        status, _, _ = site.get(connect.CONNECT_PATH + links.fill(link), method)
        assert site.state() == before
        assert (status == 200) == (links.fill(link) == links.pending), (method, status)
    status, headers, body = site.get(connect.CONNECT_PATH + links.fill(link), "POST")
    after = site.state()
    assert after["accounts"] == before["accounts"]
    if links.fill(link) == links.pending:
        assert status == 302
        assert headers["location"].startswith(site.x_url + "/oauth/authorize?oauth_token=")
        pending = site.store.connect_links.get(links.pending)
        assert pending is not None
        assert pending.request_token is not None
        assert pending.used_at is None
    else:
        assert_page(status, headers, body)
        assert after == before, "a refused link changed the store"
    assert site.notified == []
