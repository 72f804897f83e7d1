"""The OAuth routes: app-only tokens and the 3-legged flow (docs/simulator.md#bearer-tokens,
#connecting-accounts).

These routes answer in X's standard error shape (`{"errors":[{"code":…,"message":…}]}`), not
the engagement endpoints' strings, and gzip only when asked (the server does that).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import secrets
import string
from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode

from bot.simulator import auth
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.state import RequestToken, SimState
from bot.simulator.universe import Account, App, Token

REQUEST_TOKEN_LIFETIME = timedelta(minutes=15)
ALPHANUMERIC = string.ascii_letters + string.digits

BAD_CREDENTIALS = {
    "errors": [
        {
            "code": 99,
            "label": "authenticity_token_error",
            "message": "Unable to verify your credentials",
        }
    ]
}
BAD_GRANT_TYPE = {
    "errors": [
        {
            "code": 170,
            "label": "forbidden_missing_parameter",
            "message": "Missing required parameter: grant_type",
        }
    ]
}
NOT_AUTHENTICATED = (32, "Could not authenticate you.")
CALLBACK_NOT_APPROVED = (
    415,
    "Callback URL not approved for this client application. Approved callback URLs can be "
    "adjusted in your application settings.",
)
INVALID_TOKEN = (89, "Invalid or expired token.")


def _x_error(status: int, code_and_message: tuple[int, str]) -> SimResponse:
    code, message = code_and_message
    return SimResponse.json(status, {"errors": [{"code": code, "message": message}]})


def _form(request: SimRequest) -> dict[str, list[str]]:
    """The form body; also read when a client sent one without any Content-Type."""
    if request.form or request.header("content-type") or not request.body:
        return request.form
    return parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)


def _param(request: SimRequest, name: str, header: Mapping[str, str] | None = None) -> str:
    """A parameter from the OAuth header, else the query, else the form body ("" if absent)."""
    if header and header.get(name):
        return header[name]
    for source in (request.query, _form(request)):
        if source.get(name):
            return source[name][0]
    return ""


# -- POST /oauth2/token -------------------------------------------------------------------------


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, encoded = auth.split_authorization(header)
    if scheme != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote(key), unquote(secret)


def token(state: SimState, request: SimRequest) -> SimResponse:
    """POST /oauth2/token: the app's Bearer token for Basic key:secret credentials."""
    credentials = _basic_credentials(request.header("authorization"))
    with state.lock:
        app = state.universe.app_by_key(credentials[0]) if credentials else None
        if credentials is None or app is None or not _same(app.consumer_secret, credentials[1]):
            return SimResponse.json(403, BAD_CREDENTIALS)
        # Credentials are checked first: a stranger learns nothing about the request's shape.
        if _param(request, "grant_type") != "client_credentials":
            return SimResponse.json(400, BAD_GRANT_TYPE)
        bearer = auth.bearer_token_for(state, app)
    return SimResponse.json(200, {"token_type": "bearer", "access_token": bearer})


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


# -- POST /oauth/request_token ------------------------------------------------------------------


def _signed_by_app(state: SimState, request: SimRequest) -> tuple[App, dict[str, str]] | None:
    """The app and header parameters of a request signed with no token, or None."""
    header = request.header("authorization")
    if auth.split_authorization(header)[0] != "oauth":
        return None
    params = auth.parse_oauth_header(header)
    if params is None or auth.precheck_oauth(params) is not None:
        return None
    app = state.universe.app_by_key(params["oauth_consumer_key"])
    if app is None:
        return None
    failure = auth.verify_oauth(
        state, request, header, params, consumer_secret=app.consumer_secret, token_secret=""
    )
    return None if failure else (app, params)


def _without_query(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0]


def _callback_approved(app: App, callback: str) -> bool:
    if callback == "oob" or not app.callback_urls:
        return True
    return _without_query(callback) in {_without_query(url) for url in app.callback_urls}


def _random_alphanumeric(length: int) -> str:
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


def _forget_expired(state: SimState) -> None:
    """Drop request tokens past their lifetime so the table stays small."""
    now = state.now()
    for key, record in list(state.request_tokens.items()):
        if record.used or now - record.issued_at >= REQUEST_TOKEN_LIFETIME:
            del state.request_tokens[key]


def request_token(state: SimState, request: SimRequest) -> SimResponse:
    """POST /oauth/request_token: a fresh single-use request token for a signed app."""
    with state.lock:
        signed = _signed_by_app(state, request)
        if signed is None:
            return _x_error(401, NOT_AUTHENTICATED)
        app, params = signed
        callback = _param(request, "oauth_callback", params)
        if not callback:
            return _x_error(401, NOT_AUTHENTICATED)
        if not _callback_approved(app, callback):
            return _x_error(403, CALLBACK_NOT_APPROVED)
        _forget_expired(state)
        record = RequestToken(
            token=_random_alphanumeric(32),
            secret=_random_alphanumeric(32),
            app=app.name,
            callback=callback,
            issued_at=state.now(),
        )
        state.request_tokens[record.token] = record
    fields = {
        "oauth_token": record.token,
        "oauth_token_secret": record.secret,
        "oauth_callback_confirmed": "true",
    }
    return SimResponse.form(200, fields)


def _live_request_token(state: SimState, value: str) -> RequestToken | None:
    """The request token if it exists, is unused and has not expired (simulator clock)."""
    record = state.request_tokens.get(value) if value else None
    if record is None or record.used:
        return None
    if state.now() - record.issued_at >= REQUEST_TOKEN_LIFETIME:
        return None
    return record


# -- GET /oauth/authorize and /oauth/authenticate -----------------------------------------------


def _page(status: int, title: str, body: str) -> SimResponse:
    text = (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n<h1>{html.escape(title)}</h1>\n"
        f"{body}</body></html>\n"
    )
    return SimResponse.html(status, text)


def _with_query(url: str, fields: Mapping[str, str]) -> str:
    """`url` plus `fields`, joined with `?`, or `&` when the URL already has a query."""
    if url.endswith(("?", "&")):
        return url + urlencode(fields)
    return url + ("&" if "?" in url else "?") + urlencode(fields)


def _redirect(location: str) -> SimResponse:
    link = html.escape(location)
    page = _page(302, "Redirecting", f'<p><a href="{link}">Continue</a></p>\n')
    page.headers["Location"] = location
    return page


def _link(request: SimRequest, name: str, value: str) -> str:
    """This page's URL with one simulator parameter added (earlier ones dropped)."""
    query = parse_qsl(request.raw_query, keep_blank_values=True)
    kept = [(k, v) for k, v in query if not k.startswith("sim_")] + [(name, value)]
    return f"{request.path}?{urlencode(kept)}"


def _consent_page(state: SimState, request: SimRequest, record: RequestToken) -> SimResponse:
    """The page a person would see: one link per simulated account, and Cancel."""
    accounts = list(state.universe.accounts)
    first = request.query_value("screen_name")
    wanted = state.universe.account(first) if first else None
    if wanted is not None:
        accounts = [wanted] + [a for a in accounts if a is not wanted]
    items = "".join(
        f'<li><a href="{html.escape(_link(request, "sim_approve", a.screen_name))}">'
        f"Authorize as @{html.escape(a.screen_name)}</a></li>\n"
        for a in accounts
    )
    cancel = html.escape(_link(request, "sim_deny", "1"))
    body = (
        f"<p>{html.escape(record.app)} wants to use your account.</p>\n"
        f'<ul>\n{items}</ul>\n<p><a href="{cancel}">Cancel</a></p>\n'
    )
    return _page(200, f"Authorize {record.app}", body)


def _approve(record: RequestToken, account: Account) -> SimResponse:
    pin_mode = record.callback == "oob"
    # PIN mode shows the verifier to a person, so it is the documented 7 digits.
    record.verifier = (
        str(1_000_000 + secrets.randbelow(9_000_000)) if pin_mode else _random_alphanumeric(32)
    )
    record.approved_user_id = account.user_id
    if pin_mode:
        body = (
            f'<p>Enter this PIN to complete authorization:</p>\n<p id="pin">{record.verifier}</p>\n'
        )
        return _page(200, "PIN", body)
    fields = {"oauth_token": record.token, "oauth_verifier": record.verifier}
    return _redirect(_with_query(record.callback, fields))


def authorize(state: SimState, request: SimRequest) -> SimResponse:
    """GET /oauth/authorize (and /oauth/authenticate): consent page, or sim_approve/sim_deny."""
    with state.lock:
        record = _live_request_token(state, request.query_value("oauth_token") or "")
        # An approved token waits for the exchange; it cannot be approved (or denied) twice.
        if record is None or record.verifier is not None:
            return _page(400, "Error", "<p>Invalid or expired request token</p>\n")
        if request.query_value("sim_deny") == "1":
            record.used = True
            if record.callback == "oob":
                return _page(200, "Authorization denied", "<p>You did not authorize the app.</p>\n")
            return _redirect(_with_query(record.callback, {"denied": record.token}))
        approve_as = request.query_value("sim_approve")
        if approve_as is None:
            return _consent_page(state, request, record)
        account = state.universe.account(approve_as)
        if account is None:
            return _page(400, "Error", "<p>Unknown account</p>\n")
        return _approve(record, account)


# -- POST /oauth/access_token -------------------------------------------------------------------


def _derived_alphanumeric(text: str, length: int) -> str:
    """`length` base-62 digits of SHA-512(text): stable, unguessable without the inputs."""
    number = int.from_bytes(hashlib.sha512(text.encode("utf-8")).digest(), "big")
    digits = []
    for _ in range(length):
        number, digit = divmod(number, len(ALPHANUMERIC))
        digits.append(ALPHANUMERIC[digit])
    return "".join(digits)


def _derived_token(state: SimState, app: App, account: Account, generation: int) -> Token:
    # The consumer secret takes part so a token cannot be computed from public facts alone.
    base = f"{state.universe.seed}|{app.name}|{app.consumer_secret}|{account.user_id}|{generation}"
    return Token(
        app=app.name,
        access_token=f"{account.user_id}-{_derived_alphanumeric(base + '|token', 40)}",
        access_token_secret=_derived_alphanumeric(base + "|secret", 45),
    )


def issue_access_token(state: SimState, app: App, account: Account) -> Token:
    """The account's token for the app: the existing one, else derived; now it authenticates.

    A revoked token is replaced by the next derived generation, so reconnecting after a
    revocation works while the revoked token stays dead.
    """
    revoked = state.revoked_access_tokens
    for existing in account.tokens:
        if existing.app == app.name and existing.access_token not in revoked:
            return existing
    generation = 0
    while (issued := _derived_token(state, app, account, generation)).access_token in revoked:
        generation += 1
    account.tokens = [t for t in account.tokens if t.app != app.name] + [issued]
    return issued


def _access_token_signature_ok(
    state: SimState, request: SimRequest, record: RequestToken, params: Mapping[str, str]
) -> bool:
    header = request.header("authorization")
    app = state.universe.app_by_name(record.app)
    if app is None or params["oauth_consumer_key"] != app.consumer_key:
        return False
    failure = auth.verify_oauth(
        state,
        request,
        header,
        params,
        consumer_secret=app.consumer_secret,
        token_secret=record.secret,
    )
    return failure is None


def access_token(state: SimState, request: SimRequest) -> SimResponse:
    """POST /oauth/access_token: exchange an approved request token and verifier."""
    header = request.header("authorization")
    # Unsigned calls are accepted; an OAuth header, when sent, must verify.
    signed = auth.split_authorization(header)[0] == "oauth"
    params = auth.parse_oauth_header(header) if signed else {}
    if params is None or (signed and auth.precheck_oauth(params) is not None):
        return _x_error(401, NOT_AUTHENTICATED)
    with state.lock:
        if signed and state.universe.app_by_key(params["oauth_consumer_key"]) is None:
            return _x_error(401, NOT_AUTHENTICATED)
        record = _live_request_token(state, _param(request, "oauth_token", params))
        if record is None or record.verifier is None or record.approved_user_id is None:
            return _x_error(401, INVALID_TOKEN)
        if signed and not _access_token_signature_ok(state, request, record, params):
            return _x_error(401, NOT_AUTHENTICATED)
        # A mistyped PIN leaves the request token usable, so the person can try again.
        if not _same(record.verifier, _param(request, "oauth_verifier", params)):
            return _x_error(401, INVALID_TOKEN)
        app = state.universe.app_by_name(record.app)
        account = state.universe.account_by_id(record.approved_user_id)
        if app is None or account is None:  # edited away since approval
            return _x_error(401, INVALID_TOKEN)
        record.used = True
        issued = issue_access_token(state, app, account)
    fields = {
        "oauth_token": issued.access_token,
        "oauth_token_secret": issued.access_token_secret,
        "user_id": account.user_id,
        "screen_name": account.screen_name,
    }
    return SimResponse.form(200, fields)
