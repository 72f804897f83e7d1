"""The simulator's OAuth routes: /oauth2/token and the 3-legged flow
(docs/simulator.md#bearer-tokens, #connecting-accounts).

Requests are signed with oauthlib's client; the handlers are called directly.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from oauthlib.oauth1 import Client

from bot.simulator import auth, oauth_flow
from bot.simulator.clock import SimClock
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.seeded_universe import default_universe
from bot.simulator.state import SimState

START = datetime(2025, 3, 1, 12, tzinfo=UTC)
BASE = "http://127.0.0.1:8787"
KEY, SECRET = "sim-consumer-key", "sim-consumer-secret"
CALLBACK = "http://127.0.0.1:9999/cb"
FORM = "application/x-www-form-urlencoded"
ERROR_32 = {"errors": [{"code": 32, "message": "Could not authenticate you."}]}
ERROR_89 = {"errors": [{"code": 89, "message": "Invalid or expired token."}]}
ERROR_99 = {
    "errors": [
        {
            "code": 99,
            "label": "authenticity_token_error",
            "message": "Unable to verify your credentials",
        }
    ]
}
ERROR_170 = {
    "errors": [
        {
            "code": 170,
            "label": "forbidden_missing_parameter",
            "message": "Missing required parameter: grant_type",
        }
    ]
}
ERROR_415 = {
    "errors": [
        {
            "code": 415,
            "message": "Callback URL not approved for this client application. Approved callback "
            "URLs can be adjusted in your application settings.",
        }
    ]
}


def make_state() -> SimState:
    def factory() -> Any:
        return default_universe(seed=1, start_time=START)

    clock = SimClock(kind="sim", start=START, frozen=True)
    return SimState(universe_factory=factory, universe=factory(), clock=clock, mode="test")


def sim_request(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: str = "",
) -> SimRequest:
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    return SimRequest(method, path, query, lower, body.encode(), BASE)


def oauth_post(
    path: str, *, query: str = "", body: str = "", key: str = KEY, secret: str = SECRET, **kw: Any
) -> SimRequest:
    """A POST signed by oauthlib's client; a body is sent as a form."""
    client = Client(key, client_secret=secret, **kw)
    headers = {"Content-Type": FORM} if body else {}
    uri = BASE + path + (f"?{query}" if query else "")
    _, signed_headers, _ = client.sign(uri, http_method="POST", body=body or None, headers=headers)
    return sim_request("POST", path, query=query, headers=signed_headers, body=body)


def as_json(response: SimResponse) -> Any:
    return json.loads(response.body)


def as_form(response: SimResponse) -> dict[str, str]:
    assert response.content_type == FORM
    return {k: v[0] for k, v in parse_qs(response.body.decode()).items()}


def location(response: SimResponse) -> dict[str, str]:
    assert response.status == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def get_request_token(state: SimState, callback: str = CALLBACK) -> dict[str, str]:
    response = oauth_flow.request_token(
        state, oauth_post("/oauth/request_token", callback_uri=callback)
    )
    assert response.status == 200
    return as_form(response)


def authorize(state: SimState, query: str, path: str = "/oauth/authorize") -> SimResponse:
    return oauth_flow.authorize(state, sim_request("GET", path, query=query))


def approve(state: SimState, request_token: str, who: str = "sim_newcomer") -> str:
    response = authorize(state, f"oauth_token={request_token}&sim_approve={who}")
    return location(response)["oauth_verifier"]


def exchange(state: SimState, request_token: str, verifier: str) -> SimResponse:
    query = f"oauth_token={request_token}&oauth_verifier={verifier}"
    return oauth_flow.access_token(state, sim_request("POST", "/oauth/access_token", query=query))


# -- POST /oauth2/token --------------------------------------------------------------------------


def basic(key: str, secret: str) -> dict[str, str]:
    pair = f"{quote(key, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode(), "Content-Type": FORM}


def bearer_request(headers: dict[str, str], body: str = "grant_type=client_credentials") -> Any:
    return sim_request("POST", "/oauth2/token", headers=headers, body=body)


def test_token_issues_the_apps_bearer_token_and_repeats_it() -> None:
    state = make_state()
    first = oauth_flow.token(state, bearer_request(basic(KEY, SECRET)))
    assert first.status == 200
    body = as_json(first)
    assert body["token_type"] == "bearer"
    assert re.fullmatch(r"A{21}[0-9a-f]{32}%3D", body["access_token"])
    again = oauth_flow.token(state, bearer_request(basic(KEY, SECRET)))
    assert as_json(again) == body


def test_grant_type_may_be_in_the_query() -> None:
    request = sim_request(
        "POST", "/oauth2/token", query="grant_type=client_credentials", headers=basic(KEY, SECRET)
    )
    assert oauth_flow.token(make_state(), request).status == 200


def test_credentials_are_percent_decoded_after_base64() -> None:
    state = make_state()
    app = state.universe.apps[0]
    app.consumer_key, app.consumer_secret = "key with/slash", "50%41off+"
    assert (
        oauth_flow.token(state, bearer_request(basic(app.consumer_key, "50%41off+"))).status == 200
    )
    # Sent without pct(), "%41" would be read as "A".
    raw = base64.b64encode(b"key%20with%2Fslash:50%41off+").decode()
    unencoded = {"Authorization": f"Basic {raw}", "Content-Type": FORM}
    assert oauth_flow.token(state, bearer_request(unencoded)).status == 403


@pytest.mark.parametrize(
    "headers",
    [
        basic(KEY, "wrong"),
        basic("nobody", SECRET),
        {},
        {"Authorization": "Basic not base64!"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": "Bearer x"},
    ],
)
def test_bad_credentials_are_403_code_99(headers: dict[str, str]) -> None:
    response = oauth_flow.token(make_state(), bearer_request(headers))
    assert (response.status, as_json(response)) == (403, ERROR_99)


@pytest.mark.parametrize("body", ["", "grant_type=password", "grant_type="])
def test_missing_or_wrong_grant_type_is_400_code_170(body: str) -> None:
    response = oauth_flow.token(make_state(), bearer_request(basic(KEY, SECRET), body))
    assert (response.status, as_json(response)) == (400, ERROR_170)


def test_after_revocation_a_new_bearer_token_is_issued() -> None:
    state = make_state()
    old = as_json(oauth_flow.token(state, bearer_request(basic(KEY, SECRET))))["access_token"]
    state.revoked_bearer_tokens.add(old)
    new = as_json(oauth_flow.token(state, bearer_request(basic(KEY, SECRET))))["access_token"]
    assert new != old

    def call(token: str) -> SimRequest:
        headers = {"Authorization": f"Bearer {token}"}
        return sim_request("POST", "/insights/engagement/totals", headers=headers)

    with pytest.raises(auth.AuthFailure, match="Bearer token not found"):
        auth.authenticate_engagement(state, call(old))
    assert auth.authenticate_engagement(state, call(new)).mode == "app-only"


# -- POST /oauth/request_token ------------------------------------------------------------------


def test_request_token_is_form_encoded_and_remembered() -> None:
    state = make_state()
    fields = get_request_token(state)
    assert fields["oauth_callback_confirmed"] == "true"
    assert re.fullmatch(r"[A-Za-z0-9]{32}", fields["oauth_token"])
    record = state.request_tokens[fields["oauth_token"]]
    assert (record.secret, record.callback, record.app) == (
        fields["oauth_token_secret"],
        CALLBACK,
        "default",
    )
    assert record.issued_at == START
    assert get_request_token(state)["oauth_token"] != fields["oauth_token"]


def test_callback_may_be_a_query_or_form_parameter() -> None:
    state = make_state()
    query = f"oauth_callback={quote(CALLBACK, safe='')}"
    by_query = oauth_flow.request_token(state, oauth_post("/oauth/request_token", query=query))
    by_form = oauth_flow.request_token(state, oauth_post("/oauth/request_token", body=query))
    assert (by_query.status, by_form.status) == (200, 200)
    assert {r.callback for r in state.request_tokens.values()} == {CALLBACK}


def test_form_parameters_are_part_of_the_signature() -> None:
    signed = oauth_post("/oauth/request_token", body="oauth_callback=oob")
    tampered = SimRequest(
        signed.method, signed.path, "", signed.headers, b"oauth_callback=oob&x=1", BASE
    )
    response = oauth_flow.request_token(make_state(), tampered)
    assert (response.status, as_json(response)) == (401, ERROR_32)


@pytest.mark.parametrize(
    "request_",
    [
        oauth_post("/oauth/request_token"),  # no callback
        oauth_post("/oauth/request_token", secret="wrong", callback_uri=CALLBACK),
        oauth_post("/oauth/request_token", key="nobody", callback_uri=CALLBACK),
        sim_request("POST", "/oauth/request_token", query="oauth_callback=oob"),  # unsigned
    ],
)
def test_request_token_refusals_are_401_code_32(request_: SimRequest) -> None:
    response = oauth_flow.request_token(make_state(), request_)
    assert (response.status, as_json(response)) == (401, ERROR_32)


def test_callback_must_be_approved_when_the_app_lists_some() -> None:
    state = make_state()
    state.universe.apps[0].callback_urls = ["http://127.0.0.1:9999/cb?from=settings"]
    refused = oauth_flow.request_token(
        state, oauth_post("/oauth/request_token", callback_uri="http://evil.example/cb")
    )
    assert (refused.status, as_json(refused)) == (403, ERROR_415)
    assert get_request_token(state, CALLBACK + "?state=xyz")["oauth_callback_confirmed"] == "true"
    assert get_request_token(state, "oob")["oauth_callback_confirmed"] == "true"


def test_disabled_app_may_connect_accounts() -> None:
    request = oauth_post(
        "/oauth/request_token",
        key="sim-disabled-consumer-key",
        secret="sim-disabled-consumer-secret",
        callback_uri="oob",
    )
    assert oauth_flow.request_token(make_state(), request).status == 200


# -- GET /oauth/authorize -----------------------------------------------------------------------


def test_consent_page_lists_every_account_and_cancel() -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    page = authorize(state, f"oauth_token={token}&force_login=true")
    assert page.status == 200
    assert page.content_type.startswith("text/html")
    text = page.body.decode()
    names = re.findall(r"Authorize as @(\w+)", text)
    assert names == ["sim_brand", "sim_creator", "sim_private", "sim_newcomer"]
    assert f"oauth_token={token}&amp;force_login=true&amp;sim_approve=sim_brand" in text
    assert "sim_deny=1" in text
    assert "Cancel" in text


def test_screen_name_puts_that_account_first() -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    text = authorize(state, f"oauth_token={token}&screen_name=sim_newcomer").body.decode()
    assert re.findall(r"Authorize as @(\w+)", text)[0] == "sim_newcomer"


@pytest.mark.parametrize("path", ["/oauth/authorize", "/oauth/authenticate"])
@pytest.mark.parametrize("who", ["sim_newcomer", "1000000004", "@SIM_NEWCOMER"])
def test_sim_approve_redirects_to_the_callback(path: str, who: str) -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    response = authorize(state, f"oauth_token={token}&sim_approve={quote(who)}", path)
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == CALLBACK
    params = location(response)
    assert params["oauth_token"] == token
    assert re.fullmatch(r"[A-Za-z0-9]{32}", params["oauth_verifier"])
    assert state.request_tokens[token].approved_user_id == "1000000004"


def test_callback_with_a_query_gets_an_ampersand() -> None:
    state = make_state()
    token = get_request_token(state, CALLBACK + "?state=abc")["oauth_token"]
    response = authorize(state, f"oauth_token={token}&sim_approve=sim_newcomer")
    assert response.headers["Location"].startswith(f"{CALLBACK}?state=abc&oauth_token={token}&")


def test_pin_mode_shows_a_seven_digit_pin() -> None:
    state = make_state()
    token = get_request_token(state, "oob")["oauth_token"]
    page = authorize(state, f"oauth_token={token}&sim_approve=sim_newcomer")
    assert page.status == 200
    assert "Location" not in page.headers
    pin = re.search(r'id="pin">(\d+)<', page.body.decode())
    assert pin is not None
    assert re.fullmatch(r"[1-9]\d{6}", pin.group(1))
    assert exchange(state, token, pin.group(1)).status == 200


def test_sim_deny_redirects_with_denied() -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    response = authorize(state, f"oauth_token={token}&sim_deny=1")
    assert response.headers["Location"] == f"{CALLBACK}?denied={token}"
    again = authorize(state, f"oauth_token={token}&sim_approve=sim_newcomer")
    assert again.status == 400


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("oauth_token=unknown&sim_approve=sim_newcomer", "Invalid or expired request token"),
        ("", "Invalid or expired request token"),
        ("oauth_token={token}&sim_approve=nobody", "Unknown account"),
    ],
)
def test_authorize_errors_are_400_pages(query: str, message: str) -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    page = authorize(state, query.format(token=token))
    assert page.status == 400
    assert page.content_type.startswith("text/html")
    assert message in page.body.decode()


def test_request_tokens_expire_after_15_minutes_of_simulator_time() -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    state.clock.advance(15 * 60 - 1)
    assert authorize(state, f"oauth_token={token}").status == 200
    state.clock.advance(1)
    assert authorize(state, f"oauth_token={token}&sim_approve=sim_newcomer").status == 400


# -- POST /oauth/access_token -------------------------------------------------------------------


def test_three_legged_recipe_connects_an_account() -> None:
    """docs/simulator.md#end-to-end: request token → sim_approve → access token → a call."""
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    verifier = approve(state, token)
    response = exchange(state, token, verifier)
    assert response.status == 200
    fields = as_form(response)
    assert fields["user_id"] == "1000000004"
    assert fields["screen_name"] == "sim_newcomer"
    assert re.fullmatch(r"1000000004-[A-Za-z0-9]{40}", fields["oauth_token"])
    assert re.fullmatch(r"[A-Za-z0-9]{45}", fields["oauth_token_secret"])

    client = Client(
        KEY,
        client_secret=SECRET,
        resource_owner_key=fields["oauth_token"],
        resource_owner_secret=fields["oauth_token_secret"],
    )
    uri = BASE + "/insights/engagement/28hr"
    _, headers, body = client.sign(
        uri, http_method="POST", body="{}", headers={"Content-Type": "application/json"}
    )
    call = sim_request("POST", "/insights/engagement/28hr", headers=headers, body=body or "")
    identity = auth.authenticate_engagement(state, call)
    assert identity.mode == "user"
    assert identity.account is not None
    assert identity.account.screen_name == "sim_newcomer"


def connect(state: SimState, who: str = "sim_newcomer") -> dict[str, str]:
    token = get_request_token(state)["oauth_token"]
    return as_form(exchange(state, token, approve(state, token, who)))


def test_reauthorizing_returns_the_same_pair_across_restarts() -> None:
    state = make_state()
    first = connect(state)
    assert connect(state) == first
    assert connect(make_state()) == first
    newcomer = state.universe.account("sim_newcomer")
    assert newcomer is not None
    assert len(newcomer.tokens) == 1


def test_existing_token_is_returned_as_is() -> None:
    fields = connect(make_state(), "sim_brand")
    assert fields["oauth_token"] == "1000000001-simtoken-sim_brand"
    assert fields["oauth_token_secret"] == "simsecret-sim_brand"


def test_revoked_token_is_replaced_on_reconnect() -> None:
    state = make_state()
    first = connect(state)
    state.revoked_access_tokens.add(first["oauth_token"])
    second = connect(state)
    assert second["oauth_token"] != first["oauth_token"]
    assert second["oauth_token"].startswith("1000000004-")
    app = state.universe.apps[0]
    assert state.universe.token(app, second["oauth_token"]) is not None
    assert state.universe.token(app, first["oauth_token"]) is None


def test_signed_exchange_uses_the_request_token_secret() -> None:
    state = make_state()
    fields = get_request_token(state)
    verifier = approve(state, fields["oauth_token"])

    def signed(secret: str) -> SimRequest:
        return oauth_post(
            "/oauth/access_token",
            resource_owner_key=fields["oauth_token"],
            resource_owner_secret=secret,
            verifier=verifier,
        )

    bad = oauth_flow.access_token(state, signed("wrong"))
    assert (bad.status, as_json(bad)) == (401, ERROR_32)
    good = oauth_flow.access_token(state, signed(fields["oauth_token_secret"]))
    assert as_form(good)["screen_name"] == "sim_newcomer"


def test_parameters_may_come_in_a_form_body() -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    body = f"oauth_token={token}&oauth_verifier={approve(state, token)}"
    request = sim_request("POST", "/oauth/access_token", headers={"Content-Type": FORM}, body=body)
    assert oauth_flow.access_token(state, request).status == 200


def test_a_used_request_token_cannot_be_replayed() -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    verifier = approve(state, token)
    assert exchange(state, token, verifier).status == 200
    replay = exchange(state, token, verifier)
    assert (replay.status, as_json(replay)) == (401, ERROR_89)


def test_wrong_verifier_is_refused_and_the_token_stays_usable() -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    verifier = approve(state, token)
    wrong = exchange(state, token, "x" + verifier[1:] if verifier[0] != "x" else "y")
    assert (wrong.status, as_json(wrong)) == (401, ERROR_89)
    assert exchange(state, token, verifier).status == 200


@pytest.mark.parametrize("case", ["unknown", "unapproved", "denied", "expired", "missing"])
def test_invalid_request_tokens_are_401_code_89(case: str) -> None:
    state = make_state()
    token = get_request_token(state)["oauth_token"]
    verifier = "whatever"
    if case == "unknown":
        token = "unknown"
    elif case == "denied":
        authorize(state, f"oauth_token={token}&sim_deny=1")
    elif case == "expired":
        verifier = approve(state, token)
        state.clock.advance(15 * 60)
    elif case == "missing":
        token = ""
    response = exchange(state, token, verifier)
    assert (response.status, as_json(response)) == (401, ERROR_89)
