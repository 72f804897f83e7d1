"""Who a request to X speaks for: OAuth 1.0a for a user's context, the app's Bearer token for
app-only calls (preset, or fetched once from /oauth2/token and again when X stops taking it).

No secret reaches a repr or a log line: the header auth hides its value, and oauthlib's and
requests-oauthlib's debug logs (signed headers, base strings, tokens) are silenced.

OAuth 1.0a is signed by oauthlib's own Client, as requests-oauthlib's OAuth1 does it, without
importing requests_oauthlib: its package imports the OAuth 2 half of oauthlib too, which a
one-shot command would pay for at start-up and never use.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC, SIGNATURE_TYPE_AUTH_HEADER, Client

from bot.engagement import wire
from bot.engagement.http_client.transport import FORM_HEADERS, Transport
from bot.engagement.log_filters import OAUTH1_LOGGERS, drop_debug_records
from bot.engagement.models import AppCredentials, Auth, UserAuth
from bot.errors import AuthError


def silence_secret_logs() -> None:
    """Drop the DEBUG records in which the OAuth libraries print secrets."""
    drop_debug_records(OAUTH1_LOGGERS)


class Signer:
    """The `requests` auth for each Auth of one app; holds its Bearer token.

    `bearer_token` None: the token is fetched from `oauth_url`/oauth2/token on first use.
    """

    def __init__(
        self,
        app: AppCredentials,
        *,
        oauth_url: str,
        transport: Transport,
        bearer_token: str | None = None,
    ) -> None:
        self._app = app
        self._oauth_url = oauth_url
        self._transport = transport
        self._preset_bearer = bearer_token
        self._fetched_bearer: str | None = None
        self._bearer_lock = threading.Lock()

    def sign(self, auth: Auth) -> requests.auth.AuthBase:
        if isinstance(auth, UserAuth):
            return OAuth1Header(
                Client(
                    self._app.consumer_key,
                    client_secret=self._app.consumer_secret,
                    resource_owner_key=auth.access_token,
                    resource_owner_secret=auth.access_token_secret,
                    signature_method=SIGNATURE_HMAC,
                    signature_type=SIGNATURE_TYPE_AUTH_HEADER,
                )
            )
        return HeaderAuth(f"Bearer {self.bearer_token()}")

    def bearer_token(self) -> str:
        """The app's Bearer token: the preset one, or fetched once from /oauth2/token."""
        if self._preset_bearer is not None:
            return self._preset_bearer
        with self._bearer_lock:
            if self._fetched_bearer is None:
                self._fetched_bearer = self._fetch_bearer()
            return self._fetched_bearer

    @contextmanager
    def forgetting_bearer_on_auth_error(self, auth: Auth) -> Iterator[None]:
        """A fetched token that X stops accepting (revoked) is fetched again next time."""
        try:
            yield
        except AuthError:
            if not isinstance(auth, UserAuth):
                with self._bearer_lock:
                    self._fetched_bearer = None
            raise

    def _fetch_bearer(self) -> str:
        # Basic auth over pct-encoded key and secret (as X's oauth2/token reference describes),
        # not requests' latin-1 form.
        pair = (
            f"{quote(self._app.consumer_key, safe='')}:{quote(self._app.consumer_secret, safe='')}"
        )
        basic = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        label = "oauth2/token"
        reply = self._transport.call(
            "POST",
            self._oauth_url + "/oauth2/token",
            label=label,
            ids=0,
            auth=HeaderAuth(f"Basic {basic}"),
            data=b"grant_type=client_credentials",
            headers=FORM_HEADERS,
        )
        return self._transport.handle(reply, label, lambda body, _: wire.parse_bearer_token(body))


class OAuth1Header(requests.auth.AuthBase):
    """The OAuth 1.0a Authorization header for a prepared request, signed by oauthlib's Client
    as requests-oauthlib's OAuth1 signs a request whose body is not a form: the calls made in a
    user's context send JSON or nothing, and such a body is no part of the signature (RFC 5849
    3.4.1.3). (The one form we send, to oauth2/token, carries Basic auth.)"""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # requests types the method as any str; oauthlib's stubs as one of the HTTP verbs.
        method: Any = request.method
        url, headers, _ = self._client.sign(str(request.url), method, None, request.headers)
        request.url = url
        request.prepare_headers(headers)
        return request

    def __repr__(self) -> str:
        return "OAuth1Header(<redacted>)"


class HeaderAuth(requests.auth.AuthBase):
    """Sets Authorization verbatim (a Bearer token is sent exactly as X issued it).

    Passing it as `auth` also stops requests from substituting ~/.netrc credentials.
    """

    def __init__(self, value: str) -> None:
        self._value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return "HeaderAuth(<redacted>)"
