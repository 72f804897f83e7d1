"""Fuzzing the bot's HTTP endpoint (bot/slack/server.py) as a stranger on the internet reaches it.

The real WSGI app on a loopback port, the real Bolt app (process_before_response, so a command's
reply has left when its HTTP answer arrives), the real dispatcher and store, X simulated and
Slack faked. Raw HTTP through http.client, so headers can be missing, junk or duplicated.

- Anything not correctly signed gets 401 (or 413 when too big), calls nothing (not X, not
  Slack, not the response_url it names) and changes no row.
- Anything correctly signed but structurally wrong (not a command, another command, no
  response_url, missing fields, JSON) gets a 4xx or a 200 with an answer, never a 5xx.
- Other methods and paths get 404 / 405, never a 5xx.

Known gaps that would fail here are left out of the strategies and listed in the module's
final comment.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import build_service
from bot.channels.deps import Deps
from bot.config import Settings
from bot.simulator.server import RunningSimulator
from bot.slack.app import build_app
from bot.slack.web import build_web_client
from bot.slack.wsgi import EVENTS_PATH, MAX_BODY_BYTES, make_wsgi_app, serve_in_background
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.clocks import FakeClock
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.simhttp import x_client
from tests.support.slack_requests import FORM, SIGNING_SECRET, command_body, signature

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Headers = list[tuple[str, str]]


class Bot:
    """The HTTP endpoint and everything it could touch."""

    def __init__(self, url: str, fake: FakeSlack, sim: RunningSimulator, db: Path) -> None:
        self.url, self.fake, self.sim, self.db = url, fake, sim, db
        self.host, _, port = url.removeprefix("http://").partition(":")
        self.port = int(port)

    def __repr__(self) -> str:  # Hypothesis prints fixtures in failing examples
        return "bot"

    def send(
        self, method: str, path: str, body: bytes = b"", headers: Headers = ()
    ) -> tuple[int, bytes]:
        """One raw request, exactly these headers (duplicates kept) plus Content-Length
        unless one is given; the connection closes after it."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            names = {name.lower() for name, _ in headers}
            for name, value in headers:
                conn.putheader(name, value)
            if "content-length" not in names:
                conn.putheader("Content-Length", str(len(body)))
            conn.putheader("Connection", "close")
            # A 413 is answered without reading the body: read that answer all the same.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                conn.endheaders(body)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def touched(self) -> tuple[int, int, dict[str, list[tuple[Any, ...]]]]:
        """Calls to X, calls to Slack (API and response URLs), and every stored row."""
        x = requests.get(f"{self.sim.url}/_sim/requests", timeout=30).json()["requests"]
        with sqlite3.connect(self.db) as db:
            names = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            rows = {
                n: sorted(map(tuple, db.execute(f"SELECT * FROM {n}")), key=repr)  # noqa: S608
                for n in names
            }
        return len(x), len(self.fake.calls()), rows


@pytest.fixture
def bot(sim: RunningSimulator, fake: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    db = tmp_path / "engagement.db"
    store = Store.open(db, cipher=TokenCipher.generate())
    settings = Settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url
    )
    clock = FakeClock()
    with x_client(sim) as client:
        service = build_service(client, store, sleep=clock.sleep, monotonic=clock.monotonic)
        deps = Deps(service, store, settings, can_post=lambda channel: False)
        app = build_app(
            settings,
            deps,
            clock=sim.state.now,
            client=build_web_client(settings, token=BOT_TOKEN),
            process_before_response=True,
        )
        running = serve_in_background(
            make_wsgi_app(
                app, health=lambda: {"ok": True}, signing_secret=settings.slack_signing_secret
            )
        )
        try:
            yield Bot(running.url, fake, sim, db)
        finally:
            running.stop()
            store.close()


# -- what arrives ----------------------------------------------------------------------------------

# Header values http.client will send (no CR, LF or NUL). ASCII only: a non-ASCII signature
# is one of the known gaps below.
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
FIELDS = st.sampled_from(
    [
        "token",
        "team_id",
        "channel_id",
        "user_id",
        "command",
        "text",
        "response_url",
        "trigger_id",
        "api_app_id",
        "type",
        "event",
        "ssl_check",
    ]
)
FORM_JUNK = st.one_of(
    st.dictionaries(FIELDS, st.text(max_size=40), max_size=8).map(urlencode),
    st.lists(st.tuples(FIELDS, st.text(max_size=20)), max_size=8).map(urlencode),  # duplicates
    st.text(max_size=200),  # not form-encoded at all
    st.sampled_from(["", "=", "&&&", "%", "%zz", "a=%ff%fe", "type=&event=", "ssl_check=1"]),
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=15,
)
# JSON objects only: any other JSON under Content-Type application/json is a known gap below.
JSON_JUNK = st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=4).map(json.dumps)
COMMAND = command_body("help", response_url="http://127.0.0.1:9/response/x")
BODIES = st.one_of(FORM_JUNK, JSON_JUNK, st.just(COMMAND)).map(lambda s: s.encode("utf-8"))
NOT_JSON_TYPES = st.sampled_from(
    [FORM, "text/plain", "multipart/form-data; boundary=x", "", "\x01"]
)
CONTENT_TYPES = st.sampled_from(
    [FORM, "application/json", "text/plain", "multipart/form-data; boundary=x", "", "\x01"]
)
# Whole numbers only: a timestamp Python's int() refuses is one of the known gaps below.
BAD_TIMESTAMPS = st.one_of(
    st.sampled_from(["0", "-1", "00", "99999999999999999999", "-99999999999999999999"]),
    st.sampled_from([-301, -86_400, 330, 10**9, -(10**12)]).map(
        lambda delta: str(int(time.time()) + delta)
    ),
    st.integers().map(str),
)


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


@st.composite
def unsigned(draw: st.DrawFn) -> tuple[bytes, Headers]:
    """A body and headers whose signature is missing, junk, stale, for another body, or
    buried in duplicates."""
    body = draw(BODIES)
    text = body.decode()
    headers: Headers = []
    json_body = _is_json_object(text)
    if content_type := draw(CONTENT_TYPES if json_body else NOT_JSON_TYPES):
        headers.append(("Content-Type", content_type))
    fresh = str(int(time.time()))
    flaw = draw(
        st.sampled_from(
            [
                "missing both",
                "missing signature",
                "missing timestamp",
                "junk signature",
                "bad timestamp",
                "wrong secret",
                "other body",
                "duplicated",
                "version",
            ]
        )
    )
    ts = draw(BAD_TIMESTAMPS) if flaw == "bad timestamp" else fresh
    good = signature(text, secret=SIGNING_SECRET, timestamp=int(ts))
    sig = {
        "junk signature": draw(st.one_of(HEADER_TEXT, st.just("v0=" + "0" * 64))),
        "wrong secret": signature(text, secret="forged", timestamp=int(fresh)),
        "other body": signature(text + "&x=1", secret=SIGNING_SECRET, timestamp=int(fresh)),
        "version": good.replace("v0=", draw(st.sampled_from(["v1=", "V0=", "", "v0"]))),
    }.get(flaw, good)
    if flaw not in ("missing both", "missing timestamp"):
        headers.append(("X-Slack-Request-Timestamp", ts))
    if flaw not in ("missing both", "missing signature"):
        headers.append(("X-Slack-Signature", sig))
    if flaw == "duplicated":
        headers.append(
            draw(
                st.sampled_from(
                    [
                        ("X-Slack-Signature", sig),
                        ("X-Slack-Signature", "v0=0"),
                    ]
                )
            )
        )
    return body, draw(st.permutations(headers))


def signed(text: str, *, timestamp: int | None = None, content_type: str = FORM) -> Headers:
    ts = int(time.time()) if timestamp is None else timestamp
    return [
        ("Content-Type", content_type),
        ("X-Slack-Request-Timestamp", str(ts)),
        ("X-Slack-Signature", signature(text, secret=SIGNING_SECRET, timestamp=ts)),
    ]


# -- unsigned: 401, nothing touched -----------------------------------------------------------


@FUZZ
@given(request=unsigned())
@example(request=(COMMAND.encode(), []))
@example(request=(COMMAND.encode(), [("X-Slack-Signature", "v0=")]))
@example(request=(COMMAND.encode(), [("X-Slack-Request-Timestamp", str(10**10))]))
def test_anything_not_correctly_signed_gets_401_and_touches_nothing(bot: Bot, request):
    body, headers = request
    before = bot.touched()
    status, answer = bot.send("POST", EVENTS_PATH, body, headers)
    # Slack's unsigned SSL check (`ssl_check=1`) gets Bolt's empty 200, and nothing else.
    expected = 200 if ("ssl_check", "1") in parse_qsl(body.decode()) else 401
    assert status == expected, (status, answer[:200])
    assert bot.touched() == before


@pytest.mark.parametrize(
    "stamp",
    [-330, 330, -86_400 * 365, 86_400 * 365],
    ids=["stale", "future", "a-year-old", "a-year-ahead"],
)
def test_a_correct_signature_out_of_its_five_minutes_gets_401(bot: Bot, stamp: int):
    body = command_body("help", response_url=bot.fake.response_url())
    before = bot.touched()
    headers = signed(body, timestamp=int(time.time()) + stamp)
    status, _ = bot.send("POST", EVENTS_PATH, body.encode(), headers)
    assert status == 401
    assert bot.touched() == before


@pytest.mark.parametrize("signed_too", [False, True], ids=["unsigned", "signed"])
def test_a_body_over_the_limit_gets_413_unread(bot: Bot, signed_too: bool):
    text = "x" * (MAX_BODY_BYTES + 1)
    body = command_body(text, response_url=bot.fake.response_url())
    headers = signed(body) if signed_too else [("Content-Type", FORM)]
    before = bot.touched()
    status, _ = bot.send("POST", EVENTS_PATH, body.encode(), headers)
    assert status == 413
    assert bot.touched() == before


def test_a_content_length_shorter_than_the_body_cuts_the_signed_bytes(bot: Bot):
    body = command_body("help", response_url=bot.fake.response_url())
    headers = [*signed(body), ("Content-Length", str(len(body) - 5))]
    before = bot.touched()
    status, _ = bot.send("POST", EVENTS_PATH, body.encode(), headers)
    assert status == 401
    assert bot.touched() == before


# -- signed but wrong: a 4xx or an answer, never a 5xx ----------------------------------------

RESPONSE_URL = "response"  # replaced by the fake's response_url in the test


@st.composite
def signed_payloads(draw: st.DrawFn) -> tuple[str, str]:
    """A correctly signed body of the wrong shape; (body, content type)."""
    kind = draw(st.sampled_from(["form", "form", "command fields", "json"]))
    if kind == "json":
        return draw(JSON_JUNK), draw(st.sampled_from(["application/json", FORM]))
    if kind == "form":
        return draw(FORM_JUNK), draw(st.sampled_from([FORM, FORM, "text/plain"]))
    fields = {
        "team_id": draw(st.sampled_from(["T0FAKE", "", "T" * 300])),
        "channel_id": draw(st.sampled_from(["C0GENERAL", "", "CNOTFOUND", "\u00e9"])),
        "user_id": draw(st.sampled_from(["U0ALICE", "", "W1"])),
        "command": draw(
            st.sampled_from(
                ["/engagement", "/ENGAGEMENT", "/other", "", "engagement", "/engagement "]
            )
        ),
        "text": draw(
            st.one_of(st.sampled_from(["help", "", "topp", "tracked"]), st.text(max_size=40))
        ),
        "response_url": draw(st.sampled_from([RESPONSE_URL, "", "not a url", "ftp://x"])),
        "trigger_id": "1.2.3",
        "api_app_id": "A0ENGAGE",
    }
    dropped = draw(st.sets(st.sampled_from(sorted(fields)), max_size=4))
    return urlencode({k: v for k, v in fields.items() if k not in dropped}), FORM


@settings(FUZZ, max_examples=150)
@given(payload=signed_payloads())
@example(payload=(urlencode({"command": "/engagement", "text": "help"}), FORM))  # no response_url
@example(payload=(urlencode({"command": "/engagement", "response_url": RESPONSE_URL}), FORM))
@example(
    payload=(urlencode({"command": "/other", "text": "help", "response_url": RESPONSE_URL}), FORM)
)
@example(payload=('{"type": "url_verification", "challenge": "abc"}', "application/json"))
@example(payload=("ssl_check=1&token=x", FORM))
def test_a_signed_payload_of_the_wrong_shape_gets_a_4xx_or_an_answer(bot: Bot, payload):
    text, content_type = payload
    text = text.replace(RESPONSE_URL, bot.fake.response_url("fuzz"), 1)
    before_responses = len(bot.fake.responses())
    status, answer = bot.send(
        "POST", EVENTS_PATH, text.encode(), signed(text, content_type=content_type)
    )
    assert status < 500, (status, answer[:200])
    assert status in (200, 400, 404), (status, answer[:200])
    for reply in bot.fake.responses()[before_responses:]:
        assert "Traceback" not in json.dumps(reply)
    api = {c.method for c in bot.fake.api_calls()}
    assert api <= {"conversations.info", "chat.postEphemeral", "users.info"}, api


@settings(FUZZ, max_examples=60)
@given(
    method=st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "POST", "FOO"]),
    path=st.one_of(
        st.sampled_from(
            [
                EVENTS_PATH,
                EVENTS_PATH + "/",
                "/slack/events?x=1",
                "/",
                "/healthz",
                "/x/oauth/callback",
                "/x/connect/abc",
                "//slack/events",
                "/slack/../slack/events",
                "/%00",
                "/" + "a" * 5000,
            ]
        ),
        st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60).map(
            lambda p: "/" + p
        ),
    ),
)
def test_other_methods_and_paths_never_get_a_5xx(bot: Bot, method: str, path: str):
    before = bot.touched()
    status, _ = bot.send(method, path, b"", [("Content-Type", FORM)])
    assert status < 500
    if path.partition("?")[0] == EVENTS_PATH:
        assert status in (401, 405)
    assert bot.touched() == before


# Requests Bolt's own check could not even read: they are refused before Bolt sees them.
ATTACKER = "attacker"


def _malformed(response_url: str) -> dict[str, tuple[bytes, Headers]]:
    body = command_body("help", response_url=response_url).encode()
    now = str(int(time.time()))
    good = signature(body.decode(), secret=SIGNING_SECRET, timestamp=int(now))
    form = ("Content-Type", FORM)
    cases = [
        ("non-ascii signature", body, [form, ("X-Slack-Request-Timestamp", now),
                                       ("X-Slack-Signature", "v0=\u00e9")]),
        ("empty timestamp", body, [form, ("X-Slack-Request-Timestamp", ""),
                                   ("X-Slack-Signature", "v0=")]),
        ("float timestamp", body, [form, ("X-Slack-Request-Timestamp", "1e10"),
                                   ("X-Slack-Signature", "v0=")]),
        ("duplicated timestamp", body, [form, ("X-Slack-Request-Timestamp", now),
                                        ("X-Slack-Request-Timestamp", now),
                                        ("X-Slack-Signature", good)]),
        ("not utf-8", b"\xff\xfe", [form]),
        ("json, not an object", b"[]", [("Content-Type", "application/json")]),
        ("not json", b"not json", [("Content-Type", "application/json")]),
        ("payload not an object", b"payload=null", [form]),
        ("payload cut", b"payload=%7B", [form]),
    ]  # fmt: skip
    return {name: (raw, headers) for name, raw, headers in cases}


@pytest.mark.parametrize("case", list(_malformed("http://127.0.0.1:9/")))
def test_a_request_bolt_could_not_verify_gets_401_and_no_reply_anywhere(bot: Bot, case: str):
    body, headers = _malformed(bot.fake.response_url(ATTACKER))[case]
    before = bot.touched()
    status, _ = bot.send("POST", EVENTS_PATH, body, headers)
    assert status == 401
    assert bot.touched() == before  # above all, nothing sent to the response_url it names


@pytest.mark.parametrize("length", ["abc", "-1", "1.5", "+3"])
def test_a_content_length_that_is_not_a_byte_count_gets_400(bot: Bot, length: str):
    before = bot.touched()
    status, _ = bot.send(
        "POST", EVENTS_PATH, b"", [("Content-Type", FORM), ("Content-Length", length)]
    )
    assert status == 400
    assert bot.touched() == before
