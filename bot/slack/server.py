"""`engagement-bot run`: the Slack bot in Socket Mode or HTTP mode, and its small HTTP side.

Socket Mode (SLACK_APP_TOKEN set): Slack's requests arrive over Bolt's WebSocket; the HTTP
server on PORT still answers /healthz and the X account connection (`/engagement connect`):
/x/connect/<link id> (GET: a page; its button POSTs back) and GET /x/oauth/callback, so
ENGAGEMENT_PUBLIC_URL must reach it.
HTTP mode: the same server also takes Slack's signed requests at POST /slack/events (Bolt
verifies the signature: a forged or stale one gets 401).
Several workspaces (SLACK_CLIENT_ID set, either mode): GET /slack/install and
/slack/oauth_redirect go to Bolt's OAuth flow (bot/slack/oauth.py), so the install
works in Socket Mode too as long as ENGAGEMENT_PUBLIC_URL reaches this server.

bot.app.serve starts these parts in order; the routes themselves are bot/slack/wsgi.py.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.channels.outbox import Clock
from bot.config import Settings
from bot.copy import maintenance
from bot.copy.operator import (
    HTTP_NEEDS_SIGNING_SECRET,
    INSTALL_NEEDS_HTTPS,
    NO_SLACK_CREDENTIALS,
    slack_refused_token,
    slack_unreachable,
)
from bot.engagement.health import CallHealth
from bot.errors import BotError, ConfigError
from bot.slack.retries import response_webhook
from bot.slack.workspaces import Workspaces
from bot.store.connect_links import ConnectLink

if TYPE_CHECKING:
    from bot.channels.deps import Deps

from bot.slack.wsgi import (
    EVENTS_PATH,
    INSTALL_PATHS,
    Notify,
    RunningServer,
    XConnect,
    make_wsgi_app,
    serve_in_background,
)

log = logging.getLogger(__name__)


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


# -- what `engagement-bot run` (bot.app.serve) starts here --------------------------------


class Jobs(Protocol):
    """What `run` needs of the scheduled jobs (bot.jobs.scheduler.DigestScheduler)."""

    def on_settings_changed(self, team_id: str, channel_id: str) -> None: ...
    def start(self) -> None: ...
    def shutdown(self) -> None: ...


class SocketMode(Protocol):
    """What `run` needs of Bolt's SocketModeHandler (tests pass a stand-in)."""

    def connect(self) -> None: ...
    def close(self) -> None: ...


def socket_mode_handler(app: App, app_token: str) -> SocketMode:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token=app_token)


def check_token(client: WebClient) -> dict[str, Any]:
    """One auth.test at start-up, so a bad SLACK_BOT_TOKEN stops the server at once."""
    try:
        reply = client.auth_test()
    except SlackApiError as error:
        raise ConfigError([slack_refused_token(error.response.get("error"))]) from None
    except (SlackClientError, OSError) as error:
        raise BotError(slack_unreachable(client.base_url, error)) from None
    return dict(reply.data) if isinstance(reply.data, dict) else {}


def check_settings(settings: Settings, *, also: Sequence[str] = ()) -> None:
    """What `run` needs of the Slack settings, checked before anything starts, reported with
    the other problems `also` in one ConfigError. With SLACK_CLIENT_ID (several workspaces) no
    SLACK_BOT_TOKEN, but an https:// ENGAGEMENT_PUBLIC_URL: Slack sends installers back to
    <it>/slack/oauth_redirect."""
    problems = []
    oauth = settings.slack_client_id is not None
    if not settings.slack_bot_token and not oauth:
        problems.append(NO_SLACK_CREDENTIALS)
    if oauth and not settings.public_url.startswith("https://"):
        problems.append(INSTALL_NEEDS_HTTPS)
    if settings.slack_app_token is None and not settings.slack_signing_secret:
        problems.append(HTTP_NEEDS_SIGNING_SECRET)
    if problems or also:
        raise ConfigError([*problems, *also])


def announce(app: App, settings: Settings, workspaces: Workspaces | None) -> None:
    """Log whom the bot serves; with one workspace, one auth.test first, so a bad
    SLACK_BOT_TOKEN stops the server at once."""
    if workspaces is None:
        me = check_token(app.client)
        log.info(
            "bot user %s in team %s (%s)", me.get("user_id"), me.get("team_id"), me.get("team")
        )
        return
    log.info(
        "serving %d installed workspace(s); install more at %s%s",
        len(workspaces.installations.teams()),
        settings.public_url.rstrip("/"),
        INSTALL_PATHS[0],
    )


@dataclass
class Listening:
    """The HTTP listener, and the Socket Mode connection when there is one."""

    http: RunningServer
    socket_mode: SocketMode | None

    @property
    def url(self) -> str:
        return self.http.url

    def stop(self) -> None:
        self.http.stop()
        if self.socket_mode is not None:
            self.socket_mode.close()


def listen(
    settings: Settings,
    app: App,
    deps: Deps,
    web: WebClient,
    *,
    clock: Clock,
    host: str,
    workspaces: Workspaces | None,
    socket_mode_handler: Callable[[App, str], SocketMode],
) -> Listening:
    """Socket Mode when SLACK_APP_TOKEN is set (the HTTP listener then serves everything but
    /slack/events), else HTTP mode; the listener on `host`:PORT either way."""
    calls = deps.health if deps.health is not None else CallHealth()
    x_connect = None
    if deps.x_oauth is not None:
        notify = slack_notifier(web) if workspaces is None else team_notifier(workspaces)
        x_connect = XConnect(deps.store, deps.x_oauth, settings, clock, notify)
    handler: SocketMode | None = None
    if settings.slack_app_token is not None:
        handler = socket_mode_handler(app, settings.slack_app_token)
        handler.connect()
        connected = handler
        wsgi = make_wsgi_app(
            None,
            health=lambda: calls.report(_socket_health(connected)),
            x_connect=x_connect,
            install=app if workspaces is not None else None,
            meter=deps.meter,
            ready=lambda: deps.store.unready() or _socket_unready(connected),
        )
    else:
        wsgi = make_wsgi_app(
            app,
            health=lambda: calls.report({"ok": True, "mode": "http"}),
            x_connect=x_connect,
            signing_secret=settings.slack_signing_secret,
            meter=deps.meter,
            ready=deps.store.unready,
        )
    http = serve_in_background(wsgi, host=host, port=settings.port)
    mode = "Socket Mode" if handler is not None else f"HTTP mode ({EVENTS_PATH})"
    if workspaces is not None:
        mode += ", several workspaces (OAuth install at /slack/install)"
    log.info("engagement-bot running in %s; listening on %s", mode, http.url)
    return Listening(http, handler)


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set (when called from the main thread)."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    return stop


def _socket_unready(handler: SocketMode) -> str | None:
    return None if _socket_health(handler)["connected"] else maintenance.SOCKET_NOT_CONNECTED


def _socket_health(handler: SocketMode) -> dict[str, Any]:
    client = getattr(handler, "client", None)
    is_connected = getattr(client, "is_connected", None)
    connected = bool(is_connected()) if callable(is_connected) else True
    return {"ok": connected, "mode": "socket", "connected": connected}
