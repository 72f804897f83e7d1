"""One HTTP exchange with X: timeouts fitted to the call and its deadline, the body read
under its cap, the outcome logged and told to the health record, the reply parsed or turned
into the right EngagementAPIError.

Timeouts: connecting gets at most `connect_timeout`, each read at most `read_timeout`, and the
whole reply (headers to last byte) at most `read_timeout` too: a server drip-feeding its body
a byte every few seconds would never trip a per-read timeout. Under a deadline
(bot.engagement.deadline) every bound shrinks to the time left, and a request cut by it
raises TimedOut.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

import requests

from bot.engagement import deadline as deadlines
from bot.engagement import wire
from bot.engagement.deadline import Deadline
from bot.engagement.health import CallHealth, X
from bot.engagement.http_client.bodies import Overdue, decode, read_body
from bot.engagement.models import RateLimitInfo
from bot.errors import EngagementAPIError, TimedOut, TransportError, UnexpectedResponse

# One line per X call under the client's package name, whichever part of it sends the call.
log = logging.getLogger("bot.engagement.http_client")

JSON_HEADERS = {"Content-Type": "application/json"}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}
T = TypeVar("T")
Reply = tuple[requests.Response, bytes]


def system_now() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=UTC)


class Transport:
    """A pooled `requests.Session` and the rules every call to X follows.

    Every call passes the (connect, read) timeout, sends `Accept-Encoding: gzip`, follows no
    redirect and maps every failure to an EngagementAPIError subclass. `clock` is only read
    when a rate-limited reply has no Date.
    """

    def __init__(
        self,
        *,
        connect_timeout: float,
        read_timeout: float,
        clock: Callable[[], datetime] = system_now,
        health: CallHealth | None = None,
    ) -> None:
        self.timeout = (connect_timeout, read_timeout)
        self._clock = clock
        self._health = health
        self._session = requests.Session()
        # Room for the executor's worker threads, which share this session's connections.
        pool = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self._session.mount("http://", pool)
        self._session.mount("https://", pool)
        self._session.headers.update(
            {
                "Accept-Encoding": "gzip",
                "Accept": "application/json",
                "User-Agent": "engagement-bot",
            }
        )

    def close(self) -> None:
        self._session.close()

    def call(
        self,
        method: str,
        url: str,
        *,
        label: str,
        ids: int,
        auth: requests.auth.AuthBase,
        data: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """The reply and its whole body; TransportError or TimedOut when none came in time."""
        deadline = deadlines.current()
        if deadline is not None and deadline.passed:
            raise timed_out(label)  # nothing sent: there is nobody left to answer
        started, status = time.monotonic(), 0
        connect, read = _timeouts(self.timeout, deadline)
        # The whole reply is due by then, however slowly its bytes arrive.
        due = started + (read if deadline is None else min(self.timeout[1], deadline.left()))
        problem: str | None = "connection errors"
        waiting = self._health.begin(X) if self._health is not None else None
        try:
            response = self._session.request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                auth=auth,
                timeout=(connect, read),
                allow_redirects=False,  # a redirect means a wrong base URL, not data
                stream=True,  # read below, up to the body cap
            )
            status = response.status_code
            with response:
                reply = response, read_body(response, label, due=due)
            problem = f"HTTP {status} answers" if status == 429 or status >= 500 else None
            return reply
        except requests.RequestException as exc:
            # Connection refused/reset, timeouts, truncated bodies and bad gzip all land here.
            if isinstance(exc, requests.exceptions.Timeout) or time.monotonic() >= due:
                problem = "timeouts"
            raise self._failed(label, deadline, _transport_reason(exc)) from exc
        except Overdue:
            problem = "timeouts"
            still = f"the reply was still arriving after {self.timeout[1]:.0f} s"
            raise self._failed(label, deadline, still, status) from None
        finally:
            if waiting is not None and self._health is not None:
                self._health.end(waiting, problem)
            log_call(label, status, started, ids)

    def _failed(
        self, label: str, deadline: Deadline | None, reason: str, status: int = 0
    ) -> EngagementAPIError:
        """TimedOut when the deadline cut the call, else a TransportError giving `reason`."""
        if deadline is not None and deadline.passed:
            return timed_out(label)
        return TransportError(f"{label}: {reason}", status=status, endpoint=label)

    def handle(self, reply: Reply, label: str, parse: Callable[[object, RateLimitInfo], T]) -> T:
        """`parse`'s model of a successful reply; the reply's error otherwise."""
        response, raw = reply
        info = wire.parse_rate_limit(response.headers)
        body = decode(response, raw, label, info)
        error = wire.error_for(
            response.status_code, body, endpoint=label, rate_limit=info, now=self._clock()
        )
        if error is not None:
            raise error
        try:
            return parse(body, info)
        except EngagementAPIError as exc:
            exc.rate_limit = exc.rate_limit or info
            raise

    def error_from(self, response: requests.Response, label: str) -> EngagementAPIError:
        """The error a refused reply read by someone else (requests-oauthlib) stands for."""
        info = wire.parse_rate_limit(response.headers)
        body = decode(response, response.content, label, info, required=False)
        error = wire.error_for(
            response.status_code, body, endpoint=label, rate_limit=info, now=self._clock()
        )
        return error or UnexpectedResponse(f"{label}: HTTP {response.status_code}", endpoint=label)


def _timeouts(configured: tuple[float, float], deadline: Deadline | None) -> tuple[float, float]:
    """(connect, read) timeouts: the configured ones, no longer than the time left."""
    connect, read = configured
    if deadline is None:
        return connect, read
    left = max(deadline.left(), 0.001)
    return min(connect, left), min(read, left)


def timed_out(label: str) -> TimedOut:
    return TimedOut(f"{label}: X had not answered when the answer was due", endpoint=label)


def _transport_reason(exc: requests.RequestException) -> str:
    """A short, secret-free reason: requests' own messages quote whole URLs and pools."""
    url = exc.request.url if exc.request is not None and exc.request.url else ""
    host = url.split("?")[0].split("/")[2] if url.count("/") >= 2 else "the server"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"timed out connecting to {host}"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return f"{host} did not answer in time"
    if isinstance(exc, requests.exceptions.ConnectionError) and "Connection refused" in str(exc):
        return f"could not connect to {host} (connection refused)"
    if isinstance(
        exc, requests.exceptions.ChunkedEncodingError | requests.exceptions.ContentDecodingError
    ):
        return f"the reply from {host} was cut short or not valid gzip"
    return f"the connection to {host} failed ({type(exc).__name__})"


def log_call(label: str, status: int, started: float, ids: int) -> None:
    """The one log line of an X call: no URL, header or body (they may hold secrets)."""
    elapsed_ms = (time.monotonic() - started) * 1000
    log.info("X API %s status=%s elapsed_ms=%.0f ids=%d", label, status, elapsed_ms, ids)
