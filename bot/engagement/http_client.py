"""HttpEngagementClient: the Engagement API, the v2 subset and the OAuth routes, over HTTP.

The only module in bot/ that imports requests and requests_oauthlib. It moves bytes and picks
credentials; bot.engagement.wire turns them into models and exceptions. No retries and no
pacing here: every result and every exception carries the rate-limit state for the caller.

Timeouts fit each call: connecting gets at most `connect_timeout`, each read at most
`read_timeout`, and the whole reply (headers to last byte) at most `read_timeout` too: a server
drip-feeding its body a byte every few seconds would never trip a per-read timeout. Under a
deadline (bot.engagement.deadline, e.g. a slash command's) every bound shrinks to the time
left, and a request cut by it raises TimedOut. Outcomes go to the `health` record
(bot.engagement.health) when given.

Secrets never reach a log line, an exception message or a repr: we log one line per call
(endpoint, status, elapsed, number of IDs), and silence the debug logs in which oauthlib and
requests-oauthlib print signed headers, base strings and tokens.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import re
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import quote

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC, SIGNATURE_TYPE_AUTH_HEADER
from requests_oauthlib import OAuth1, OAuth1Session
from requests_oauthlib.oauth1_session import TokenRequestDenied

from bot.engagement import deadline as deadlines
from bot.engagement import wire
from bot.engagement.deadline import ALARM, Deadline
from bot.engagement.health import CallHealth, X
from bot.engagement.log_filters import drop_debug_records
from bot.engagement.models import (
    APP_ONLY,
    AccessGrant,
    AppCredentials,
    Auth,
    EngagementRequest,
    EngagementResult,
    PostLookup,
    PostPage,
    RateLimitInfo,
    RequestToken,
    UserAuth,
    UserLookup,
)
from bot.errors import AuthError, EngagementAPIError, TimedOut, TransportError, UnexpectedResponse

log = logging.getLogger(__name__)

DEFAULT_ENGAGEMENT_BASE_URL = "https://data-api.x.com"
DEFAULT_OAUTH_BASE_URL = "https://api.x.com"
JSON_HEADERS = {"Content-Type": "application/json"}
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}
# The largest reply body read (after gzip): X's biggest documented reply is a few MB; a bigger
# one is refused rather than held in memory.
MAX_BODY_BYTES = 32 << 20
_CHUNK = 64 << 10
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_USER_ID = re.compile(r"[0-9]{1,20}")
# Loggers that print Authorization headers, signature base strings or tokens at DEBUG.
_CHATTY_LOGGERS = (
    "oauthlib.oauth1.rfc5849",
    "oauthlib.oauth1.rfc5849.signature",
    "requests_oauthlib.oauth1_auth",
    "requests_oauthlib.oauth1_session",
)
T = TypeVar("T")


def _system_now() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=UTC)


class HttpEngagementClient:
    """An EngagementClient and PostDirectory over HTTP, for the real API or the simulator.

    One `requests.Session` is reused for connection pooling. Every call passes the
    (connect, read) timeout, sends `Accept-Encoding: gzip`, and maps every failure to an
    EngagementAPIError subclass. `clock` is only read when a rate-limited reply has no Date.
    """

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        engagement_base_url: str = DEFAULT_ENGAGEMENT_BASE_URL,
        oauth_base_url: str = DEFAULT_OAUTH_BASE_URL,
        bearer_token: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        clock: Callable[[], datetime] = _system_now,
        health: CallHealth | None = None,
    ) -> None:
        self._app = AppCredentials(consumer_key, consumer_secret)
        self._engagement_url = engagement_base_url.rstrip("/")
        self._oauth_url = oauth_base_url.rstrip("/")
        self._preset_bearer = bearer_token
        self._fetched_bearer: str | None = None
        self._bearer_lock = threading.Lock()
        self._timeout = (connect_timeout, read_timeout)
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
        drop_debug_records(_CHATTY_LOGGERS)

    def __repr__(self) -> str:
        return f"HttpEngagementClient(engagement_base_url={self._engagement_url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpEngagementClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- Engagement API ----------------------------------------------------------------------

    def fetch(self, request: EngagementRequest) -> EngagementResult:
        sent = wire.normalize(request)  # ValueError before any I/O
        label = str(sent.endpoint)
        with self._forgetting_bearer_on_auth_error(sent.auth):
            reply = self._call(
                "POST",
                self._engagement_url + sent.endpoint.path,
                label=label,
                ids=len(sent.post_ids),
                auth=self._auth(sent.auth),
                data=wire.encode_request(sent),
                headers=JSON_HEADERS,
            )
            return self._handle(
                reply, label, lambda body, info: wire.parse_response(sent, body, info)
            )

    # --- App-only token ----------------------------------------------------------------------

    def bearer_token(self) -> str:
        """The app's Bearer token: the preset one, or fetched once from /oauth2/token."""
        if self._preset_bearer is not None:
            return self._preset_bearer
        with self._bearer_lock:
            if self._fetched_bearer is None:
                self._fetched_bearer = self._fetch_bearer()
            return self._fetched_bearer

    def _fetch_bearer(self) -> str:
        # Basic auth over pct-encoded key and secret (as X's oauth2/token reference describes),
        # not requests' latin-1 form.
        pair = (
            f"{quote(self._app.consumer_key, safe='')}:{quote(self._app.consumer_secret, safe='')}"
        )
        basic = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        label = "oauth2/token"
        reply = self._call(
            "POST",
            self._oauth_url + "/oauth2/token",
            label=label,
            ids=0,
            auth=_HeaderAuth(f"Basic {basic}"),
            data=b"grant_type=client_credentials",
            headers=FORM_HEADERS,
        )
        return self._handle(reply, label, lambda body, _: wire.parse_bearer_token(body))

    @contextmanager
    def _forgetting_bearer_on_auth_error(self, auth: Auth) -> Iterator[None]:
        """A fetched token that X stops accepting (revoked) is fetched again next time."""
        try:
            yield
        except AuthError:
            if not isinstance(auth, UserAuth):
                with self._bearer_lock:
                    self._fetched_bearer = None
            raise

    def _auth(self, auth: Auth) -> requests.auth.AuthBase:
        if isinstance(auth, UserAuth):
            # The JSON body is not form-encoded, so OAuth1 leaves it out of the signature
            # as long as Content-Type says application/json.
            return OAuth1(
                self._app.consumer_key,
                client_secret=self._app.consumer_secret,
                resource_owner_key=auth.access_token,
                resource_owner_secret=auth.access_token_secret,
                signature_method=SIGNATURE_HMAC,
                signature_type=SIGNATURE_TYPE_AUTH_HEADER,
            )
        return _HeaderAuth(f"Bearer {self.bearer_token()}")

    # --- X API v2 (docs/simulator.md#x-api-v2) ------------------------------------------------

    def lookup_posts(self, post_ids: Sequence[str], *, auth: Auth = APP_ONLY) -> PostLookup:
        ids = tuple(dict.fromkeys(wire.canonical_post_id(i) for i in post_ids))
        params = wire.lookup_params(ids)
        return self._v2(
            "2/tweets", "/2/tweets", params, auth, ids=len(ids), parse=wire.parse_post_lookup
        )

    def user_posts(
        self,
        user_id: str,
        *,
        since_id: str | None = None,
        until_id: str | None = None,
        max_results: int = 100,
        pagination_token: str | None = None,
        auth: Auth = APP_ONLY,
    ) -> PostPage:
        if not _USER_ID.fullmatch(user_id):
            raise ValueError(f"invalid user ID: {user_id!r}")
        if not 5 <= max_results <= 100:
            raise ValueError("max_results must be between 5 and 100")
        # The author expansion names the account, so one signed call also tells whose token it is.
        params = {
            "max_results": str(max_results),
            "tweet.fields": wire.v2.POST_FIELDS,
            "expansions": "author_id",
            "user.fields": "username",
        }
        if since_id is not None:
            params["since_id"] = wire.canonical_post_id(since_id)
        if until_id is not None:
            params["until_id"] = wire.canonical_post_id(until_id)
        if pagination_token is not None:
            params["pagination_token"] = pagination_token
        path = f"/2/users/{user_id}/tweets"
        return self._v2("2/users/:id/tweets", path, params, auth, ids=0, parse=wire.parse_post_page)

    def user_by_username(self, username: str, *, auth: Auth = APP_ONLY) -> UserLookup:
        name = username.removeprefix("@")
        if not _USERNAME.fullmatch(name):
            raise ValueError(f"invalid X handle: {username!r}")
        path = f"/2/users/by/username/{name}"
        # Whether it is protected decides, at `track` time, if its Posts can be read at all.
        params = {"user.fields": "protected"}
        return self._v2(
            "2/users/by/username", path, params, auth, ids=0, parse=wire.parse_user_lookup
        )

    def _v2(
        self,
        label: str,
        path: str,
        params: Mapping[str, str],
        auth: Auth,
        *,
        ids: int,
        parse: Callable[[object, RateLimitInfo], T],
    ) -> T:
        with self._forgetting_bearer_on_auth_error(auth):
            reply = self._call(
                "GET",
                self._oauth_url + path,
                label=label,
                ids=ids,
                auth=self._auth(auth),
                params=params,
            )
            return self._handle(reply, label, parse)

    # --- 3-legged OAuth (docs/simulator.md#connecting-accounts) -------------------------------

    def request_token(self, callback: str) -> RequestToken:
        """Step 1: a request token for `callback` (a URL, or 'oob' for PIN mode)."""
        session = OAuth1Session(
            self._app.consumer_key, client_secret=self._app.consumer_secret, callback_uri=callback
        )
        url = self._oauth_url + "/oauth/request_token"
        token = self._oauth_step("oauth/request_token", session, url, access=False)
        return RequestToken(token["oauth_token"], token["oauth_token_secret"])

    def authorize_url(self, request_token: str) -> str:
        """Step 2: where the user approves the app."""
        return f"{self._oauth_url}/oauth/authorize?oauth_token={quote(request_token, safe='')}"

    def access_token(self, request_token: str, request_secret: str, verifier: str) -> AccessGrant:
        """Step 3: the user's access token and who they are."""
        session = OAuth1Session(
            self._app.consumer_key,
            client_secret=self._app.consumer_secret,
            resource_owner_key=request_token,
            resource_owner_secret=request_secret,
            verifier=verifier,
        )
        url = self._oauth_url + "/oauth/access_token"
        token = self._oauth_step("oauth/access_token", session, url, access=True)
        return AccessGrant(
            token["oauth_token"],
            token["oauth_token_secret"],
            token.get("user_id", ""),
            token.get("screen_name", ""),
        )

    def _oauth_step(
        self, label: str, session: OAuth1Session, url: str, *, access: bool
    ) -> dict[str, str]:
        started, status = time.monotonic(), 0
        not_a_token = UnexpectedResponse(f"{label}: the reply is not a token", endpoint=label)
        # Read the body here, before requests-oauthlib does, so it too stops at the cap.
        session.hooks["response"].append(lambda response, **_: _preload(response, label))
        try:
            with session:
                fetch = session.fetch_access_token if access else session.fetch_request_token
                token: object = fetch(url, timeout=self._timeout)
            status = 200
        except TokenRequestDenied as denied:
            status = denied.status_code
            raise self._error_from(denied.response, label) from None
        except requests.RequestException as exc:
            raise TransportError(f"{label}: {type(exc).__name__}", endpoint=label) from None
        except (ValueError, TypeError, RecursionError):
            # requests-oauthlib's message quotes the body, which may hold a token: drop it.
            # (It falls back to json.loads, whose result need not be a dict of strings.)
            raise not_a_token from None
        finally:
            _log_call(label, status, started, 0)
        if not isinstance(token, dict):
            raise not_a_token
        strings = {k: v for k, v in token.items() if isinstance(k, str) and isinstance(v, str)}
        if not (strings.get("oauth_token") and strings.get("oauth_token_secret")):
            raise not_a_token
        return strings

    # --- Transport ---------------------------------------------------------------------------

    def _call(
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
    ) -> tuple[requests.Response, bytes]:
        deadline = deadlines.current()
        if deadline is not None and deadline.passed:
            raise _timed_out(label)  # nothing sent: there is nobody left to answer
        started, status = time.monotonic(), 0
        connect, read = _timeouts(self._timeout, deadline)
        # The whole reply is due by then, however slowly its bytes arrive.
        due = started + (read if deadline is None else min(self._timeout[1], deadline.left()))
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
                stream=True,  # read below, up to MAX_BODY_BYTES
            )
            status = response.status_code
            with response:
                reply = response, _read_body(response, label, due=due)
            problem = f"HTTP {status} answers" if status == 429 or status >= 500 else None
            return reply
        except requests.RequestException as exc:
            # Connection refused/reset, timeouts, truncated bodies and bad gzip all land here.
            if isinstance(exc, requests.exceptions.Timeout) or time.monotonic() >= due:
                problem = "timeouts"
            if deadline is not None and deadline.passed:
                raise _timed_out(label) from exc
            raise TransportError(f"{label}: {_transport_reason(exc)}", endpoint=label) from exc
        except _Overdue:
            problem = "timeouts"
            if deadline is not None and deadline.passed:
                raise _timed_out(label) from None
            raise TransportError(
                f"{label}: the reply was still arriving after {self._timeout[1]:.0f} s",
                status=status,
                endpoint=label,
            ) from None
        finally:
            if waiting is not None and self._health is not None:
                self._health.end(waiting, problem)
            _log_call(label, status, started, ids)

    def _handle(
        self,
        reply: tuple[requests.Response, bytes],
        label: str,
        parse: Callable[[object, RateLimitInfo], T],
    ) -> T:
        response, raw = reply
        info = wire.parse_rate_limit(response.headers)
        body = _decode(response, raw, label, info)
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

    def _error_from(self, response: requests.Response, label: str) -> EngagementAPIError:
        info = wire.parse_rate_limit(response.headers)
        body = _decode(response, response.content, label, info, required=False)
        error = wire.error_for(
            response.status_code, body, endpoint=label, rate_limit=info, now=self._clock()
        )
        return error or UnexpectedResponse(f"{label}: HTTP {response.status_code}", endpoint=label)


class _TooLarge(ValueError):
    pass


class _Overdue(Exception):
    """The reply was still arriving when it was due."""


def _read_body(response: requests.Response, label: str, *, due: float | None = None) -> bytes:
    """The (gzip-decoded) body; UnexpectedResponse once it passes MAX_BODY_BYTES, _Overdue
    when it is not all in by the monotonic instant `due`: the connection is cut then, which
    ends a read that each trickling byte would otherwise keep alive."""
    cut = threading.Event()

    def cut_off() -> None:
        cut.set()
        _shut(response)

    alarm = ALARM.at(due, cut_off) if due is not None else None
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise _too_large(label, response.status_code)
            chunks.append(chunk)
    except (requests.RequestException, OSError):
        if cut.is_set():
            raise _Overdue from None
        raise
    finally:
        if alarm is not None:
            ALARM.cancel(alarm)
    if cut.is_set():
        raise _Overdue  # cut just as the last bytes came: they may be short
    return b"".join(chunks)


def _shut(response: requests.Response) -> None:
    """Shut the reply's socket from another thread: a recv blocked on it returns at once
    (closing it would not wake it)."""
    connection = getattr(response.raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):  # already closed: nothing is reading it
            sock.shutdown(socket.SHUT_RDWR)
    else:
        response.close()


def _timeouts(configured: tuple[float, float], deadline: Deadline | None) -> tuple[float, float]:
    """(connect, read) timeouts: the configured ones, no longer than the time left."""
    connect, read = configured
    if deadline is None:
        return connect, read
    left = max(deadline.left(), 0.001)
    return min(connect, left), min(read, left)


def _timed_out(label: str) -> TimedOut:
    return TimedOut(f"{label}: X had not answered when the answer was due", endpoint=label)


def _preload(response: requests.Response, label: str) -> requests.Response:
    """A response hook: the body read now, up to MAX_BODY_BYTES (requests then keeps it)."""
    response._content = _read_body(response, label)
    return response


def _too_large(label: str, status: int) -> UnexpectedResponse:
    """Not a TransportError: asking again would only fetch the same flood."""
    limit = MAX_BODY_BYTES >> 20
    return UnexpectedResponse(
        f"{label}: the reply is larger than {limit} MB", status=status, endpoint=label
    )


def _gunzip(raw: bytes) -> bytes:
    """One gzip member, inflated a chunk at a time up to MAX_BODY_BYTES (a bomb of a few KB
    must not fill memory)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    size = 0
    while raw and not inflater.eof:
        part = inflater.decompress(raw, _CHUNK)
        raw = inflater.unconsumed_tail
        size += len(part)
        if size > MAX_BODY_BYTES:
            raise _TooLarge
        parts.append(part)
    if not inflater.eof:
        raise EOFError("truncated gzip")
    return b"".join(parts)


def _decode(
    response: requests.Response,
    raw: bytes,
    label: str,
    info: RateLimitInfo,
    *,
    required: bool | None = None,
) -> object:
    """The body as JSON. An undecodable body is a TransportError (worth asking again) for a
    2xx, and for a 4xx that says it is JSON: X's 400s and 403s are told apart by their text
    (protected or foreign Posts), so one cut off in transit must not pass for a final
    refusal. Other bodies (a proxy's error page, a 429, a 5xx) are None: the status says
    enough."""
    if required is None:
        status = response.status_code
        claims_json = "json" in response.headers.get("Content-Type", "").lower()
        required = 200 <= status < 300 or (400 <= status < 500 and status != 429 and claims_json)
    must_parse = required
    try:
        if raw[:2] == b"\x1f\x8b":  # gzip that the headers did not announce
            raw = _gunzip(raw)
        return json.loads(raw)
    except _TooLarge:
        if not must_parse:
            return None
        raise _too_large(label, response.status_code) from None
    except (ValueError, OSError, EOFError, zlib.error, RecursionError) as exc:
        if not must_parse:
            return None
        raise TransportError(
            f"{label}: undecodable body ({type(exc).__name__})",
            status=response.status_code,
            endpoint=label,
            rate_limit=info,
        ) from None


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


def _log_call(label: str, status: int, started: float, ids: int) -> None:
    elapsed_ms = (time.monotonic() - started) * 1000
    log.info("X API %s status=%s elapsed_ms=%.0f ids=%d", label, status, elapsed_ms, ids)


class _HeaderAuth(requests.auth.AuthBase):
    """Sets Authorization verbatim (a Bearer token is sent exactly as X issued it).

    Passing it as `auth` also stops requests from substituting ~/.netrc credentials.
    """

    def __init__(self, value: str) -> None:
        self._value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return "_HeaderAuth(<redacted>)"
