"""The 3-legged OAuth 1.0a steps (docs/simulator.md#connecting-accounts): a request token, the
page where the user approves the app, and the access token that names who they are.

requests-oauthlib signs and parses; this module caps what it reads and keeps the tokens out of
every message: its errors quote the reply body, which may hold one. It is imported when a step
runs: its package brings oauthlib's OAuth 2 half, which only connecting an account pays for.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import quote

import requests

from bot.engagement.http_client.bodies import preload
from bot.engagement.http_client.transport import Transport, log_call
from bot.engagement.models import AccessGrant, AppCredentials, RequestToken
from bot.errors import TransportError, UnexpectedResponse

if TYPE_CHECKING:
    from requests_oauthlib import OAuth1Session


class ThreeLegged:
    """The steps of connecting an account to one app, against `oauth_url`."""

    def __init__(self, app: AppCredentials, *, oauth_url: str, transport: Transport) -> None:
        self._app = app
        self._oauth_url = oauth_url
        self._transport = transport

    def request_token(self, callback: str) -> RequestToken:
        """Step 1: a request token for `callback` (a URL, or 'oob' for PIN mode)."""
        from requests_oauthlib import OAuth1Session

        session = OAuth1Session(
            self._app.consumer_key, client_secret=self._app.consumer_secret, callback_uri=callback
        )
        url = self._oauth_url + "/oauth/request_token"
        token = self._step("oauth/request_token", session, url, access=False)
        return RequestToken(token["oauth_token"], token["oauth_token_secret"])

    def authorize_url(self, request_token: str) -> str:
        """Step 2: where the user approves the app."""
        return f"{self._oauth_url}/oauth/authorize?oauth_token={quote(request_token, safe='')}"

    def access_token(self, request_token: str, request_secret: str, verifier: str) -> AccessGrant:
        """Step 3: the user's access token and who they are."""
        from requests_oauthlib import OAuth1Session

        session = OAuth1Session(
            self._app.consumer_key,
            client_secret=self._app.consumer_secret,
            resource_owner_key=request_token,
            resource_owner_secret=request_secret,
            verifier=verifier,
        )
        url = self._oauth_url + "/oauth/access_token"
        token = self._step("oauth/access_token", session, url, access=True)
        return AccessGrant(
            token["oauth_token"],
            token["oauth_token_secret"],
            token.get("user_id", ""),
            token.get("screen_name", ""),
        )

    def _step(
        self, label: str, session: OAuth1Session, url: str, *, access: bool
    ) -> dict[str, str]:
        """The token X hands out at `url`, as strings, with oauth_token and its secret set."""
        from requests_oauthlib.oauth1_session import TokenRequestDenied

        started, status = time.monotonic(), 0
        not_a_token = UnexpectedResponse(f"{label}: the reply is not a token", endpoint=label)
        # Read the body here, before requests-oauthlib does, so it too stops at the cap.
        session.hooks["response"].append(lambda response, **_: preload(response, label))
        try:
            with session:
                fetch = session.fetch_access_token if access else session.fetch_request_token
                token: object = fetch(url, timeout=self._transport.timeout)
            status = 200
        except TokenRequestDenied as denied:
            status = denied.status_code
            raise self._transport.error_from(denied.response, label) from None
        except requests.RequestException as exc:
            raise TransportError(f"{label}: {type(exc).__name__}", endpoint=label) from None
        except (ValueError, TypeError, RecursionError):
            # requests-oauthlib's message quotes the body, which may hold a token: drop it.
            # (It falls back to json.loads, whose result need not be a dict of strings.)
            raise not_a_token from None
        finally:
            log_call(label, status, started, 0)
        if not isinstance(token, dict):
            raise not_a_token
        strings = {k: v for k, v in token.items() if isinstance(k, str) and isinstance(v, str)}
        if not (strings.get("oauth_token") and strings.get("oauth_token_secret")):
            raise not_a_token
        return strings
