"""X's far side in process: an EngagementClient and PostDirectory answered by the simulator's own
request handling, with no socket and no HTTP.

`MemoryX(state)` builds the request our HTTP client would send (the same wire body, the same
OAuth 1.0a signature or Bearer token, the same query parameters), hands it to the simulator's
router (bot.simulator.server.route: authentication, the per-minute and 15-minute windows, the
request log, the engine), and reads the reply with the same bot.engagement.wire functions
HttpEngagementClient uses. So a unit test of the service gets the simulator's numbers, errors and
429s (with their reset) without paying for loopback HTTP;
tests/engagement/test_client_contract.py checks that both clients give the same observable results.

What only a socket can show is not here: timeouts, deadlines, slow or dripping bodies, gzip on
the wire and the health record; nor are the checks HttpEngagementClient makes on a handle or a
user ID before sending (the simulator answers those instead); nor the OAuth connect steps.
Faults that need a socket (reset, hang, truncate, drip) become the TransportError the HTTP client
raises for them. Keep end-to-end tests on real HTTP.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC
from email.utils import format_datetime
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from oauthlib.oauth1 import SIGNATURE_HMAC, SIGNATURE_TYPE_AUTH_HEADER, Client

from bot.engagement import wire
from bot.engagement.http_client import v2 as v2_calls
from bot.engagement.log_filters import drop_debug_records
from bot.engagement.models import (
    APP_ONLY,
    Auth,
    EngagementRequest,
    EngagementResult,
    PostLookup,
    PostPage,
    RateLimitInfo,
    UserAuth,
    UserLookup,
)
from bot.errors import AuthError, EngagementAPIError, TransportError
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.server import route
from bot.simulator.state import SimState

T = TypeVar("T")
# oauthlib prints what it signs (keys, tokens, base strings) at DEBUG; HttpEngagementClient drops
# those records from the same loggers.
_CHATTY_LOGGERS = ("oauthlib.oauth1.rfc5849", "oauthlib.oauth1.rfc5849.signature")
# The origin the requests claim (it is part of what OAuth 1.0a signs); nothing listens there.
ORIGIN = "http://x.memory"


class MemoryX:
    """The simulator behind `state`, called in process (see the module docstring)."""

    def __init__(
        self,
        state: SimState,
        *,
        consumer_key: str = "sim-consumer-key",
        consumer_secret: str = "sim-consumer-secret",
        bearer_token: str | None = None,
    ) -> None:
        self.state = state
        self._key, self._secret = consumer_key, consumer_secret
        self._preset_bearer = bearer_token
        self._fetched_bearer: str | None = None
        self._lock = threading.Lock()
        drop_debug_records(_CHATTY_LOGGERS)

    def close(self) -> None:
        """Nothing to release; here so tests can swap it for HttpEngagementClient."""

    def __enter__(self) -> MemoryX:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- EngagementClient --------------------------------------------------------------------

    def fetch(self, request: EngagementRequest) -> EngagementResult:
        sent = wire.normalize(request)  # ValueError before anything is sent, as over HTTP
        label = str(sent.endpoint)
        body = wire.encode_request(sent)
        headers = {"content-type": "application/json"}
        with self._forgetting_bearer(sent.auth):
            reply = self._send("POST", sent.endpoint.path, {}, sent.auth, body, headers)
            return _read(reply, label, lambda doc, info: wire.parse_response(sent, doc, info))

    def bearer_token(self) -> str:
        if self._preset_bearer is not None:
            return self._preset_bearer
        with self._lock:
            if self._fetched_bearer is None:
                pair = f"{quote(self._key, safe='')}:{quote(self._secret, safe='')}"
                basic = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
                headers = {
                    "authorization": basic,
                    "content-type": "application/x-www-form-urlencoded;charset=UTF-8",
                }
                reply = self._exchange(
                    "POST", "/oauth2/token", {}, headers, b"grant_type=client_credentials"
                )
                self._fetched_bearer = _read(
                    reply, "oauth2/token", lambda doc, _: wire.parse_bearer_token(doc)
                )
            return self._fetched_bearer

    # --- PostDirectory -----------------------------------------------------------------------

    def lookup_posts(self, post_ids: Sequence[str], *, auth: Auth = APP_ONLY) -> PostLookup:
        ids = tuple(dict.fromkeys(wire.canonical_post_id(i) for i in post_ids))
        return self._v2(
            "2/tweets", "/2/tweets", wire.lookup_params(ids), auth, wire.parse_post_lookup
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
        return self._v2("2/users/:id/tweets", path, params, auth, wire.parse_post_page)

    def user_by_username(self, username: str, *, auth: Auth = APP_ONLY) -> UserLookup:
        path = f"/2/users/by/username/{username.removeprefix('@')}"
        params = {"user.fields": "protected"}
        return self._v2("2/users/by/username", path, params, auth, wire.parse_user_lookup)

    def search_recent(
        self,
        query: str,
        *,
        since_id: str | None = None,
        max_results: int = 100,
        next_token: str | None = None,
        auth: Auth = APP_ONLY,
    ) -> PostPage:
        call = v2_calls.recent_search(
            query, since_id=since_id, max_results=max_results, next_token=next_token
        )
        return self._v2(call.label, call.path, call.params, auth, wire.parse_search_page)

    # --- the exchange ------------------------------------------------------------------------

    def _v2(
        self,
        label: str,
        path: str,
        params: Mapping[str, str],
        auth: Auth,
        parse: Callable[[object, RateLimitInfo], T],
    ) -> T:
        with self._forgetting_bearer(auth):
            return _read(self._send("GET", path, params, auth, b"", {}), label, parse)

    @contextmanager
    def _forgetting_bearer(self, auth: Auth) -> Iterator[None]:
        """A fetched token the simulator stops accepting is fetched again, as over HTTP."""
        try:
            yield
        except AuthError:
            if not isinstance(auth, UserAuth):
                with self._lock:
                    self._fetched_bearer = None
            raise

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        auth: Auth,
        body: bytes,
        headers: dict[str, str],
    ) -> tuple[SimResponse, str]:
        query = urlencode(params)
        if isinstance(auth, UserAuth):
            signer = Client(
                self._key,
                client_secret=self._secret,
                resource_owner_key=auth.access_token,
                resource_owner_secret=auth.access_token_secret,
                signature_method=SIGNATURE_HMAC,
                signature_type=SIGNATURE_TYPE_AUTH_HEADER,
            )
            uri = ORIGIN + path + (f"?{query}" if query else "")
            _, signed, _ = signer.sign(uri, http_method=method)
            headers = {**headers, "authorization": signed["Authorization"]}
        else:
            headers = {**headers, "authorization": f"Bearer {self.bearer_token()}"}
        return self._exchange(method, path, params, headers, body)

    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[SimResponse, str]:
        request = SimRequest(
            method=method,
            path=path,
            raw_query=urlencode(params),
            headers={"accept-encoding": "gzip", "accept": "application/json", **headers},
            body=body,
            base_url=ORIGIN,
        )
        try:
            response = route(self.state, request)
        except Exception:  # the server's own answer to a bug of its own
            response = SimResponse.errors(500, "internal server error")
        return response, format_datetime(self.state.now().astimezone(UTC), usegmt=True)


def _read(
    reply: tuple[SimResponse, str], label: str, parse: Callable[[object, RateLimitInfo], T]
) -> T:
    """The reply as HttpEngagementClient reads it: rate-limit headers and Date, error or data."""
    response, date = reply
    if response.reset or response.hang or response.truncate or response.drip_s is not None:
        raise TransportError(f"{label}: the simulator's fault has no answer in process")
    info = wire.parse_rate_limit({"Date": date, **response.headers})
    try:
        doc: object = json.loads(response.body)
    except ValueError:
        if 200 <= response.status < 300:
            raise TransportError(
                f"{label}: undecodable body", status=response.status, endpoint=label
            ) from None
        doc = None
    error = wire.error_for(response.status, doc, endpoint=label, rate_limit=info)
    if error is not None:
        raise error
    try:
        return parse(doc, info)
    except EngagementAPIError as exc:
        exc.rate_limit = exc.rate_limit or info
        raise


def admin(state: SimState, method: str, path: str, body: object = None) -> Any:
    """A /_sim/ admin call (docs/simulator.md#admin-interface) answered in process: set-up and
    ground truth for tests on MemoryX, the routes tests/support/simhttp.py's `admin` calls."""
    path, _, query = path.partition("?")
    request = SimRequest(
        method=method,
        path=f"/_sim/{path}",
        raw_query=query,
        headers={"content-type": "application/json"},
        body=b"" if body is None else json.dumps(body).encode(),
        base_url=ORIGIN,
    )
    response = route(state, request)
    if response.status >= 400:
        raise AssertionError(f"/_sim/{path}: HTTP {response.status}: {response.body[:200]!r}")
    return json.loads(response.body)


def posts_of(state: SimState, screen_name: str) -> list[dict[str, Any]]:
    posts: list[dict[str, Any]] = admin(state, "GET", f"posts?author={screen_name}")["posts"]
    return posts
