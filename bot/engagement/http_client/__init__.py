"""HttpEngagementClient: the Engagement API, the v2 subset and the OAuth routes, over HTTP.

The only package in bot/ that imports requests and requests_oauthlib. It moves bytes and picks
credentials; bot.engagement.wire turns them into models and exceptions. No retries and no
pacing here: every result and every exception carries the rate-limit state for the caller.

    transport  one exchange: timeouts fitted to the call and its deadline, health, the log line
    bodies     reading a reply under its size cap and due time; gzip; JSON
    auth       OAuth 1.0a for a user's context, the app's Bearer token for app-only calls
    v2         the v2 directory calls, checked and spelled out before any I/O
    oauth      the 3-legged steps that connect an account

Secrets never reach a log line, an exception message or a repr: we log one line per call
(endpoint, status, elapsed, number of IDs), and silence the debug logs in which oauthlib and
requests-oauthlib print signed headers, base strings and tokens.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from bot.engagement import wire
from bot.engagement.health import CallHealth
from bot.engagement.http_client import v2
from bot.engagement.http_client.auth import Signer, silence_secret_logs
from bot.engagement.http_client.oauth import ThreeLegged
from bot.engagement.http_client.transport import JSON_HEADERS, Transport, system_now
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
    UserLookup,
)

DEFAULT_ENGAGEMENT_BASE_URL = "https://data-api.x.com"
DEFAULT_OAUTH_BASE_URL = "https://api.x.com"
T = TypeVar("T")


class HttpEngagementClient:
    """An EngagementClient and PostDirectory over HTTP, for the real API or the simulator.

    One connection pool is reused by every call; see bot.engagement.http_client.transport for
    the timeouts and the failures each call maps to an EngagementAPIError subclass. Outcomes
    go to the `health` record (bot.engagement.health) when given; `clock` is only read when a
    rate-limited reply has no Date.
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
        clock: Callable[[], datetime] = system_now,
        health: CallHealth | None = None,
    ) -> None:
        app = AppCredentials(consumer_key, consumer_secret)
        self._engagement_url = engagement_base_url.rstrip("/")
        self._oauth_url = oauth_base_url.rstrip("/")
        self._transport = Transport(
            connect_timeout=connect_timeout, read_timeout=read_timeout, clock=clock, health=health
        )
        self._signer = Signer(
            app, oauth_url=self._oauth_url, transport=self._transport, bearer_token=bearer_token
        )
        self._oauth = ThreeLegged(app, oauth_url=self._oauth_url, transport=self._transport)
        silence_secret_logs()

    def __repr__(self) -> str:
        return f"HttpEngagementClient(engagement_base_url={self._engagement_url!r})"

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> HttpEngagementClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- Engagement API ----------------------------------------------------------------------

    def fetch(self, request: EngagementRequest) -> EngagementResult:
        sent = wire.normalize(request)  # ValueError before any I/O
        label = str(sent.endpoint)
        with self._signer.forgetting_bearer_on_auth_error(sent.auth):
            reply = self._transport.call(
                "POST",
                self._engagement_url + sent.endpoint.path,
                label=label,
                ids=len(sent.post_ids),
                auth=self._signer.sign(sent.auth),
                data=wire.encode_request(sent),
                headers=JSON_HEADERS,
            )
            return self._transport.handle(
                reply, label, lambda body, info: wire.parse_response(sent, body, info)
            )

    def bearer_token(self) -> str:
        """The app's Bearer token: the preset one, or fetched once from /oauth2/token."""
        return self._signer.bearer_token()

    # --- X API v2 (docs/simulator.md#x-api-v2) ------------------------------------------------

    def lookup_posts(self, post_ids: Sequence[str], *, auth: Auth = APP_ONLY) -> PostLookup:
        return self._v2(v2.post_lookup(post_ids), auth, wire.parse_post_lookup)

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
        call = v2.user_timeline(
            user_id,
            since_id=since_id,
            until_id=until_id,
            max_results=max_results,
            pagination_token=pagination_token,
        )
        return self._v2(call, auth, wire.parse_post_page)

    def user_by_username(self, username: str, *, auth: Auth = APP_ONLY) -> UserLookup:
        return self._v2(v2.user_by_username(username), auth, wire.parse_user_lookup)

    def search_recent(
        self,
        query: str,
        *,
        since_id: str | None = None,
        max_results: int = 100,
        next_token: str | None = None,
        auth: Auth = APP_ONLY,
    ) -> PostPage:
        call = v2.recent_search(
            query, since_id=since_id, max_results=max_results, next_token=next_token
        )
        return self._v2(call, auth, wire.parse_search_page)

    def _v2(self, call: v2.V2Call, auth: Auth, parse: Callable[[object, RateLimitInfo], T]) -> T:
        with self._signer.forgetting_bearer_on_auth_error(auth):
            reply = self._transport.call(
                "GET",
                self._oauth_url + call.path,
                label=call.label,
                ids=call.ids,
                auth=self._signer.sign(auth),
                params=call.params,
            )
            return self._transport.handle(reply, call.label, parse)

    # --- 3-legged OAuth (docs/simulator.md#connecting-accounts) -------------------------------

    def request_token(self, callback: str) -> RequestToken:
        """Step 1: a request token for `callback` (a URL, or 'oob' for PIN mode)."""
        return self._oauth.request_token(callback)

    def authorize_url(self, request_token: str) -> str:
        """Step 2: where the user approves the app."""
        return self._oauth.authorize_url(request_token)

    def access_token(self, request_token: str, request_secret: str, verifier: str) -> AccessGrant:
        """Step 3: the user's access token and who they are."""
        return self._oauth.access_token(request_token, request_secret, verifier)
