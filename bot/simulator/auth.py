"""Who is calling: OAuth 1.0a verification and Bearer tokens (docs/simulator.md#authentication).

The signature base string is computed with oauthlib's server-side primitives, so the simulator
checks signatures the way RFC 5849 (and X) defines them rather than the way our client happens to
sign. Failures raise `AuthFailure` carrying the 401 reason (docs/simulator.md#401-reasons) and,
once it is known, the app, so callers can still show that app's rate-limit headers.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from oauthlib.common import Request
from oauthlib.oauth1.rfc5849 import signature as rfc5849
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from bot.simulator.clock import real_now
from bot.simulator.http import SimRequest
from bot.simulator.state import SimState
from bot.simulator.universe import Account, App

UNKNOWN_TYPE = "Unknown Authorization Type"
CONSUMER_NOT_FOUND = "Consumer key not found"
TOKEN_NOT_FOUND = "Access token not found"
INVALID_SIGNATURE = "Invalid signature"
TIMESTAMP_OUT_OF_BOUNDS = "Timestamp out of bounds"
DUPLICATE_NONCE = "Duplicate nonce"
BEARER_NOT_FOUND = "Bearer token not found"
APP_NOT_AUTHORIZED = "Your application id is not authorized."

# The required OAuth parameters, in the order the "Missing OAuth parameter" check reports them.
REQUIRED_OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_timestamp",
)
BEARER_PREFIX = "AAAAAAAAAAAAAAAAAAAAA"
# Form bodies are signed only on these routes; engagement bodies are JSON, never signed.
FORM_SIGNED_PREFIXES = ("/oauth/", "/oauth2/")
_SIGNED_METHODS: dict[str, Literal["GET", "POST"]] = {"GET": "GET", "POST": "POST"}

Mode = Literal["user", "app-only"]
Params = list[tuple[str, str]]


class AuthFailure(Exception):
    """Raised by the authenticate functions; `reason` is the text after `Reason: `.

    `app` is the app the credentials named, when one was found, so the caller can answer with
    that app's rate-limit headers.
    """

    def __init__(self, reason: str, app: App | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.app = app


@dataclass(frozen=True)
class Identity:
    """An authenticated caller: `account` is None for app-only (Bearer, or OAuth without token)."""

    app: App
    account: Account | None
    mode: Mode


# -- headers ------------------------------------------------------------------------------------


def split_authorization(value: str) -> tuple[str, str]:
    """(scheme in lower case, the rest) of an Authorization header; ("", "") when empty."""
    scheme, _, rest = value.strip().partition(" ")
    return scheme.lower(), rest.strip()


def parse_oauth_header(value: str) -> dict[str, str] | None:
    """The decoded parameters of `Authorization: OAuth …` without realm; None if unparseable."""
    try:
        pairs = oauth_utils.parse_authorization_header(value.strip())
    except ValueError:
        return None
    return {name: oauth_utils.unescape(raw) for name, raw in pairs if name != "realm"}


def precheck_oauth(params: Mapping[str, str]) -> str | None:
    """The first failing parameter rule (missing, method, version) as a 401 reason, or None."""
    for name in REQUIRED_OAUTH_PARAMS:
        if not params.get(name):
            return f"Missing OAuth parameter: {name}"
    method = params["oauth_signature_method"]
    if method != "HMAC-SHA1":
        return f"Unsupported signature method: {method}"
    version = params.get("oauth_version")
    if version is not None and version != "1.0":
        return f"Unsupported OAuth version: {version}"
    return None


# -- signatures ---------------------------------------------------------------------------------


def _base_uri(state: SimState, request: SimRequest) -> str:
    """The request URI the client signed: public_base_url's origin if set, else ours."""
    origin = urlsplit(state.public_base_url or request.base_url)
    return f"{origin.scheme}://{origin.netloc}{request.path}"


def _signed_pairs(request: SimRequest, header: str) -> Params:
    """The parameters of the base string: oauth_* from the header, query, and maybe the form."""
    from_header = [
        (name, value)
        for name, value in rfc5849.collect_parameters(headers={"authorization": header})
        if name.startswith("oauth_")
    ]
    others = [(k, v) for k, values in request.query.items() for v in values]
    if request.path.startswith(FORM_SIGNED_PREFIXES):
        others += [(k, v) for k, values in request.form.items() for v in values]
    # collect_parameters decodes oauth_* values as oauthlib's signer does, so both sides agree.
    return from_header + rfc5849.collect_parameters(body=others)


class _SignedRequest(Request):
    """oauthlib's Request carrying the two attributes its signature verifiers read."""

    def __init__(self, uri: str, method: Literal["GET", "POST"], params: Params, sig: str) -> None:
        super().__init__(uri, http_method=method)
        self.params = params
        self.signature = sig


def signature_matches(
    state: SimState,
    request: SimRequest,
    header: str,
    params: Mapping[str, str],
    *,
    consumer_secret: str,
    token_secret: str,
) -> bool:
    """Whether `oauth_signature` is the HMAC-SHA1 of this request's base string (RFC 5849)."""
    method = _SIGNED_METHODS.get(request.method.upper())
    if method is None:
        return False
    pairs = _signed_pairs(request, header)
    try:
        signed = _SignedRequest(_base_uri(state, request), method, pairs, params["oauth_signature"])
        # oauthlib builds the base string (base_string_uri, normalize_parameters) and compares
        # the signatures in constant time.
        return rfc5849.verify_hmac_sha1(signed, consumer_secret, token_secret)
    except ValueError:  # a Host header oauthlib cannot turn into a base string URI
        return False


def freshness_failure(state: SimState, params: Mapping[str, str]) -> str | None:
    """The timestamp-window and nonce-replay checks, when switched on."""
    window = state.options.oauth_timestamp_window_s
    if window > 0:
        try:
            stamp = int(params["oauth_timestamp"])
        except ValueError:
            return TIMESTAMP_OUT_OF_BOUNDS
        # The real wall clock: a simulated clock days away must not reject live signers.
        if abs(real_now().timestamp() - stamp) > window:
            return TIMESTAMP_OUT_OF_BOUNDS
    if state.options.oauth_nonce_check:
        key = (params["oauth_consumer_key"], params["oauth_nonce"])
        with state.lock:
            if key in state.seen_nonces:
                return DUPLICATE_NONCE
            state.seen_nonces.add(key)
    return None


def verify_oauth(
    state: SimState,
    request: SimRequest,
    header: str,
    params: Mapping[str, str],
    *,
    consumer_secret: str,
    token_secret: str,
) -> str | None:
    """Signature, then timestamp and nonce: the first failing reason, or None if all pass."""
    if not signature_matches(
        state,
        request,
        header,
        params,
        consumer_secret=consumer_secret,
        token_secret=token_secret,
    ):
        return INVALID_SIGNATURE
    return freshness_failure(state, params)


# -- bearer tokens ------------------------------------------------------------------------------


def _bearer_candidate(seed: int, app: App, generation: int) -> str:
    text = f"{seed}|bearer|{app.name}|{app.consumer_key}|{generation}"
    return BEARER_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + "%3D"


def bearer_token_for(state: SimState, app: App) -> str:
    """The app's one current Bearer token: same on every call until it is revoked.

    A revoked token stays revoked; the next generation derived from the seed replaces it, as
    X issues a fresh token after invalidation.
    """
    generation = 0
    while True:
        token = _bearer_candidate(state.universe.seed, app, generation)
        if token not in state.revoked_bearer_tokens:
            return token
        generation += 1


def _authenticate_bearer(state: SimState, token: str) -> Identity:
    if token and token not in state.revoked_bearer_tokens:
        for app in state.universe.apps:
            # Byte for byte: a client that decoded %3D must not get in.
            if hmac.compare_digest(bearer_token_for(state, app).encode(), token.encode()):
                return Identity(app=app, account=None, mode="app-only")
    raise AuthFailure(BEARER_NOT_FOUND, None)


# -- OAuth 1.0a ---------------------------------------------------------------------------------


def _authenticate_oauth(state: SimState, request: SimRequest, header: str) -> Identity:
    params = parse_oauth_header(header)
    if params is None:
        raise AuthFailure(UNKNOWN_TYPE, None)
    problem = precheck_oauth(params)
    if problem is not None:
        raise AuthFailure(problem, None)
    app = state.universe.app_by_key(params["oauth_consumer_key"])
    if app is None:
        raise AuthFailure(CONSUMER_NOT_FOUND, None)
    account: Account | None = None
    token_secret = ""
    access_token = params.get("oauth_token", "")
    if access_token:  # an empty or absent token means app-only
        found = state.universe.token(app, access_token)
        if found is None or access_token in state.revoked_access_tokens:
            raise AuthFailure(TOKEN_NOT_FOUND, app)
        account, token_secret = found[0], found[1].access_token_secret
    failure = verify_oauth(
        state,
        request,
        header,
        params,
        consumer_secret=app.consumer_secret,
        token_secret=token_secret,
    )
    if failure is not None:
        raise AuthFailure(failure, app)
    return Identity(app=app, account=account, mode="user" if account else "app-only")


def authenticate(state: SimState, request: SimRequest) -> Identity:
    """Bearer or OAuth 1.0a, without the Engagement API allow-list (used by the v2 routes)."""
    header = request.header("authorization")
    scheme, credentials = split_authorization(header)
    with state.lock:
        if scheme == "bearer":
            return _authenticate_bearer(state, credentials)
        if scheme == "oauth":
            return _authenticate_oauth(state, request, header)
    raise AuthFailure(UNKNOWN_TYPE, None)


def authenticate_engagement(state: SimState, request: SimRequest) -> Identity:
    """The caller of an engagement endpoint, checked in docs/simulator.md#401-reasons order."""
    identity = authenticate(state, request)
    if not identity.app.engagement_api_enabled:
        raise AuthFailure(APP_NOT_AUTHORIZED, identity.app)
    return identity


def claimed_app(state: SimState, request: SimRequest) -> App | None:
    """The app a request names, without verifying it: for the rate-limit headers of replies
    that are not counted (faults, 406), which should show that app's window
    (docs/simulator.md#per-minute-windows)."""
    scheme, credentials = split_authorization(request.header("authorization"))
    with state.lock:
        if scheme == "bearer":
            with contextlib.suppress(AuthFailure):
                return _authenticate_bearer(state, credentials).app
        elif scheme == "oauth":
            params = parse_oauth_header(request.header("authorization")) or {}
            return state.universe.app_by_key(params.get("oauth_consumer_key", ""))
    return None
