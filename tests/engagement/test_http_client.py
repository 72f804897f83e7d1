"""HttpEngagementClient over real loopback HTTP.

Two far sides: a tiny `http.server` stub in this file for transport behaviour the simulator
does not produce on demand (hanging reads, bodies that are not gzip, exact headers), and the
simulator itself (bot/simulator/server.py) for everything docs/simulator.md describes. No mocks of
our own code, no sleeping.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest
import requests

from bot.engagement import wire
from bot.engagement.http_client import HttpEngagementClient
from bot.engagement.models import (
    APP_ONLY,
    DAILY,
    HOURLY,
    PER_POST,
    Endpoint,
    EngagementRequest,
    MissingReason,
    UserAuth,
)
from bot.errors import (
    AuthError,
    ForbiddenMetrics,
    ForbiddenPosts,
    ProtectedPosts,
    RateLimited,
    ServerError,
    TransportError,
    UnexpectedResponse,
)
from bot.simulator.server import RunningSimulator
from tests.support.simhttp import lifetime, live_posts, posts_of
from tests.support.universe import SIM_START

CONSUMER_KEY, CONSUMER_SECRET = "sim-consumer-key", "sim-consumer-secret"
BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
CREATOR = UserAuth("1000000002-simtoken-sim_creator", "simsecret-sim_creator")
PRIVATE = UserAuth("1000000003-simtoken-sim_private", "simsecret-sim_private")


# --- A stub far side -----------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case names
    body: bytes


Action = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Stub:
    url: str
    seen: list[Seen] = field(default_factory=list)
    routes: dict[str, Action] = field(default_factory=dict)  # path → action
    release: threading.Event = field(default_factory=threading.Event)

    def paths(self) -> list[str]:
        return [s.path for s in self.seen]


class _StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _StubServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path, _, query = self.path.partition("?")
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.stub.seen.append(Seen(self.command, path, query, headers, body))
        action = self.server.stub.routes.get(path, reply(404, {"errors": ["Not found"]}))
        action(self)

    do_GET = do_POST = _serve


class _StubServer(ThreadingHTTPServer):
    daemon_threads = True
    stub: Stub

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and hang-ups on purpose are not errors here


def reply(
    status: int, payload: Any, *, gzipped: bool = True, headers: dict[str, str] | None = None
) -> Action:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if gzipped:
        raw = gzip.compress(raw)

    def act(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response_only(status)  # no automatic Date: the tests choose it
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        if gzipped:
            handler.send_header("Content-Encoding", "gzip")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    return act


def raw_reply(head: bytes, body: bytes) -> Action:
    """Exact bytes on the wire, then hang up (for truncated and mislabelled bodies)."""

    def act(handler: BaseHTTPRequestHandler) -> None:
        handler.wfile.write(head + body)
        handler.close_connection = True

    return act


def reset_connection(handler: BaseHTTPRequestHandler) -> None:
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def hang(handler: BaseHTTPRequestHandler) -> None:
    assert isinstance(handler.server, _StubServer)
    handler.server.stub.release.wait(10)  # until the test ends; the client must give up first
    handler.close_connection = True


@pytest.fixture
def stub() -> Iterator[Stub]:
    server = _StubServer(("127.0.0.1", 0), _StubHandler)
    server.stub = Stub(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server.stub
    server.stub.release.set()
    server.shutdown()
    server.server_close()


ClientFactory = Callable[..., HttpEngagementClient]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    """Clients for a base URL, closed after the test."""
    made: list[HttpEngagementClient] = []

    def make(base_url: str, **options: Any) -> HttpEngagementClient:
        defaults: dict[str, Any] = {"engagement_base_url": base_url, "oauth_base_url": base_url}
        made.append(HttpEngagementClient(**(defaults | options)))
        return made[-1]

    yield make
    for client in made:
        client.close()


@pytest.fixture
def stub_client(stub: Stub, make_client: ClientFactory) -> ClientFactory:
    def make(**options: Any) -> HttpEngagementClient:
        credentials = {"consumer_key": "key", "consumer_secret": "consumer-secret"}
        return make_client(stub.url, **(credentials | options))

    return make


@pytest.fixture
def sim_client(sim: RunningSimulator, make_client: ClientFactory) -> ClientFactory:
    def make(**options: Any) -> HttpEngagementClient:
        credentials = {"consumer_key": CONSUMER_KEY, "consumer_secret": CONSUMER_SECRET}
        return make_client(sim.url, **(credentials | options))

    return make


TOTALS_BODY = {"per_post": {"20": {"favorites": "7", "retweets": 2}}}
TOTALS = EngagementRequest(Endpoint.TOTALS, ("020", "20"), ("favorites", "retweets"), auth=BRAND)
RATE_HEADERS = {
    "x-per-minute-limit": "60",
    "x-per-minute-remaining": "0",
    "x-per-minute-reset": "1795696260",
    "Date": "Thu, 26 Nov 2026 12:30:45 GMT",
}


def oauth_params(header: str) -> dict[str, str]:
    scheme, _, rest = header.partition(" ")
    assert scheme == "OAuth"
    pairs = (item.strip().split("=", 1) for item in rest.split(","))
    return {unquote(k): unquote(v.strip('"')) for k, v in pairs}


def expected_signature(seen: Seen, base_url: str, consumer_secret: str, token_secret: str) -> str:
    """RFC 5849 as docs/simulator.md#signature-checks applies it; the JSON body is not signed."""
    params = {k: v for k, v in oauth_params(seen.headers["authorization"]).items()}
    params.pop("oauth_signature")
    pairs = [(quote(k, safe="~"), quote(v, safe="~")) for k, v in params.items()]
    pairs += [(quote(k, safe="~"), quote(v, safe="~")) for k, v in parse_qsl(seen.query)]
    normalized = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    base = "&".join(quote(p, safe="~") for p in (seen.method, base_url + seen.path, normalized))
    key = f"{quote(consumer_secret, safe='~')}&{quote(token_secret, safe='~')}"
    digest = hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# --- Transport, against the stub -----------------------------------------------------------------


def test_fetch_sends_gzip_json_and_an_oauth_header_that_leaves_the_body_unsigned(
    stub: Stub, stub_client: ClientFactory
):
    stub.routes["/insights/engagement/totals"] = reply(200, TOTALS_BODY, headers=RATE_HEADERS)
    result = stub_client().fetch(TOTALS)
    (seen,) = stub.seen
    assert (seen.method, seen.path) == ("POST", "/insights/engagement/totals")
    assert "gzip" in seen.headers["accept-encoding"]
    assert seen.headers["content-type"] == "application/json"
    assert json.loads(seen.body) == wire.request_body(TOTALS)
    assert json.loads(seen.body)["tweet_ids"] == ["20"]
    params = oauth_params(seen.headers["authorization"])
    assert params["oauth_signature_method"] == "HMAC-SHA1"
    assert params["oauth_consumer_key"] == "key"
    assert params["oauth_token"] == BRAND.access_token
    assert "oauth_body_hash" not in params
    signature = expected_signature(seen, stub.url, "consumer-secret", BRAND.access_token_secret)
    assert params["oauth_signature"] == signature
    assert result.value("20", "favorites") == 7
    assert result.value("20", "retweets") == 2
    assert result.rate_limit.exhausted
    assert result.rate_limit.reset_at == 1795696260


def test_app_only_bearer_is_fetched_once_and_sent_exactly_as_issued(
    stub: Stub, stub_client: ClientFactory
):
    token = "AAAA%2FAAA%3DAAAAAAAA"
    stub.routes["/oauth2/token"] = reply(200, {"token_type": "bearer", "access_token": token})
    stub.routes["/insights/engagement/totals"] = reply(200, TOTALS_BODY)
    client = stub_client(consumer_key="key/with+odd", consumer_secret="s ecret=~")
    public = EngagementRequest(Endpoint.TOTALS, ("20",), ("favorites",), auth=APP_ONLY)
    client.fetch(public)
    client.fetch(public)
    assert stub.paths() == ["/oauth2/token", *["/insights/engagement/totals"] * 2]
    token_call = stub.seen[0]
    assert token_call.body == b"grant_type=client_credentials"
    assert token_call.headers["content-type"].startswith("application/x-www-form-urlencoded")
    scheme, _, encoded = token_call.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "key%2Fwith%2Bodd:s%20ecret%3D~"
    assert {s.headers["authorization"] for s in stub.seen[1:]} == {f"Bearer {token}"}


def test_a_preset_bearer_token_is_used_without_asking_for_one(
    stub: Stub, stub_client: ClientFactory
):
    stub.routes["/insights/engagement/totals"] = reply(200, TOTALS_BODY)
    client = stub_client(bearer_token="AAAA%3D")
    client.fetch(EngagementRequest(Endpoint.TOTALS, ("20",), ("favorites",)))
    assert stub.paths() == ["/insights/engagement/totals"]
    assert stub.seen[0].headers["authorization"] == "Bearer AAAA%3D"


def test_the_token_endpoint_refusing_the_app_is_an_auth_error(
    stub: Stub, stub_client: ClientFactory
):
    refusal = {
        "errors": [
            {
                "code": 99,
                "label": "authenticity_token_error",
                "message": "Unable to verify your credentials",
            }
        ]
    }
    stub.routes["/oauth2/token"] = reply(403, refusal, gzipped=False)
    with pytest.raises(AuthError) as caught:
        stub_client().fetch(EngagementRequest(Endpoint.TOTALS, ("20",), ("favorites",)))
    assert caught.value.reason == "Unable to verify your credentials"
    assert caught.value.endpoint == "oauth2/token"


def test_a_bearer_token_x_stops_accepting_is_fetched_again(stub: Stub, stub_client: ClientFactory):
    stub.routes["/oauth2/token"] = reply(200, {"token_type": "bearer", "access_token": "AAAA"})
    revoked = "Your account could not be authenticated. Reason: Bearer token not found"
    stub.routes["/insights/engagement/totals"] = reply(401, {"errors": [revoked]})
    client = stub_client()
    request = EngagementRequest(Endpoint.TOTALS, ("20",), ("favorites",))
    with pytest.raises(AuthError, match="Bearer token not found"):
        client.fetch(request)
    stub.routes["/insights/engagement/totals"] = reply(200, TOTALS_BODY)
    client.fetch(request)
    assert stub.paths().count("/oauth2/token") == 2


def test_the_read_timeout_is_passed_on_every_call(stub: Stub, stub_client: ClientFactory):
    stub.routes["/insights/engagement/totals"] = hang
    client = stub_client(read_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TransportError, match="did not answer in time") as caught:
        client.fetch(TOTALS)
    assert time.monotonic() - started < 5
    assert caught.value.retryable
    assert caught.value.status == 0


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(
            reply(200, b"this is not gzip", gzipped=False, headers={"Content-Encoding": "gzip"}),
            id="bad-gzip",
        ),
        pytest.param(reply(200, b'{"per_post": {"20": ', gzipped=True), id="bad-json"),
        pytest.param(reply(200, b"", gzipped=False), id="empty-200"),
        pytest.param(
            raw_reply(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\nConnection: close\r\n\r\n", b"{"),
            id="short-body",
        ),
        pytest.param(reset_connection, id="connection-reset"),
    ],
)
def test_unusable_responses_are_transport_errors(
    stub: Stub, action: Action, stub_client: ClientFactory
):
    stub.routes["/insights/engagement/totals"] = action
    with pytest.raises(TransportError) as caught:
        stub_client().fetch(TOTALS)
    assert caught.value.retryable
    assert caught.value.endpoint == "totals"


def test_a_bad_json_200_still_carries_the_rate_limit_state(stub: Stub, stub_client: ClientFactory):
    stub.routes["/insights/engagement/totals"] = reply(200, b"<html>", headers=RATE_HEADERS)
    with pytest.raises(TransportError) as caught:
        stub_client().fetch(TOTALS)
    assert caught.value.rate_limit is not None
    assert caught.value.rate_limit.remaining == 0


def test_gzip_the_headers_did_not_announce_is_still_read(stub: Stub, stub_client: ClientFactory):
    stub.routes["/insights/engagement/totals"] = reply(
        200, gzip.compress(json.dumps(TOTALS_BODY).encode()), gzipped=False
    )
    assert stub_client().fetch(TOTALS).value("20", "favorites") == 7


def test_a_proxy_error_page_is_a_server_error_with_rate_limits(
    stub: Stub, stub_client: ClientFactory
):
    stub.routes["/insights/engagement/totals"] = reply(
        502, b"<html>Proxy Error</html>", gzipped=False, headers=RATE_HEADERS
    )
    with pytest.raises(ServerError) as caught:
        stub_client().fetch(TOTALS)
    assert caught.value.status == 502
    assert caught.value.rate_limit is not None
    assert caught.value.rate_limit.limit == 60


def test_redirects_are_not_followed(stub: Stub, stub_client: ClientFactory):
    stub.routes["/insights/engagement/totals"] = reply(
        302, b"", gzipped=False, headers={"Location": "/login"}
    )
    with pytest.raises(UnexpectedResponse):
        stub_client().fetch(TOTALS)
    assert stub.paths() == ["/insights/engagement/totals"]


def test_429_carries_reset_and_wait_measured_by_the_date_header(
    stub: Stub, stub_client: ClientFactory
):
    stub.routes["/insights/engagement/totals"] = reply(
        429, {"errors": ["Exceeded rate limit"]}, headers=RATE_HEADERS
    )
    with pytest.raises(RateLimited) as caught:
        stub_client().fetch(TOTALS)
    assert caught.value.reset_at == 1795696260
    assert caught.value.retry_after == 15.0


def test_a_refused_connection_is_a_transport_error(make_client: ClientFactory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(f"http://127.0.0.1:{port}", consumer_key="k", consumer_secret="s")
    with pytest.raises(TransportError, match="connection refused"):
        client.fetch(TOTALS)


def test_invalid_requests_fail_before_any_io(stub: Stub, stub_client: ClientFactory):
    with pytest.raises(ValueError, match="invalid Post ID"):
        stub_client().fetch(EngagementRequest(Endpoint.TOTALS, ("Tweet ID 1",), ("favorites",)))
    with pytest.raises(ValueError, match="invalid X handle"):
        stub_client().user_by_username("not a handle")
    assert stub.seen == []


def test_one_log_line_per_call_and_no_secret_anywhere(
    stub: Stub, caplog: pytest.LogCaptureFixture, stub_client: ClientFactory
):
    stub.routes["/oauth2/token"] = reply(
        200, {"token_type": "bearer", "access_token": "AAAA-BEARER"}
    )
    stub.routes["/insights/engagement/totals"] = reply(200, TOTALS_BODY)
    stub.routes["/insights/engagement/28hr"] = reply(
        401, {"errors": ["Your account could not be authenticated. Reason: Invalid signature"]}
    )
    client = stub_client(consumer_secret="CONSUMER-SECRET")
    caplog.set_level(logging.DEBUG)
    client.fetch(TOTALS)
    client.fetch(EngagementRequest(Endpoint.TOTALS, ("20",), ("favorites",)))
    with pytest.raises(AuthError) as caught:
        client.fetch(EngagementRequest(Endpoint.HOURLY_28HR, ("20",), ("favorites",), auth=BRAND))
    ours = [r for r in caplog.records if r.name == "bot.engagement.http_client"]
    assert [r.getMessage().split()[2] for r in ours] == ["totals", "oauth2/token", "totals", "28hr"]
    assert "status=401" in ours[-1].getMessage()
    assert "ids=1" in ours[-1].getMessage()
    shown = caplog.text + str(caught.value) + repr(caught.value) + repr(client)
    signature = oauth_params(stub.seen[-1].headers["authorization"])["oauth_signature"]
    for secret in (
        BRAND.access_token,
        BRAND.access_token_secret,
        "CONSUMER-SECRET",
        "AAAA-BEARER",
        signature,
    ):
        assert secret not in shown
    assert "authorization" not in caplog.text.lower()


# --- Against the simulator -----------------------------------------------------------------------


def sim_get(sim: RunningSimulator, path: str) -> Any:
    response = requests.get(f"{sim.url}/_sim/{path}", timeout=10)
    response.raise_for_status()
    return response.json()


def sim_send(sim: RunningSimulator, method: str, path: str, body: Any) -> Any:
    response = requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def test_totals_for_owned_posts_match_the_simulators_ground_truth(
    sim: RunningSimulator, sim_client: ClientFactory
):
    ids = live_posts(sim, "sim_brand", 3)
    deleted = next(p["id"] for p in posts_of(sim, "sim_brand") if p["deleted"])
    request = EngagementRequest(
        Endpoint.TOTALS, (*ids, deleted), ("impressions", "favorites", "retweets"), auth=BRAND
    )
    result = sim_client().fetch(request)
    for post_id in ids:
        assert result.value(post_id, "impressions") == lifetime(sim, post_id, "impressions")
        assert result.value(post_id, "favorites") == lifetime(sim, post_id, "favorites")
    assert result.unavailable_ids == (deleted,)
    assert result.missing_reason(deleted, "favorites") is MissingReason.UNAVAILABLE
    assert result.errors == ("1 Tweet ID(s) are unavailable",)
    assert result.rate_limit.limit == 60
    assert result.rate_limit.remaining == 59
    assert result.rate_limit.date == SIM_START


def test_impressions_of_old_posts_come_back_missing(
    sim: RunningSimulator, sim_client: ClientFactory
):
    posts = sorted(posts_of(sim, "sim_brand"), key=lambda p: p["created_at"])
    old = next(p["id"] for p in posts if not p["deleted"])  # years old
    request = EngagementRequest(Endpoint.TOTALS, (old,), ("impressions", "favorites"), auth=BRAND)
    result = sim_client().fetch(request)
    assert result.value(old, "impressions") is None
    assert result.missing_reason(old, "impressions") is MissingReason.IMPRESSIONS_TOO_OLD
    assert result.value(old, "favorites") == lifetime(sim, old, "favorites")


def test_28hr_hourly_series(sim: RunningSimulator, sim_client: ClientFactory):
    ids = live_posts(sim, "sim_brand", 2)
    request = EngagementRequest(
        Endpoint.HOURLY_28HR,
        ids,
        ("impressions", "engagements"),
        auth=BRAND,
        groupings=(HOURLY, PER_POST),
    )
    result = sim_client().fetch(request)
    assert result.end == SIM_START.replace(minute=0) + timedelta(hours=1)
    for post_id in ids:
        hourly = result.hourly(post_id, "impressions")
        assert len(hourly) == 29
        assert all(count is not None and count >= 0 for count in hourly.values())
        assert sum(c for c in hourly.values() if c is not None) == result.value(
            post_id, "impressions"
        )
        assert result.value(post_id, "impressions") == lifetime(sim, post_id, "impressions")


def test_historical_daily_window(sim: RunningSimulator, sim_client: ClientFactory):
    post = next(
        p for p in posts_of(sim, "sim_brand") if p["created_at"] < "2026-11-01" and not p["deleted"]
    )
    end = datetime(2026, 11, 26, tzinfo=UTC)
    request = EngagementRequest(
        Endpoint.HISTORICAL,
        (post["id"],),
        ("impressions", "favorites"),
        auth=BRAND,
        groupings=(DAILY, PER_POST),
        start=end - timedelta(days=28),
        end=end,
    )
    result = sim_client().fetch(request)
    assert (result.start, result.end) == (end - timedelta(days=28), end)
    daily = result.daily(post["id"], "impressions")
    assert len(daily) == 28
    assert sum(v or 0 for v in daily.values()) == result.value(post["id"], "impressions")


def test_bearer_is_fetched_once_and_reused_for_public_metrics(
    sim: RunningSimulator, sim_client: ClientFactory
):
    client = sim_client()
    other = live_posts(sim, "sim_creator", 2)
    request = EngagementRequest(Endpoint.TOTALS, other, ("favorites", "quote_tweets"))
    first = client.fetch(request)
    token = client.bearer_token()
    second = client.fetch(request)
    assert client.bearer_token() == token
    assert token.endswith("%3D")  # sent as issued, percent-encoding and all
    assert first.value(other[0], "favorites") == second.value(other[0], "favorites")
    log = sim_get(sim, "requests")["requests"]
    assert [entry["auth_mode"] for entry in log] == ["app-only", "app-only"]


def test_a_wrong_token_secret_fails_the_signature_check(
    sim: RunningSimulator, sim_client: ClientFactory
):
    forged = UserAuth(BRAND.access_token, "not-the-secret")
    request = EngagementRequest(
        Endpoint.TOTALS, live_posts(sim, "sim_brand", 1), ("favorites",), auth=forged
    )
    with pytest.raises(AuthError) as caught:
        sim_client().fetch(request)
    assert caught.value.reason == "Invalid signature"


def test_app_not_enabled_for_the_engagement_api(sim: RunningSimulator, sim_client: ClientFactory):
    client = sim_client(
        consumer_key="sim-disabled-consumer-key",
        consumer_secret="sim-disabled-consumer-secret",
    )
    request = EngagementRequest(Endpoint.TOTALS, live_posts(sim, "sim_brand", 1), ("favorites",))
    with pytest.raises(AuthError) as caught:
        client.fetch(request)
    assert caught.value.app_not_authorized


def test_a_wrong_consumer_secret_cannot_get_a_bearer_token(
    sim: RunningSimulator, sim_client: ClientFactory
):
    client = sim_client(consumer_secret="wrong")
    with pytest.raises(AuthError) as caught:
        client.bearer_token()
    assert caught.value.codes == [99]


@pytest.mark.parametrize("forbidden_format", ["documented", "per-author"])
def test_a_foreign_post_is_forbidden_with_its_id(
    sim: RunningSimulator, forbidden_format: str, sim_client: ClientFactory
):
    sim_send(sim, "PUT", "options", {"forbidden_format": forbidden_format})
    mine = live_posts(sim, "sim_brand", 2)
    theirs = live_posts(sim, "sim_creator", 1)
    request = EngagementRequest(
        Endpoint.HOURLY_28HR, (*mine, *theirs), ("impressions",), auth=BRAND
    )
    with pytest.raises(ForbiddenPosts) as caught:
        sim_client().fetch(request)
    assert caught.value.post_ids == list(theirs)
    assert caught.value.status == 403


def test_a_protected_post_rejects_the_batch(sim: RunningSimulator, sim_client: ClientFactory):
    request = EngagementRequest(
        Endpoint.TOTALS, live_posts(sim, "sim_private", 2), ("favorites",), auth=PRIVATE
    )
    with pytest.raises(ProtectedPosts):
        sim_client().fetch(request)


def test_app_only_may_not_read_private_metrics(sim: RunningSimulator, sim_client: ClientFactory):
    request = EngagementRequest(
        Endpoint.TOTALS, live_posts(sim, "sim_brand", 1), ("impressions", "favorites")
    )
    with pytest.raises(ForbiddenMetrics) as caught:
        sim_client().fetch(request)
    assert caught.value.metrics == ["impressions"]


def test_rate_limiting_reports_the_reset(sim: RunningSimulator, sim_client: ClientFactory):
    sim_send(sim, "PUT", "rate-limits", {"default": {"totals": 1}})
    client = sim_client()
    request = EngagementRequest(
        Endpoint.TOTALS, live_posts(sim, "sim_brand", 1), ("favorites",), auth=BRAND
    )
    first = client.fetch(request)
    assert first.rate_limit.exhausted
    with pytest.raises(RateLimited) as caught:
        client.fetch(request)
    next_minute = int((SIM_START.replace(second=0) + timedelta(minutes=1)).timestamp())
    assert caught.value.reset_at == next_minute == first.rate_limit.reset_at
    assert caught.value.retry_after == next_minute - SIM_START.timestamp()
    assert caught.value.rate_limit is not None
    assert caught.value.rate_limit.remaining == 0


def test_injected_faults_map_to_their_exceptions(sim: RunningSimulator, sim_client: ClientFactory):
    sim_send(sim, "PUT", "faults", {"queue": ["503", "reset", "truncate", "429", "ok"]})
    client = sim_client()
    request = EngagementRequest(
        Endpoint.TOTALS, live_posts(sim, "sim_brand", 1), ("favorites",), auth=BRAND
    )
    for expected in (ServerError, TransportError, TransportError, RateLimited):
        with pytest.raises(expected):
            client.fetch(request)
    assert client.fetch(request).value(request.post_ids[0], "favorites") is not None


def test_connecting_an_account_end_to_end(
    sim: RunningSimulator, sim_client: ClientFactory, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    client = sim_client()
    token, secret = client.request_token("http://127.0.0.1:9999/cb")
    approval = requests.get(
        client.authorize_url(token) + "&sim_approve=sim_newcomer", allow_redirects=False, timeout=10
    )
    query = dict(parse_qsl(urlsplit(approval.headers["Location"]).query))
    assert query["oauth_token"] == token
    grant = client.access_token(token, secret, query["oauth_verifier"])
    assert (grant.user_id, grant.screen_name) == ("1000000004", "sim_newcomer")
    assert grant.access_token.startswith("1000000004-")
    post = live_posts(sim, "sim_newcomer", 1)
    result = client.fetch(
        EngagementRequest(Endpoint.HOURLY_28HR, post, ("impressions",), auth=grant.auth)
    )
    assert result.value(post[0], "impressions") is not None
    ours = [r.getMessage() for r in caplog.records if r.name == "bot.engagement.http_client"]
    assert [m.split()[2] for m in ours] == ["oauth/request_token", "oauth/access_token", "28hr"]
    client_side = [r for r in caplog.records if not r.name.startswith("bot.simulator")]
    text = "\n".join(r.getMessage() for r in client_side)
    for hidden in (secret, grant.access_token, grant.access_token_secret, CONSUMER_SECRET):
        assert hidden not in text


def test_a_used_request_token_is_refused(sim: RunningSimulator, sim_client: ClientFactory):
    client = sim_client()
    token, secret = client.request_token("oob")
    with pytest.raises(AuthError) as caught:
        client.access_token(token, secret, "0000000")
    assert caught.value.codes == [89]


def test_v2_discovery(sim: RunningSimulator, sim_client: ClientFactory):
    client = sim_client()
    ids = live_posts(sim, "sim_brand", 2)
    deleted = next(p["id"] for p in posts_of(sim, "sim_brand") if p["deleted"])
    lookup = client.lookup_posts([*ids, deleted])
    assert [p.id for p in lookup.posts] == list(ids)
    assert {p.author_username for p in lookup.posts} == {"sim_brand"}
    assert deleted in lookup.unavailable
    assert lookup.rate_limit.window_seconds == 900
    user = client.user_by_username("@sim_brand").user
    assert user is not None
    assert user.id == "1000000001"
    assert client.user_by_username("nobody_here").user is None
    page = client.user_posts(user.id, since_id=ids[1], max_results=5)
    assert [p.id for p in page.posts] == [ids[0]]
    assert page.next_token is None
