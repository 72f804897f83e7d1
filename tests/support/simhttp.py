"""Raw HTTP calls to the simulator, signed by requests-oauthlib: the far side's view of a client.

Tests of the simulator use these instead of our client so that every validation error can be
sent on purpose; tests of the client use the client (`x_client`, the one way tests build it).
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from requests_oauthlib import OAuth1

from bot.engagement.http_client import HttpEngagementClient
from bot.simulator.server import RunningSimulator

CONSUMER = ("sim-consumer-key", "sim-consumer-secret")
BRAND = ("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
CREATOR = ("1000000002-simtoken-sim_creator", "simsecret-sim_creator")


# The loggers in which oauthlib and requests-oauthlib print the keys they sign with, at DEBUG.
_SIGNING_LOGGERS = (
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
    "requests_oauthlib.oauth1_auth",
)
_signing = threading.local()


class _WhileTestsSign(logging.Filter):
    """Drops the signing libraries' records made on a thread while a test's raw call signs.
    Per thread, so a concurrent test call never hides a record our client makes (its own
    filter, bot/engagement/http_client/auth.py, stays under test), and no logger level is
    changed under another thread's feet."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_signing, "active", False)


for _name in _SIGNING_LOGGERS:
    logging.getLogger(_name).addFilter(_WhileTestsSign())


@contextmanager
def quiet_signing() -> Iterator[None]:
    """The libraries' signing records on this thread are dropped while the block runs, so a
    test run alone passes the no-credential-in-logs check."""
    before = getattr(_signing, "active", False)
    _signing.active = True
    try:
        yield
    finally:
        _signing.active = before


class _QuietOAuth1(OAuth1):
    """requests-oauthlib's OAuth1, signing quietly wherever a test passes it to requests."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with quiet_signing():
            return super().__call__(request)


@dataclass
class Reply:
    status: int
    headers: requests.structures.CaseInsensitiveDict[str]
    raw: bytes  # the body as sent on the wire (gzipped or not)

    @property
    def json(self) -> Any:
        body = self.raw
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return json.loads(body)

    @property
    def errors(self) -> list[Any]:
        errors: list[Any] = self.json["errors"]
        return errors


def oauth(token: tuple[str, str] | None = BRAND, consumer: tuple[str, str] = CONSUMER) -> OAuth1:
    key, secret = token if token else (None, None)
    return _QuietOAuth1(consumer[0], consumer[1], key, secret, signature_type="AUTH_HEADER")


def bearer(sim: RunningSimulator, consumer: tuple[str, str] = CONSUMER) -> str:
    reply = requests.post(
        sim.url + "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=consumer,
        timeout=10,
    )
    reply.raise_for_status()
    token: str = reply.json()["access_token"]
    return token


def call(
    sim: RunningSimulator,
    endpoint: str,
    body: Any,
    *,
    auth: OAuth1 | str | None = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
) -> Reply:
    """POST a body to /insights/engagement/<endpoint>; `auth` is OAuth1, a bearer token or None."""
    sent = {"Accept-Encoding": "gzip", "Content-Type": "application/json"}
    if isinstance(auth, str):
        sent["Authorization"] = f"Bearer {auth}"
    sent.update(headers or {})
    data = raw if raw is not None else json.dumps(body).encode()
    with quiet_signing():
        response = requests.post(
            f"{sim.url}/insights/engagement/{endpoint}",
            data=data,
            headers=sent,
            auth=auth if isinstance(auth, OAuth1) else None,
            timeout=10,
            stream=True,
        )
    content = response.raw.read(decode_content=False)
    return Reply(response.status_code, response.headers, content)


def admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def posts_of(sim: RunningSimulator, screen_name: str) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = admin(sim, "GET", f"posts?author={screen_name}")["posts"]
    return posts


def live_posts(sim: RunningSimulator, screen_name: str, count: int) -> tuple[str, ...]:
    """The account's newest non-deleted Posts (all well inside 28 hours and 90 days)."""
    posts = sorted(posts_of(sim, screen_name), key=lambda p: p["created_at"], reverse=True)
    return tuple(p["id"] for p in posts if not p["deleted"])[:count]


def lifetime(sim: RunningSimulator, post_id: str, metric: str) -> int:
    """The simulator's ground truth: a Post's lifetime count of one metric."""
    truth = admin(sim, "GET", f"series?tweet_id={post_id}&metrics={metric}")
    value: int = truth["lifetime"][metric]
    return value


class Served(Protocol):
    url: str


def http_client(url: str | Served, **options: Any) -> HttpEngagementClient:
    """Our real HTTP client on the simulator's test app, at `url` or at a server's `.url` (a
    RunningSimulator, a stand-in in front of one): the one way tests build it; `options`
    override any constructor argument (credentials, base URLs, timeouts)."""
    base = url if isinstance(url, str) else url.url
    arguments: dict[str, Any] = {
        "consumer_key": CONSUMER[0],
        "consumer_secret": CONSUMER[1],
        "engagement_base_url": base,
        "oauth_base_url": base,
    }
    return HttpEngagementClient(**(arguments | options))


@contextmanager
def x_client(url: str | Served, **options: Any) -> Iterator[HttpEngagementClient]:
    """`http_client(...)`, closed after the block."""
    with http_client(url, **options) as client:
        yield client
