"""`engagement-bot run`: the Slack bot in Socket Mode or HTTP mode, and its small HTTP side.

Socket Mode (SLACK_APP_TOKEN set): Slack's requests arrive over Bolt's WebSocket; the HTTP
server on PORT still answers /healthz and the X account connection (`/engagement connect`):
/x/connect/<link id> (GET: a page; its button POSTs back) and GET /x/oauth/callback, so
ENGAGEMENT_PUBLIC_URL must reach it.
HTTP mode: the same server also takes Slack's signed requests at POST /slack/events (Bolt
verifies the signature: a forged or stale one gets 401).
Several workspaces (SLACK_CLIENT_ID set, either mode): GET /slack/install and
/slack/oauth_redirect go to Bolt's OAuth flow (bot/slack/installations.py), so the install
works in Socket Mode too as long as ENGAGEMENT_PUBLIC_URL reaches this server.

The WSGI app is served by the standard library's wsgiref with one thread per request; Bolt
answers each request as soon as the command is acked, so requests stay short.
"""

from __future__ import annotations

import io
import json
import logging
import re
import signal
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import extract_content_type, parse_body
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.engagement.client import OAuthClient
from bot.engagement.health import CallHealth
from bot.errors import BotError, ConfigError
from bot.slack import connect
from bot.slack.app import (
    COMMAND_THREADS,
    QUICK_THREADS,
    build_app,
)
from bot.slack.installations import INSTALL_PATH, REDIRECT_PATH, Workspaces
from bot.slack.listeners import Clock
from bot.slack.permissions import workspace_admins
from bot.slack.replays import SeenSignatures
from bot.slack.retries import response_webhook
from bot.slack.web import build_web_client, channel_membership
from bot.store import Store
from bot.store.connect_links import ConnectLink

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

    from bot.channels.deps import Deps

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATHS = (INSTALL_PATH, REDIRECT_PATH)
OAUTH_NOT_SET_UP = (
    "This server serves one workspace; set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install "
    "it in several"
)
HEALTH_PATH = "/healthz"
X_CALLBACK_PATH = connect.CALLBACK_PATH
X_CONNECT_PREFIX = connect.CONNECT_PATH
X_CALLBACK_NOT_READY = "X account connection is not set up on this server yet"
SOCKET_MODE_EVENTS = "This server takes Slack's requests over Socket Mode, not at /slack/events"
MAX_BODY_BYTES = 1 << 20  # Slack's payloads are a few KB
REQUEST_TIMEOUT_S = 30
LISTEN_HOST = "0.0.0.0"  # noqa: S104 - HTTP mode must be reachable by Slack

Health = Callable[[], dict[str, Any]]
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
) -> WSGIApplication:
    """Routes: POST /slack/events to Bolt (None: Socket Mode, so 404), GET /healthz,
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
    seen = SeenSignatures()
    oauth_app = install if install is not None else app
    oauth = (
        SlackRequestHandler(oauth_app, path=EVENTS_PATH)
        if oauth_app is not None and oauth_app.oauth_flow is not None
        else None
    )

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO") or "/")
        method = str(environ.get("REQUEST_METHOD") or "GET")
        if path == EVENTS_PATH and events is not None:
            if method != "POST":
                return _text(start_response, 405, "Method Not Allowed", [("Allow", "POST")])
            length = _content_length(environ)
            if length is None:
                return _text(start_response, 400, "Bad Request: Content-Length")
            if length > MAX_BODY_BYTES:
                return _text(start_response, 413, "Payload Too Large")
            body = environ["wsgi.input"].read(length) if length else b""
            if verifier is None or not _signed(verifier, environ, body):
                if _ssl_check(body):  # Slack's certificate probe: an empty 200, nothing else
                    return _text(start_response, 200, "")
                return _text(start_response, 401, "Unauthorized: invalid Slack signature")
            unreadable = _unreadable(environ, body)
            if unreadable is not None:
                return _text(start_response, 400, f"Bad Request: {unreadable}")
            if not seen.first_time(
                str(environ["HTTP_X_SLACK_SIGNATURE"]),
                str(environ["HTTP_X_SLACK_REQUEST_TIMESTAMP"]),
            ):
                log.info("a signed Slack request was delivered again: answered, not run again")
                return _text(start_response, 200, "")
            environ["wsgi.input"] = io.BytesIO(body)
            return events(environ, start_response)
        if path == EVENTS_PATH:
            return _text(start_response, 404, SOCKET_MODE_EVENTS)
        if path in INSTALL_PATHS:
            if oauth is None:
                return _text(start_response, 404, OAUTH_NOT_SET_UP)
            if method != "GET":
                return _text(start_response, 405, "Method Not Allowed", [("Allow", "GET")])
            return oauth(environ, start_response)
        if path == HEALTH_PATH:
            if method not in ("GET", "HEAD"):
                return _text(start_response, 405, "Method Not Allowed", [("Allow", "GET, HEAD")])
            state = health()
            body = json.dumps(state).encode()
            start_response(
                "200 OK" if state.get("ok") else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [b"" if method == "HEAD" else body]
        if path == X_CALLBACK_PATH or path.startswith(X_CONNECT_PREFIX):
            if x_connect is None:
                return _text(start_response, 404, X_CALLBACK_NOT_READY)
            # Only GET acts at the callback; the link acts on its button's POST. A HEAD, like
            # a GET of the link, is what a link-preview bot or mail scanner sends: it spends
            # nothing.
            allowed = ("GET",) if path == X_CALLBACK_PATH else ("GET", "HEAD", "POST")
            if method not in allowed:
                return _text(
                    start_response, 405, "Method Not Allowed", [("Allow", ", ".join(allowed))]
                )
            return _x_connect(x_connect, path, method, environ, start_response)
        return _text(start_response, 404, "Not Found")

    return wsgi


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
        f"{outcome.status} {_REASONS.get(outcome.status, 'Error')}",
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *headers,
        ],
    )
    return [b"" if method == "HEAD" else body]


def slack_notifier(web: WebClient) -> Notify:
    """Tell the requester how their connection ended: through the slash command's response_url
    (an ephemeral reply that works in any channel, valid 30 minutes: longer than a link
    lives), else chat.postEphemeral to them in the channel they asked from."""

    def notify(link: ConnectLink, text: str) -> None:
        if link.response_url:
            response_webhook(link.response_url).send(text=text, response_type="ephemeral")
        else:
            web.chat_postEphemeral(channel=link.channel_id, user=link.user_id, text=text)

    return notify


def team_notifier(workspaces: Workspaces) -> Notify:
    """slack_notifier with the bot token of the requester's workspace (several workspaces)."""

    def notify(link: ConnectLink, text: str) -> None:
        if link.response_url:
            response_webhook(link.response_url).send(text=text, response_type="ephemeral")
            return
        client = workspaces.client(link.team_id)
        if client is None:
            log.warning("no bot installed in team %s to tell the requester", link.team_id)
            return
        slack_notifier(client)(link, text)

    return notify


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    413: "Payload Too Large",
    502: "Bad Gateway",
}


def _text(
    start_response: StartResponse,
    status: int,
    text: str,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    body = (text + "\n").encode()
    start_response(
        f"{status} {_REASONS.get(status, 'Error')}",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            *(headers or []),
        ],
    )
    return [body]


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
        return "the body cannot be read as its Content-Type says"
    if not isinstance(parsed, dict):
        return "the body is neither a JSON object nor a form"
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


# -- `engagement-bot run` -------------------------------------------------------------------------


class Jobs(Protocol):
    """What `run` needs of the scheduled jobs (bot.jobs.scheduler.DigestScheduler)."""

    def on_settings_changed(self, team_id: str, channel_id: str) -> None: ...
    def start(self) -> None: ...
    def shutdown(self) -> None: ...


class SocketMode(Protocol):
    """What `run` needs of Bolt's SocketModeHandler (tests pass a stand-in)."""

    def connect(self) -> None: ...
    def close(self) -> None: ...


def _socket_mode_handler(app: App, app_token: str) -> SocketMode:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token=app_token)


def check_token(client: WebClient) -> dict[str, Any]:
    """One auth.test at start-up, so a bad SLACK_BOT_TOKEN stops the server at once."""
    try:
        reply = client.auth_test()
    except SlackApiError as error:
        raise ConfigError(
            [f"Slack refused SLACK_BOT_TOKEN ({error.response.get('error')})"]
        ) from None
    except (SlackClientError, OSError) as error:
        raise BotError(f"could not reach Slack at {client.base_url}: {error}") from None
    return dict(reply.data) if isinstance(reply.data, dict) else {}


def check_settings(settings: Settings) -> None:
    """What `run` needs of the Slack settings, checked before anything starts. With
    SLACK_CLIENT_ID (several workspaces) no SLACK_BOT_TOKEN, but an https://
    ENGAGEMENT_PUBLIC_URL: Slack sends installers back to <it>/slack/oauth_redirect."""
    problems = []
    oauth = settings.slack_client_id is not None
    if not settings.slack_bot_token and not oauth:
        problems.append(
            "SLACK_BOT_TOKEN is required to run the Slack bot (xoxb-…), or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET to install it in several workspaces"
        )
    if oauth and not settings.public_url.startswith("https://"):
        problems.append(
            "the Slack install (SLACK_CLIENT_ID) needs ENGAGEMENT_PUBLIC_URL: the public https:// "
            "address of this server (Slack redirects installers to "
            "<ENGAGEMENT_PUBLIC_URL>/slack/oauth_redirect and accepts only HTTPS)"
        )
    if settings.slack_app_token is None and not settings.slack_signing_secret:
        problems.append(
            "HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)"
        )
    if problems:
        raise ConfigError(problems)


def serve(
    settings: Settings,
    deps: Deps,
    *,
    clock: Clock,
    stop: threading.Event | None = None,
    host: str = LISTEN_HOST,
    ready: Callable[[str], None] | None = None,
    socket_mode_handler: Callable[[App, str], SocketMode] = _socket_mode_handler,
    jobs: Callable[[Deps, WebClient], Jobs] | None = None,
    workspaces: Workspaces | None = None,
) -> int:
    """Run the bot until `stop` is set (by default: SIGTERM or Ctrl-C, from the main thread).

    Socket Mode when SLACK_APP_TOKEN is set, else HTTP mode on PORT. Without `deps.can_post`,
    the bot asks conversations.info whether it may post charts in a channel; without
    `deps.may_change`, only workspace admins and ENGAGEMENT_ADMINS may change settings. `ready`
    is called with the HTTP server's URL once it listens. `jobs` builds the scheduled jobs from
    the deps and the Web API client; they start with the server and stop with it. Returns the
    exit status.

    With SLACK_CLIENT_ID the bot serves every workspace that installs it: `workspaces` (made
    from the store when not given) holds their bot tokens, and the commands' can_post and
    may_change, the jobs (bot/cli.py digest_jobs) and the connect notices use the token of the
    workspace concerned; `web` then has no token.
    """
    check_settings(settings)
    if stop is None:
        stop = _stop_on_signals()
    calls = deps.health if deps.health is not None else CallHealth()
    deps = replace(deps, health=calls)
    web = build_web_client(settings, health=calls)
    if not settings.slack_client_id:
        workspaces = None
    elif workspaces is None:
        workspaces = Workspaces.open(settings, deps.store, clock=clock)
    if deps.can_post is None:
        can_post = workspaces.can_post if workspaces is not None else channel_membership(web)
        deps = replace(deps, can_post=can_post)
    if deps.may_change is None:
        may_change = (
            workspaces.may_change
            if workspaces is not None
            else workspace_admins(web, settings, monotonic=time.monotonic)
        )
        deps = replace(deps, may_change=may_change)
    scheduled = jobs(deps, web) if jobs is not None else None
    if scheduled is not None:
        deps = replace(deps, on_settings_changed=scheduled.on_settings_changed)
    pool = ThreadPoolExecutor(max_workers=COMMAND_THREADS, thread_name_prefix="command")
    quick = ThreadPoolExecutor(max_workers=QUICK_THREADS, thread_name_prefix="quick")
    app = build_app(
        settings,
        deps,
        clock=clock,
        client=web,
        executor=pool,
        quick=quick,
        workspaces=workspaces,
    )
    if workspaces is None:
        me = check_token(app.client)
        log.info(
            "bot user %s in team %s (%s)", me.get("user_id"), me.get("team_id"), me.get("team")
        )
    else:
        teams = workspaces.installations.teams()
        log.info(
            "serving %d installed workspace(s); install more at %s%s",
            len(teams),
            settings.public_url.rstrip("/"),
            INSTALL_PATHS[0],
        )
    handler: SocketMode | None = None
    socket_token = settings.slack_app_token
    x_connect = None
    if deps.x_oauth is not None:
        notify = slack_notifier(web) if workspaces is None else team_notifier(workspaces)
        x_connect = XConnect(deps.store, deps.x_oauth, settings, clock, notify)
    if socket_token is not None:
        handler = socket_mode_handler(app, socket_token)
        handler.connect()
        connected = handler
        wsgi = make_wsgi_app(
            None,
            health=lambda: calls.report(_socket_health(connected)),
            x_connect=x_connect,
            install=app if workspaces is not None else None,
        )
    else:
        wsgi = make_wsgi_app(
            app,
            health=lambda: calls.report({"ok": True, "mode": "http"}),
            x_connect=x_connect,
            signing_secret=settings.slack_signing_secret,
        )
    http = serve_in_background(wsgi, host=host, port=settings.port)
    mode = "Socket Mode" if handler is not None else f"HTTP mode ({EVENTS_PATH})"
    if workspaces is not None:
        mode += ", several workspaces (OAuth install at /slack/install)"
    log.info("engagement-bot running in %s; listening on %s", mode, http.url)
    if ready is not None:
        ready(http.url)
    try:
        if scheduled is not None:
            scheduled.start()
        stop.wait()
    finally:
        log.info("stopping")
        if scheduled is not None:
            scheduled.shutdown()
        http.stop()
        if handler is not None:
            handler.close()
        pool.shutdown(wait=True, cancel_futures=True)
        quick.shutdown(wait=True, cancel_futures=True)
    return 0


def _stop_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set (when called from the main thread)."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    return stop


def _socket_health(handler: SocketMode) -> dict[str, Any]:
    client = getattr(handler, "client", None)
    is_connected = getattr(client, "is_connected", None)
    connected = bool(is_connected()) if callable(is_connected) else True
    return {"ok": connected, "mode": "socket", "connected": connected}
