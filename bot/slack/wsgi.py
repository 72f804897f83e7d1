"""The bot's HTTP side as one WSGI app, and the threaded server that serves it.

Routes: POST /slack/events (Slack's signed requests, HTTP mode), GET /healthz, the X account
connection pages (/x/connect/<link id>, /x/oauth/callback) and the Slack install
(/slack/install, /slack/oauth_redirect, several workspaces). Served by the standard library's
wsgiref with one thread per request; Bolt answers each request as soon as the command is acked,
so requests stay short.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import extract_content_type, parse_body
from slack_sdk.signature import SignatureVerifier

from bot.channels.meter import NO_METER, Meter
from bot.channels.outbox import Clock
from bot.config import Settings
from bot.copy.operator import (
    BAD_SIGNATURE,
    BODY_NOT_OBJECT,
    BODY_UNREADABLE,
    OAUTH_NOT_SET_UP,
    SOCKET_MODE_EVENTS,
    X_CALLBACK_NOT_READY,
    bad_request,
)
from bot.engagement.client import OAuthClient
from bot.slack import connect
from bot.slack.oauth import INSTALL_PATH, REDIRECT_PATH
from bot.slack.operator_routes import (
    OPERATOR_PATHS,
    REASONS,
    Health,
    Ready,
    operator_route,
    text_reply,
)
from bot.slack.replays import SeenSignatures
from bot.store import Store
from bot.store.connect_links import ConnectLink

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment


log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATHS = (INSTALL_PATH, REDIRECT_PATH)
X_CALLBACK_PATH = connect.CALLBACK_PATH
X_CONNECT_PREFIX = connect.CONNECT_PATH
MAX_BODY_BYTES = 1 << 20  # Slack's payloads are a few KB
REQUEST_TIMEOUT_S = 30

Notify = Callable[[ConnectLink, str], None]


@dataclass(frozen=True)
class XConnect:
    """What the HTTP listener needs to run `/engagement connect`'s OAuth flow."""

    store: Store
    client: OAuthClient
    settings: Settings
    clock: Clock
    notify: Notify


# -- the WSGI app ---------------------------------------------------------------------------------


def make_wsgi_app(
    app: App | None,
    *,
    health: Health,
    x_connect: XConnect | None = None,
    install: App | None = None,
    signing_secret: str | None = None,
    meter: Meter = NO_METER,
    ready: Ready | None = None,
) -> WSGIApplication:
    """Routes: POST /slack/events to Bolt (None: Socket Mode, so 404), GET /healthz (are X and
    Slack answering?), GET /readyz (can this process serve: `ready`), GET /metrics (`meter`'s,
    404 when it counts nothing),
    GET/HEAD/POST /x/connect/<link id> and GET /x/oauth/callback (404 without `x_connect`), GET
    /slack/install and /slack/oauth_redirect to the OAuth flow of `install` (default: `app`;
    404 when it has none), anything else 404.

    A request to /slack/events reaches Bolt only once its signature checks out against
    `signing_secret` (required with `app`): Bolt's own check turns a malformed signature or
    timestamp into an error its error handler would answer, through the request's unverified
    response_url. It reaches Bolt only once, too (a redelivery of the same signed request gets
    an empty 200), and only if Bolt can read its body for its content type (else a 400).
    """
    if app is not None and not signing_secret:
        raise ValueError("make_wsgi_app needs the signing secret to serve /slack/events")
    events = SlackRequestHandler(app, path=EVENTS_PATH) if app is not None else None
    verifier = SignatureVerifier(signing_secret) if signing_secret else None
    oauth_app = install if install is not None else app
    oauth = (
        SlackRequestHandler(oauth_app, path=EVENTS_PATH)
        if oauth_app is not None and oauth_app.oauth_flow is not None
        else None
    )
    events_route = _timed(_events_route(events, verifier, SeenSignatures()), meter)

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "/")
        method = str(environ.get("REQUEST_METHOD") or "GET")
        if path == EVENTS_PATH:
            return events_route(environ, start_response)
        if path in INSTALL_PATHS:
            return _install_route(oauth, method, environ, start_response)
        if path in OPERATOR_PATHS:
            return operator_route(path, method, health, ready, meter, start_response)
        if path == X_CALLBACK_PATH or path.startswith(X_CONNECT_PREFIX):
            if x_connect is None:
                return text_reply(start_response, 404, X_CALLBACK_NOT_READY)
            # Only GET acts at the callback; the link acts on its button's POST. A HEAD, like
            # a GET of the link, is what a link-preview bot or mail scanner sends: it spends
            # nothing.
            allowed = ("GET",) if path == X_CALLBACK_PATH else ("GET", "HEAD", "POST")
            if method not in allowed:
                return text_reply(
                    start_response, 405, "Method Not Allowed", [("Allow", ", ".join(allowed))]
                )
            return _x_connect(x_connect, path, method, environ, start_response)
        return text_reply(start_response, 404, "Not Found")

    return wsgi


def _install_route(
    oauth: SlackRequestHandler | None,
    method: str,
    environ: WSGIEnvironment,
    start_response: StartResponse,
) -> Iterable[bytes]:
    if oauth is None:
        return text_reply(start_response, 404, OAUTH_NOT_SET_UP)
    if method != "GET":
        return text_reply(start_response, 405, "Method Not Allowed", [("Allow", "GET")])
    return oauth(environ, start_response)


def _timed(route: WSGIApplication, meter: Meter) -> WSGIApplication:
    """`route`, its answers' time told to `meter` (the ack latency Slack sees, give or take the
    network)."""

    def timed(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        try:
            return route(environ, start_response)
        finally:
            meter.acked(time.monotonic() - started)

    return timed


def _events_route(
    events: SlackRequestHandler | None, verifier: SignatureVerifier | None, seen: SeenSignatures
) -> WSGIApplication:
    """POST /slack/events: to Bolt once signed, readable and seen for the first time."""

    def route(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if events is None:
            return text_reply(start_response, 404, SOCKET_MODE_EVENTS)
        if str(environ.get("REQUEST_METHOD") or "GET") != "POST":
            return text_reply(start_response, 405, "Method Not Allowed", [("Allow", "POST")])
        length = _content_length(environ)
        if length is None:
            return text_reply(start_response, 400, "Bad Request: Content-Length")
        if length > MAX_BODY_BYTES:
            return text_reply(start_response, 413, "Payload Too Large")
        body = environ["wsgi.input"].read(length) if length else b""
        if verifier is None or not _signed(verifier, environ, body):
            if _ssl_check(body):  # Slack's certificate probe: an empty 200, nothing else
                return text_reply(start_response, 200, "")
            return text_reply(start_response, 401, BAD_SIGNATURE)
        unreadable = _unreadable(environ, body)
        if unreadable is not None:
            return text_reply(start_response, 400, bad_request(unreadable))
        if not seen.first_time(
            str(environ["HTTP_X_SLACK_SIGNATURE"]),
            str(environ["HTTP_X_SLACK_REQUEST_TIMESTAMP"]),
        ):
            log.info("a signed Slack request was delivered again: answered, not run again")
            return text_reply(start_response, 200, "")
        environ["wsgi.input"] = io.BytesIO(body)
        return events(environ, start_response)

    return route


def _x_connect(
    x: XConnect,
    path: str,
    method: str,
    environ: WSGIEnvironment,
    start_response: StartResponse,
) -> list[bytes]:
    now = x.clock()
    link_id = path.removeprefix(X_CONNECT_PREFIX)
    if path == X_CALLBACK_PATH:
        query = dict(parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True))
        outcome = connect.finish(query, store=x.store, client=x.client, now=now)
    elif method == "POST":
        outcome = connect.begin(
            link_id, store=x.store, client=x.client, settings=x.settings, now=now
        )
    else:
        outcome = connect.preview(link_id, store=x.store, now=now)
    if outcome.link is not None and outcome.notify is not None:
        try:
            x.notify(outcome.link, outcome.notify)
        except Exception:  # the account is linked either way; Slack only hears of it late
            log.warning("could not tell the requester in Slack", exc_info=True)
    headers = [("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer")]
    if outcome.location is not None:
        start_response("302 Found", [("Location", outcome.location), *headers])
        return [b""]
    body = connect.page(outcome)
    start_response(
        f"{outcome.status} {REASONS.get(outcome.status, 'Error')}",
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *headers,
        ],
    )
    return [b"" if method == "HEAD" else body]


def _content_length(environ: WSGIEnvironment) -> int | None:
    """The request's Content-Length; None when it is not a whole number of bytes."""
    text = str(environ.get("CONTENT_LENGTH") or "0").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _ssl_check(body: bytes) -> bool:
    try:
        return ("ssl_check", "1") in parse_qsl(body.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False


def _unreadable(environ: WSGIEnvironment, body: bytes) -> str | None:
    """Why Bolt could not read this body as its Content-Type says (None: it can), by Bolt's own
    parser: a form sent as application/json would otherwise end in a 500 and a traceback."""
    content_type = extract_content_type({"content-type": [str(environ.get("CONTENT_TYPE") or "")]})
    try:
        parsed = parse_body(body.decode("utf-8"), content_type)
    except (ValueError, UnicodeDecodeError):  # json.JSONDecodeError is a ValueError
        return BODY_UNREADABLE
    if not isinstance(parsed, dict):
        return BODY_NOT_OBJECT
    return None


def _signed(verifier: SignatureVerifier, environ: WSGIEnvironment, body: bytes) -> bool:
    """Whether Slack signed this request (within its five minutes). Anything malformed, from
    a repeated header to a body that is not UTF-8, is simply not signed."""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE")
    if not isinstance(timestamp, str) or not isinstance(signature, str):
        return False
    try:
        return verifier.is_valid(body, timestamp, signature)
    except (ValueError, TypeError, UnicodeDecodeError):
        return False


# -- serving it -----------------------------------------------------------------------------------


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops connections in a burst of commands, and the sender's
    # SYN retry then costs a whole second: a late ack.
    request_queue_size = 128


class _QuietHandler(WSGIRequestHandler):
    # A client that stops sending (or promises more body than it sends) frees its thread.
    timeout = REQUEST_TIMEOUT_S

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s %s", self.address_string(), redact(format % args))


def redact(request_line: str) -> str:
    """A request line without its query string or connect link id: they carry OAuth tokens,
    verifiers and one-time link ids, none of which may reach a log."""
    line = _QUERY.sub("?…", request_line)
    return _LINK_ID.sub(X_CONNECT_PREFIX + "…", line)


_QUERY = re.compile(r"\?[^\s\"]*")
_LINK_ID = re.compile(re.escape(X_CONNECT_PREFIX) + r"[^\s\"?]+")


@dataclass
class RunningServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        shown = "127.0.0.1" if host in ("0.0.0.0", "") else str(host)  # noqa: S104
        return f"http://{shown}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_in_background(
    wsgi_app: WSGIApplication, *, host: str = "127.0.0.1", port: int = 0
) -> RunningServer:
    """Serve `wsgi_app` from a daemon thread (port 0: any free port)."""
    server = make_server(
        host, port, wsgi_app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="http", daemon=True
    )
    thread.start()
    return RunningServer(server, thread)
