"""Who a call speaks for: the app's keys, a user's access token, app-only auth, and the
tokens of the 3-legged flow.

Secrets are repr=False so that a logged request, result or exception never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class AppCredentials:
    """The X app's consumer key and secret (API key and secret)."""

    consumer_key: str
    consumer_secret: str = field(repr=False)


@dataclass(frozen=True)
class UserAuth:
    """OAuth 1.0a user context: the access token of the account that authored the Posts."""

    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)

    @property
    def user_id(self) -> str | None:
        """X prefixes access tokens with the user's ID (`<user_id>-…`); None if this one isn't."""
        head, sep, _ = self.access_token.partition("-")
        return head if sep and head.isdigit() else None


@dataclass(frozen=True)
class AppOnly:
    """App-only auth: a Bearer token from /oauth2/token (public metrics on /totals, v2 reads)."""


APP_ONLY = AppOnly()
Auth = UserAuth | AppOnly


class RequestToken(NamedTuple):
    """Step 1 of the 3-legged flow (docs/simulator.md#request-token); unpacks as (token, secret)."""

    token: str
    secret: str

    def __repr__(self) -> str:
        return "RequestToken(<redacted>)"


class AccessGrant(NamedTuple):
    """Step 3 of the 3-legged flow (docs/simulator.md#access-token).

    Unpacks as `(token, secret, user_id, screen_name)`.
    """

    access_token: str
    access_token_secret: str
    user_id: str
    screen_name: str

    def __repr__(self) -> str:
        return f"AccessGrant(user_id={self.user_id!r}, screen_name={self.screen_name!r})"

    @property
    def auth(self) -> UserAuth:
        return UserAuth(self.access_token, self.access_token_secret)
