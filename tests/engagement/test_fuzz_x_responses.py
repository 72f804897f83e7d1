"""Fuzzing what X (or anything pretending to be X) sends back.

A loopback stub answers every route with a Hypothesis-made reply: malformed JSON, JSON of the
wrong shape or types, gzip that is not, wrong content types, any status, huge bodies and gzip
bombs. HttpEngagementClient must turn each into a result or one of bot/errors.py's
EngagementAPIError family with a short, secret-free message; the engagement service above it
must keep the store's rows as they were when X failed, and never store a Post nobody asked for.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from bot.app import build_service
from bot.engagement.http_client import HttpEngagementClient, bodies
from bot.engagement.models import (
    APP_ONLY,
    DAILY,
    Endpoint,
    EngagementRequest,
    EngagementResult,
    PostLookup,
    PostPage,
    RequestToken,
    UserAuth,
    UserLookup,
)
from bot.errors import EngagementAPIError, UnexpectedResponse
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.clocks import FakeClock

CONSUMER_SECRET = "fuzz-consumer-secret-9f3a"
TOKEN_SECRET = "fuzz-token-secret-77c1"
BEARER = "fuzz-bearer-AAAA1234"
USER = UserAuth("42-fuzz-access-token", TOKEN_SECRET)
SECRETS = (CONSUMER_SECRET, TOKEN_SECRET, BEARER, USER.access_token)
MAX_MESSAGE = 500  # "short": one line a person can read in a Slack reply or a log
NOW = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
POSTS = ("1800000000000000001", "1800000000000000002")
TOTALS = EngagementRequest(Endpoint.TOTALS, POSTS, ("favorites", "retweets"), auth=USER)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- the stub far side -----------------------------------------------------------------------------


class Reply:
    """One HTTP reply as bytes on the wire (always `Connection: close`). A plain class, so
    Hypothesis prints a failing example through the short __repr__ below."""

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"{}",
        content_type: str | None = "application/json",
        encoding: str | None = None,  # Content-Encoding header, whatever the body really is
        chunked: bool = False,  # no Content-Length: chunked transfer encoding
    ) -> None:
        self.status, self.body, self.content_type = status, body, content_type
        self.encoding, self.chunked = encoding, chunked

    def __repr__(self) -> str:
        body = self.body if len(self.body) < 200 else self.body[:200] + b"..."
        return (
            f"Reply({self.status}, {body!r}, content_type={self.content_type!r}, "
            f"encoding={self.encoding!r}, chunked={self.chunked})"
        )


Action = Callable[[BaseHTTPRequestHandler], None]


@dataclass(repr=False)
class Stub:
    url: str
    action: Action = field(default=lambda handler: send(handler, Reply()))
    routes: dict[str, Action] = field(default_factory=dict)
    sent: list[int] = field(default_factory=list)  # bytes each streamed reply got out
    paths: list[str] = field(default_factory=list)

    def __repr__(self) -> str:  # Hypothesis prints fixtures in failing examples
        return "stub"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _serve(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.partition("?")[0]
        self.server.stub.paths.append(path)
        self.server.stub.routes.get(path, self.server.stub.action)(self)
        self.close_connection = True

    do_GET = do_POST = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stub: Stub

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up on a huge body is what we want


def send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
    handler.send_response_only(reply.status)
    if reply.content_type is not None:
        handler.send_header("Content-Type", reply.content_type)
    if reply.encoding is not None:
        handler.send_header("Content-Encoding", reply.encoding)
    handler.send_header("Connection", "close")
    if reply.chunked:
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        if reply.body:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(reply.body), reply.body))
        handler.wfile.write(b"0\r\n\r\n")
    else:
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        handler.wfile.write(reply.body)


def streamed(
    head: bytes, chunk: bytes, total: int, *, encoding: str | None = None, chunked: bool = True
) -> Action:
    """`head`, then `chunk` repeated until `total` bytes: a body produced on the fly."""

    def act(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response_only(200)
        handler.send_header("Content-Type", "application/json")
        if encoding is not None:
            handler.send_header("Content-Encoding", encoding)
        handler.send_header("Connection", "close")
        if chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", str(total))
        handler.end_headers()
        out = 0
        stub = handler.server.stub  # type: ignore[attr-defined]
        try:
            for piece in _pieces(head, chunk, total):
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                out += len(piece)
            if chunked:
                handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # the client hung up: good
        finally:
            stub.sent.append(out)

    return act


def _pieces(head: bytes, chunk: bytes, total: int) -> Iterator[bytes]:
    yield head
    left = total - len(head)
    while left > 0:
        piece = chunk[:left]
        left -= len(piece)
        yield piece


@pytest.fixture(scope="module")
def stub() -> Iterator[Stub]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.stub = Stub(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.stub
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(stub: Stub) -> Iterator[HttpEngagementClient]:
    stub.routes.clear()
    stub.sent.clear()
    with HttpEngagementClient(
        consumer_key="fuzz-consumer-key",
        consumer_secret=CONSUMER_SECRET,
        engagement_base_url=stub.url,
        oauth_base_url=stub.url,
        bearer_token=BEARER,
        connect_timeout=5,
        read_timeout=20,
    ) as made:
        yield made


# -- what X might say --------------------------------------------------------------------------

KEYS = st.one_of(
    st.sampled_from(
        [*POSTS, "favorites", "retweets", "impressions", "per_post", "errors", "data", "0"]
    ),
    st.text(max_size=6),
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["7", "-3", " 12 ", "1e3", "0x10", "٣", "9" * 30, "rate limit exceeded"]),
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=25,
)
COUNTS = st.one_of(
    st.integers(0, 10**6),
    st.integers(0, 10**6).map(str),
    LEAVES,
    st.lists(LEAVES, max_size=2),
    st.dictionaries(KEYS, LEAVES, max_size=2),
)


@st.composite
def totals_shaped(draw: st.DrawFn) -> object:
    """A per_post body, mutated: wrong types, missing metrics, unknown Posts, extra keys."""
    ids = draw(st.lists(st.sampled_from([*POSTS, "999", "abc", ""]), max_size=4, unique=True))
    metrics = st.sampled_from(["favorites", "retweets", "impressions", "FAVORITES", "x"])
    per_post: object = {
        post_id: draw(st.dictionaries(metrics, COUNTS, max_size=3)) for post_id in ids
    }
    if draw(st.booleans()):
        per_post = draw(st.one_of(JSON, st.just(per_post)))
    body: dict[str, object] = {"per_post": per_post}
    extras = draw(
        st.dictionaries(
            st.sampled_from(
                ["errors", "start", "end", "unavailable_tweet_ids", "unknown", "per_post_2"]
            ),
            JSON,
            max_size=3,
        )
    )
    return body | extras


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


JSON_BYTES = st.one_of(
    JSON.map(lambda v: json.dumps(v).encode()),
    totals_shaped().map(lambda v: json.dumps(v).encode()),
)
BODIES = st.one_of(
    JSON_BYTES,
    JSON_BYTES.flatmap(lambda raw: st.integers(0, len(raw)).map(lambda n: raw[:n])),  # truncated
    st.binary(max_size=300),
    st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(
        [
            b"",
            b"null",
            b"<html><body>502 Bad Gateway</body></html>",
            b"\x1f\x8b\x08\x00garbage",  # looks like gzip, is not
            b'{"per_post": NaN}',
            b'{"per_post": {"1800000000000000001": {"favorites": 1e999}}}',
            b"\xef\xbb\xbf{}",  # a BOM
            _deep(50_000),  # deeper than json's recursion limit
            b'{"errors": ["' + b"x" * 100_000 + b'"]}',  # a novel of an error
        ]
    ),
)
STATUSES = st.one_of(
    st.sampled_from([200, 200, 200, 400, 401, 403, 404, 406, 429, 500, 502, 503]),
    st.integers(200, 599),
)
CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/html",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        None,
    ]
)


@st.composite
def replies(draw: st.DrawFn) -> Reply:
    body = draw(BODIES)
    encoding = None
    wrapping = draw(st.sampled_from(["plain", "plain", "gzip", "gzip-unannounced", "fake-gzip"]))
    if wrapping == "gzip":
        body, encoding = gzip.compress(body), "gzip"
    elif wrapping == "gzip-unannounced":
        body = gzip.compress(body)
    elif wrapping == "fake-gzip":
        encoding = draw(st.sampled_from(["gzip", "deflate", "br", "x-unknown"]))
    return Reply(
        status=draw(STATUSES),
        body=body,
        content_type=draw(CONTENT_TYPES),
        encoding=encoding,
        chunked=draw(st.booleans()),
    )


# Replies X could plausibly send: a 200 of the right overall shape with odd insides.
PLAUSIBLE = totals_shaped().map(lambda body: Reply(200, json.dumps(body).encode()))
ANY_REPLY = st.one_of(replies(), PLAUSIBLE)


def assert_clear(error: EngagementAPIError) -> None:
    """Short, one of ours, and free of any credential."""
    text = str(error)
    assert text.strip()
    assert len(text) <= MAX_MESSAGE, text[:200]
    for secret in SECRETS:
        assert secret not in text
        assert secret not in repr(error)
    assert "Traceback" not in text


def outcome(call: Callable[[], object]) -> object:
    """The call's result, or the EngagementAPIError it raised (anything else fails the test)."""
    try:
        return call()
    except EngagementAPIError as error:
        assert_clear(error)
        return error


# -- the client ------------------------------------------------------------------------------------


@FUZZ
@given(reply=ANY_REPLY)
@example(
    reply=Reply(200, b'{"per_post": {"1800000000000000001": {"favorites": "9' + b"9" * 30 + b'"}}}')
)
@example(reply=Reply(200, _deep(50_000)))
@example(reply=Reply(200, gzip.compress(b"{" * 10)))
@example(reply=Reply(200, b"{}", encoding="gzip"))
@example(reply=Reply(500, b'{"errors": ["' + b"y" * 50_000 + b'"]}'))
@example(reply=Reply(200, b'{"per_post": {}, "start": "0001-01-01T00:00:00+01:00"}'))
def test_fetch_answers_a_result_or_a_clear_error(
    stub: Stub, client: HttpEngagementClient, reply: Reply
):
    stub.action = lambda handler: send(handler, reply)
    got = outcome(lambda: client.fetch(TOTALS))
    event(type(got).__name__)
    if isinstance(got, EngagementResult):
        assert 200 <= reply.status < 300
        for post_id in POSTS:
            for metric in TOTALS.metrics:
                value = got.value(post_id, metric)
                assert value is None or isinstance(value, int)
    else:
        assert isinstance(got, EngagementAPIError)
        assert got.endpoint == "totals"


@FUZZ
@given(reply=replies())
@example(reply=Reply(200, b"oauth_token=t", content_type="text/plain"))  # no secret
@example(reply=Reply(200, b'{"oauth_token": "t", "oauth_token_secret": 5}'))  # JSON fallback
@example(reply=Reply(200, b"[1, 2]"))
@example(reply=Reply(200, _deep(50_000)))
@example(reply=Reply(200, b'{"data": {"id": "1", "username": "' + b"u" * 100_000 + b'"}}'))
def test_v2_and_token_routes_answer_a_result_or_a_clear_error(stub: Stub, reply: Reply):
    """Post lookup, a user's Posts, a handle, the app-only token and the OAuth token steps."""
    stub.action = lambda handler: send(handler, reply)
    with HttpEngagementClient(
        consumer_key="fuzz-consumer-key",
        consumer_secret=CONSUMER_SECRET,
        engagement_base_url=stub.url,
        oauth_base_url=stub.url,
        read_timeout=20,
    ) as client:
        calls: list[tuple[Callable[[], object], type | tuple[type, ...]]] = [
            (lambda: client.lookup_posts(POSTS, auth=USER), PostLookup),
            (lambda: client.user_posts("42", auth=USER), PostPage),
            (lambda: client.user_by_username("@sim_brand", auth=USER), UserLookup),
            (client.bearer_token, str),
            (lambda: client.request_token("http://127.0.0.1/x/oauth/callback"), RequestToken),
            (lambda: client.access_token("req-token", "req-secret", "verifier"), tuple),
        ]
        for call, kind in calls:
            got = outcome(call)
            assert isinstance(got, kind | EngagementAPIError), (kind, got)


@FUZZ
@given(reply=replies())
def test_app_only_fetch_survives_any_token_reply(stub: Stub, reply: Reply):
    """The /oauth2/token reply is fuzzed; the data route itself is fine."""
    stub.action = lambda handler: send(handler, Reply(200, b'{"per_post": {}}'))
    stub.routes["/oauth2/token"] = lambda handler: send(handler, reply)
    request = EngagementRequest(Endpoint.TOTALS, POSTS, ("favorites",), auth=APP_ONLY)
    try:
        with HttpEngagementClient(
            consumer_key="fuzz-consumer-key",
            consumer_secret=CONSUMER_SECRET,
            engagement_base_url=stub.url,
            oauth_base_url=stub.url,
        ) as client:
            got = outcome(lambda: client.fetch(request))
    finally:
        stub.routes.clear()
    assert isinstance(got, EngagementResult | EngagementAPIError)


@pytest.mark.parametrize("day", ["9999-12-31", "2014-13-01"], ids=["year-9999", "month-13"])
def test_a_historical_day_at_the_end_of_the_calendar_is_a_clear_error(
    stub: Stub, client: HttpEngagementClient, day: str
):
    """The floor rule for pre-2015 public metrics computes each day's span."""
    request = EngagementRequest(
        Endpoint.HISTORICAL,
        POSTS[:1],
        ("favorites",),
        groupings=(DAILY,),
        start=datetime(2014, 9, 1, tzinfo=UTC),
        end=datetime(2014, 9, 20, tzinfo=UTC),
        auth=USER,
    )
    body = {"daily": {POSTS[0]: {"favorites": {day: "3"}}}}
    stub.action = lambda handler: send(handler, Reply(200, json.dumps(body).encode()))
    with pytest.raises(UnexpectedResponse) as caught:
        client.fetch(request)
    assert_clear(caught.value)


# -- huge bodies -----------------------------------------------------------------------------------

FIFTY_MB = 50 << 20
PAD = b" " * (64 << 10)
HEAD = b'{"per_post": {"1800000000000000001": {"favorites": "1"}}, "pad": "'


def _gzip_of_zeros(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    out = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join(out) + packer.flush()


BOMB = _gzip_of_zeros(FIFTY_MB)  # ~50 KB that inflates to 50 MB


def refused_for_size(client: HttpEngagementClient) -> UnexpectedResponse:
    """Refused, and not worth retrying: the same request would fetch the same flood."""
    tracemalloc.start()
    try:
        with pytest.raises(UnexpectedResponse) as caught:
            client.fetch(TOTALS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert_clear(caught.value)
    assert "larger than" in str(caught.value)
    assert not caught.value.retryable
    # Memory stays near the cap: the 50 MB are never all held, let alone twice.
    assert peak < bodies.MAX_BODY_BYTES + (12 << 20), peak
    return caught.value


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_50_mb_reply_is_refused_past_the_cap_not_read_to_the_end(
    stub: Stub, client: HttpEngagementClient, chunked: bool
):
    assert bodies.MAX_BODY_BYTES < FIFTY_MB
    stub.action = streamed(HEAD, PAD, FIFTY_MB, chunked=chunked)
    refused_for_size(client)
    deadline = time.monotonic() + 10
    while not stub.sent and time.monotonic() < deadline:  # the stub notices the hang-up
        threading.Event().wait(0.01)
    assert stub.sent
    assert stub.sent[0] < FIFTY_MB


@pytest.mark.parametrize("announced", [True, False], ids=["content-encoding", "unannounced"])
def test_a_gzip_bomb_is_refused_past_the_cap(
    stub: Stub, client: HttpEngagementClient, announced: bool
):
    reply = Reply(200, BOMB, encoding="gzip" if announced else None)
    stub.action = lambda handler: send(handler, reply)
    refused_for_size(client)


def test_a_reply_just_under_the_cap_is_still_read(
    stub: Stub, client: HttpEngagementClient, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(bodies, "MAX_BODY_BYTES", 1 << 20)
    body = HEAD + b" " * ((1 << 20) - len(HEAD) - 2) + b'"}'
    assert len(body) == 1 << 20
    stub.action = lambda handler: send(handler, Reply(200, body, chunked=True))
    assert client.fetch(TOTALS).value(POSTS[0], "favorites") == 1
    stub.action = lambda handler: send(handler, Reply(200, body + b" ", chunked=True))
    with pytest.raises(UnexpectedResponse, match="larger than 1 MB"):
        client.fetch(TOTALS)


# -- the service: X failing changes nothing it should not --------------------------------------


def rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted (the API-call log excepted: failed calls are logged)."""
    with sqlite3.connect(path) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name != "api_calls"
        ]
        return {t: sorted(map(tuple, db.execute(f"SELECT * FROM {t}")), key=repr) for t in tables}  # noqa: S608


class Recording(HttpEngagementClient):
    """The real client, counting the engagement replies it could use."""

    used = 0

    def fetch(self, request: EngagementRequest) -> EngagementResult:
        result = super().fetch(request)
        self.used += 1
        return result


VALID = {"per_post": {POSTS[0]: {"favorites": "5", "retweets": 2}, POSTS[1]: {"favorites": 9}}}


@pytest.fixture
def service_env(stub: Stub, tmp_path: Path) -> Iterator[tuple[Any, Recording, Path]]:
    path = tmp_path / "engagement.db"
    store = Store.open(path, cipher=TokenCipher.generate())
    clock = FakeClock()
    with Recording(
        consumer_key="fuzz-consumer-key",
        consumer_secret=CONSUMER_SECRET,
        engagement_base_url=stub.url,
        oauth_base_url=stub.url,
        bearer_token=BEARER,
    ) as client:
        service = build_service(
            client, store, max_workers=1, sleep=clock.sleep, monotonic=clock.monotonic
        )
        # Known Posts with a first snapshot, so a failure has something to spoil.
        stub.action = lambda handler: send(handler, Reply(200, json.dumps(VALID).encode()))
        service.refresh(POSTS, now=NOW)
        assert client.used == 1
        yield service, client, path
    store.close()


@settings(FUZZ, max_examples=60)
@given(reply=ANY_REPLY)
@example(reply=Reply(200, json.dumps({"per_post": {POSTS[0]: {"favorites": "9" * 25}}}).encode()))
@example(reply=Reply(200, json.dumps({"per_post": {"7": {"favorites": 1}}}).encode()))
def test_a_refresh_x_spoils_leaves_the_rows_and_stores_no_stranger(
    stub: Stub, service_env: tuple[Any, Recording, Path], reply: Reply
):
    service, client, path = service_env
    stub.action = lambda handler: send(handler, reply)
    before = rows(path)
    used = client.used
    report = service.refresh(POSTS, now=NOW)  # a reply X spoils is a gap, never an exception
    after = rows(path)
    event("refused" if client.used == used else "used")
    if client.used == used:  # X's reply was refused: nothing but the call log changes
        assert after == before
        assert report.totals == {} or all(
            value.count is None for values in report.totals.values() for value in values.values()
        )
    for table in ("totals", "refreshes"):
        assert {row[0] for row in after[table]} <= set(POSTS), table
    assert {row[0] for row in after["posts"]} == set(POSTS)
