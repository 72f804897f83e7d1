"""OAuth 1.0a and Bearer authentication of the simulator (docs/simulator.md#authentication).

Requests are signed by oauthlib's and requests-oauthlib's client code, never by the code under
test, so a bug shared by signer and verifier cannot hide.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_PLAINTEXT, Client
from requests_oauthlib import OAuth1

from bot.simulator import auth
from bot.simulator.clock import SimClock
from bot.simulator.http import SimRequest
from bot.simulator.seeded_universe import default_universe
from bot.simulator.state import SimState
from bot.simulator.universe import Token
from tests.support.simhttp import quiet_signing

START = datetime(2025, 3, 1, 12, tzinfo=UTC)
BASE = "http://127.0.0.1:8787"
PATH = "/insights/engagement/28hr"
KEY, SECRET = "sim-consumer-key", "sim-consumer-secret"
DISABLED_KEY, DISABLED_SECRET = "sim-disabled-consumer-key", "sim-disabled-consumer-secret"
BRAND_TOKEN, BRAND_SECRET = "1000000001-simtoken-sim_brand", "simsecret-sim_brand"
BODY = '{"tweet_ids":["1"],"engagement_types":["favorites"],"groupings":{}}'


@pytest.fixture(autouse=True)
def _signing_keys_stay_out_of_the_log() -> Iterator[None]:
    """These tests sign with oauthlib itself, which logs the keys at DEBUG."""
    with quiet_signing():
        yield


def make_state() -> SimState:
    def factory() -> Any:
        return default_universe(seed=1, start_time=START)

    clock = SimClock(kind="sim", start=START, frozen=True)
    return SimState(universe_factory=factory, universe=factory(), clock=clock, mode="test")


def request_for(headers: dict[str, str], *, path: str = PATH, query: str = "") -> SimRequest:
    lower = {k.lower(): v for k, v in headers.items()}
    lower.setdefault("content-type", "application/json")
    return SimRequest("POST", path, query, lower, BODY.encode(), BASE)


def signed(
    key: str = KEY,
    secret: str = SECRET,
    token: str | None = BRAND_TOKEN,
    token_secret: str | None = BRAND_SECRET,
    *,
    base: str = BASE,
    query: str = "",
    client: type[Client] = Client,
    **client_options: Any,
) -> SimRequest:
    """A POST to the 28hr endpoint, signed by oauthlib's own client."""
    signer = client(
        key,
        client_secret=secret,
        resource_owner_key=token,
        resource_owner_secret=token_secret,
        **client_options,
    )
    uri = base + PATH + (f"?{query}" if query else "")
    _, headers, _ = signer.sign(
        uri, http_method="POST", body=BODY, headers={"Content-Type": "application/json"}
    )
    return request_for(headers, query=query)


def with_param(request: SimRequest, name: str, value: str | None) -> SimRequest:
    """The same request with one header parameter replaced (or removed when value is None)."""
    pairs = re.findall(r'(\w+)="([^"]*)"', request.headers["authorization"])
    pairs = [(k, v) for k, v in pairs if k != name] + ([(name, value)] if value is not None else [])
    header = "OAuth " + ", ".join(f'{k}="{v}"' for k, v in pairs)
    return request_for({**request.headers, "authorization": header}, query=request.raw_query)


def app_name(caught: auth.AuthFailure) -> str | None:
    return caught.app.name if caught.app else None


def failure(state: SimState, request: SimRequest) -> auth.AuthFailure:
    with pytest.raises(auth.AuthFailure) as caught:
        auth.authenticate_engagement(state, request)
    return caught.value


# -- success -----------------------------------------------------------------------------------


def test_user_context_identifies_the_app_and_the_account() -> None:
    identity = auth.authenticate_engagement(make_state(), signed())
    assert identity.mode == "user"
    assert identity.app.name == "default"
    assert identity.account is not None
    assert identity.account.screen_name == "sim_brand"


def test_requests_oauthlib_signing_with_query_and_lowercase_scheme_verifies() -> None:
    prepared = requests.Request(
        "POST",
        BASE + PATH + "?a=1,2&b=x%20y",
        data=BODY,
        headers={"Content-Type": "application/json"},
        auth=OAuth1(KEY, SECRET, BRAND_TOKEN, BRAND_SECRET),
    ).prepare()
    authorization = prepared.headers["Authorization"]
    header = authorization.decode() if isinstance(authorization, bytes) else authorization
    header = "oauth" + header[len("OAuth") :]
    url = urlsplit(prepared.url or "")
    request = request_for({"Authorization": header}, query=url.query)
    assert auth.authenticate_engagement(make_state(), request).mode == "user"


def test_realm_is_ignored() -> None:
    assert auth.authenticate_engagement(make_state(), signed(realm="X")).mode == "user"


def test_oauth_without_token_is_app_only() -> None:
    identity = auth.authenticate_engagement(make_state(), signed(token=None, token_secret=None))
    assert identity == auth.Identity(identity.app, None, "app-only")
    assert identity.app.name == "default"


def test_oauth_with_an_empty_token_is_app_only() -> None:
    class EmptyTokenClient(Client):
        def get_oauth_params(self, request: Any) -> list[tuple[str, str]]:
            params: list[tuple[str, str]] = super().get_oauth_params(request)
            return [*params, ("oauth_token", "")]

    request = signed(token=None, token_secret=None, client=EmptyTokenClient)
    assert 'oauth_token=""' in request.headers["authorization"]
    assert auth.authenticate_engagement(make_state(), request).mode == "app-only"


def test_public_base_url_replaces_the_request_origin() -> None:
    state = make_state()
    state.public_base_url = "https://sim.example.com"
    assert auth.authenticate_engagement(state, signed(base="https://sim.example.com")).account
    assert failure(state, signed()).reason == "Invalid signature"


def test_default_port_is_left_out_of_the_base_string() -> None:
    state = make_state()
    state.public_base_url = "https://sim.example.com:443"
    assert auth.authenticate_engagement(state, signed(base="https://sim.example.com")).account


# -- the 401 reasons of docs/simulator.md#401-reasons, in order ---------------------------------


@pytest.mark.parametrize(
    "header",
    ["", "Basic c2ltOnNpbQ==", "Digest x", "OAuth", "OAuth garbage", 'OAuth a="1", b'],
)
def test_missing_foreign_or_unparseable_header_is_unknown_type(header: str) -> None:
    headers = {"Authorization": header} if header else {}
    caught = failure(make_state(), request_for(headers))
    assert (caught.reason, caught.app) == ("Unknown Authorization Type", None)


@pytest.mark.parametrize(
    "name",
    [
        "oauth_consumer_key",
        "oauth_nonce",
        "oauth_signature",
        "oauth_signature_method",
        "oauth_timestamp",
    ],
)
def test_each_required_parameter_is_named_when_missing(name: str) -> None:
    caught = failure(make_state(), with_param(signed(), name, None))
    assert caught.reason == f"Missing OAuth parameter: {name}"
    assert caught.app is None


def test_missing_parameters_are_reported_in_documented_order() -> None:
    request = with_param(with_param(signed(), "oauth_timestamp", None), "oauth_nonce", None)
    assert failure(make_state(), request).reason == "Missing OAuth parameter: oauth_nonce"


@pytest.mark.parametrize(
    ("method", "shown"),
    [(SIGNATURE_PLAINTEXT, "PLAINTEXT"), (SIGNATURE_HMAC_SHA256, "HMAC-SHA256")],
)
def test_other_signature_methods_are_unsupported(method: str, shown: str) -> None:
    caught = failure(make_state(), signed(signature_method=method))
    assert caught.reason == f"Unsupported signature method: {shown}"


def test_signature_method_is_checked_before_the_consumer_key() -> None:
    request = signed(key="nobody", signature_method=SIGNATURE_PLAINTEXT)
    assert failure(make_state(), request).reason == "Unsupported signature method: PLAINTEXT"


def test_oauth_version_other_than_1_0_is_unsupported() -> None:
    caught = failure(make_state(), with_param(signed(key="nobody"), "oauth_version", "2.0"))
    assert caught.reason == "Unsupported OAuth version: 2.0"


def test_oauth_version_may_be_absent() -> None:
    class NoVersionClient(Client):
        def get_oauth_params(self, request: Any) -> list[tuple[str, str]]:
            params: list[tuple[str, str]] = super().get_oauth_params(request)
            return [(k, v) for k, v in params if k != "oauth_version"]

    request = signed(client=NoVersionClient)
    assert "oauth_version" not in request.headers["authorization"]
    assert auth.authenticate_engagement(make_state(), request).mode == "user"


def test_unknown_consumer_key() -> None:
    caught = failure(make_state(), signed(key="nobody", token="nothing"))
    assert (caught.reason, caught.app) == ("Consumer key not found", None)


def test_unknown_access_token() -> None:
    caught = failure(make_state(), signed(token="1000000001-made-up", token_secret="x"))
    assert caught.reason == "Access token not found"
    assert app_name(caught) == "default"


def test_revoked_access_token() -> None:
    state = make_state()
    state.revoked_access_tokens.add(BRAND_TOKEN)
    assert failure(state, signed()).reason == "Access token not found"


def test_another_apps_access_token() -> None:
    state = make_state()
    brand = state.universe.account("sim_brand")
    assert brand is not None
    brand.tokens.append(Token("not-allowlisted", "1000000001-other-app", "other-secret"))
    request = signed(token="1000000001-other-app", token_secret="other-secret")
    assert failure(state, request).reason == "Access token not found"


@pytest.mark.parametrize(
    "changes",
    [{"secret": "wrong"}, {"token_secret": "wrong"}, {"base": "http://127.0.0.1:9999"}],
)
def test_signature_mismatch(changes: dict[str, str]) -> None:
    caught = failure(make_state(), signed(**changes))
    assert caught.reason == "Invalid signature"
    assert app_name(caught) == "default"


def test_tampered_query_breaks_the_signature() -> None:
    request = signed(query="a=1")
    tampered = request_for(dict(request.headers), query="a=2")
    assert failure(make_state(), tampered).reason == "Invalid signature"


def test_engagement_form_bodies_are_not_signed_parameters() -> None:
    request = signed()
    form = SimRequest(
        "POST",
        PATH,
        "",
        {**request.headers, "content-type": "application/x-www-form-urlencoded"},
        b"extra=1",
        BASE,
    )
    assert auth.authenticate_engagement(make_state(), form).mode == "user"


def test_timestamp_window_uses_the_real_clock() -> None:
    state = make_state()  # the simulator clock says 2025-03-01
    state.options = state.options.updated({"oauth_timestamp_window_s": 300})
    assert auth.authenticate_engagement(state, signed()).mode == "user"
    stale = signed(timestamp=str(int(time.time()) - 3600))
    assert failure(state, stale).reason == "Timestamp out of bounds"


def test_timestamp_is_ignored_when_the_window_is_off() -> None:
    assert auth.authenticate_engagement(make_state(), signed(timestamp="1000")).mode == "user"


def test_signature_is_checked_before_the_timestamp() -> None:
    state = make_state()
    state.options = state.options.updated({"oauth_timestamp_window_s": 300})
    assert failure(state, signed(secret="wrong", timestamp="1000")).reason == "Invalid signature"


def test_nonce_replay_is_refused_only_when_enabled() -> None:
    state = make_state()
    request = signed()
    auth.authenticate_engagement(state, request)
    auth.authenticate_engagement(state, request)  # off by default
    state.options = state.options.updated({"oauth_nonce_check": True})
    auth.authenticate_engagement(state, request)
    assert failure(state, request).reason == "Duplicate nonce"


def test_disabled_app_is_refused_last() -> None:
    state = make_state()
    caught = failure(state, signed(DISABLED_KEY, DISABLED_SECRET))
    assert caught.reason == "Your application id is not authorized."
    assert app_name(caught) == "not-allowlisted"
    wrong = signed(DISABLED_KEY, "wrong")
    assert failure(state, wrong).reason == "Invalid signature"


def test_disabled_app_authenticates_outside_the_engagement_api() -> None:
    identity = auth.authenticate(make_state(), signed(DISABLED_KEY, DISABLED_SECRET))
    assert identity.app.name == "not-allowlisted"


# -- Bearer tokens ------------------------------------------------------------------------------


def bearer(token: str) -> SimRequest:
    return request_for({"Authorization": f"Bearer {token}"})


def test_bearer_token_form_and_stability() -> None:
    state = make_state()
    app = state.universe.app_by_key(KEY)
    assert app is not None
    token = auth.bearer_token_for(state, app)
    assert re.fullmatch(r"A{21}[0-9a-f]{32}%3D", token)
    assert auth.bearer_token_for(make_state(), app) == token
    disabled = state.universe.app_by_key(DISABLED_KEY)
    assert disabled is not None
    assert auth.bearer_token_for(state, disabled) != token


def test_bearer_token_is_app_only() -> None:
    state = make_state()
    app = state.universe.app_by_key(KEY)
    assert app is not None
    identity = auth.authenticate_engagement(state, bearer(auth.bearer_token_for(state, app)))
    assert (identity.app, identity.account, identity.mode) == (app, None, "app-only")


def test_bearer_token_is_compared_byte_for_byte() -> None:
    state = make_state()
    app = state.universe.app_by_key(KEY)
    assert app is not None
    decoded = auth.bearer_token_for(state, app).replace("%3D", "=")
    caught = failure(state, bearer(decoded))
    assert (caught.reason, caught.app) == ("Bearer token not found", None)
    assert failure(state, bearer("")).reason == "Bearer token not found"


def test_revoked_bearer_token_fails_and_a_new_one_is_issued() -> None:
    state = make_state()
    app = state.universe.app_by_key(KEY)
    assert app is not None
    old = auth.bearer_token_for(state, app)
    state.revoked_bearer_tokens.add(old)
    assert failure(state, bearer(old)).reason == "Bearer token not found"
    new = auth.bearer_token_for(state, app)
    assert new != old
    assert auth.authenticate_engagement(state, bearer(new)).app is app


def test_disabled_apps_bearer_token_is_not_authorized() -> None:
    state = make_state()
    app = state.universe.app_by_key(DISABLED_KEY)
    assert app is not None
    caught = failure(state, bearer(auth.bearer_token_for(state, app)))
    assert (caught.reason, caught.app) == ("Your application id is not authorized.", app)
