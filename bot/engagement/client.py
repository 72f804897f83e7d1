"""What the engagement core needs from X, as two small Protocols.

`EngagementClient` reads engagement counts; `PostDirectory` finds Posts and their authors
(X API v2, docs/simulator.md#x-api-v2). The service is typed against these only, so it runs
the same on the real API and on the simulator (bot.engagement.http_client.HttpEngagementClient
does both), or on an in-memory fake in unit tests. Implementations raise only
EngagementAPIError subclasses (bot.errors) for anything X answered or failed to answer, and
ValueError for a request that could never be valid (a programming error, found before any I/O).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.engagement.models import (
    APP_ONLY,
    AccessGrant,
    Auth,
    EngagementRequest,
    EngagementResult,
    PostLookup,
    PostPage,
    RequestToken,
    UserLookup,
)


class EngagementClient(Protocol):
    def fetch(self, request: EngagementRequest) -> EngagementResult:
        """One call to `request.endpoint`; the result carries the rate-limit state."""
        ...


class PostDirectory(Protocol):
    def lookup_posts(self, post_ids: Sequence[str], *, auth: Auth = APP_ONLY) -> PostLookup:
        """Up to 100 Posts with their authors; unknown or hidden IDs are listed, not raised."""
        ...

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
        """One page of an account's Posts, newest first; follow `next_token` for more."""
        ...

    def user_by_username(self, username: str, *, auth: Auth = APP_ONLY) -> UserLookup:
        """The account behind a handle (with or without '@'); `user` None if there is none."""
        ...

    def search_recent(
        self,
        query: str,
        *,
        since_id: str | None = None,
        max_results: int = 100,
        next_token: str | None = None,
        auth: Auth = APP_ONLY,
    ) -> PostPage:
        """One page of the last 7 days' Posts matching `query`, newest first; follow
        `next_token` for more."""
        ...


class OAuthClient(Protocol):
    """The 3-legged steps of bot.engagement.http_client.HttpEngagementClient."""

    def request_token(self, callback: str) -> RequestToken: ...
    def authorize_url(self, request_token: str) -> str: ...
    def access_token(
        self, request_token: str, request_secret: str, verifier: str
    ) -> AccessGrant: ...
