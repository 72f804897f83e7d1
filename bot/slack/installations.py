"""Multi-workspace install: Bolt's OAuth flow over our own SQLite file, and per-workspace clients.

SLACK_CLIENT_ID / SLACK_CLIENT_SECRET switch `run` from one workspace (SLACK_BOT_TOKEN) to
"Add to Slack": GET /slack/install redirects to Slack's authorize page with a one-time state,
Slack sends the installer back to /slack/oauth_redirect, Bolt exchanges the code
(oauth.v2.access) and saves the installation here. Every request then finds its workspace's bot
token through `SlackInstallations` (Bolt's InstallationStoreAuthorize).

    SlackInstallations   slack_sdk InstallationStore: tables slack_installations, slack_bots
    SlackOAuthStates     slack_sdk OAuthStateStore: table slack_oauth_states (one-time, expiring)
    Workspaces           per-team WebClients, and the `post` / `find_posted` / `can_post` /
                         `may_change` callables the jobs and commands take, routed to the team
                         a channel belongs to
    oauth_settings()     Bolt's OAuthSettings with the above and our own result pages

Tokens (bot, user, refresh) and incoming-webhook URLs are secrets: they reach SQL only as one
Fernet token per row (the store's TokenCipher), which also names the row it belongs to, so a
ciphertext copied onto another workspace is refused. Nothing here logs a token, a code or a
state. A bot token lives only in `slack_bots`: deleting the bot (tokens_revoked, uninstall)
takes it away from every installation row too.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_flow import OAuthFlow
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.channels.outbox import Action, Page, Refused, SlackFailure, Window
from bot.config import Settings
from bot.copy.digest import pause_reason
from bot.errors import SecretKeyError
from bot.render.message import Message
from bot.slack.outbox import history_page, slack_finder, slack_post, without_rate_limit_retries
from bot.slack.permissions import workspace_admins
from bot.slack.web import SCOPES, build_web_client, channel_membership
from bot.store import Store
from bot.store.cipher import TokenCipher
from bot.store.slack_installations import SealedRow, SlackKey

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_TTL = timedelta(minutes=10)
NOT_INSTALLED = "token_revoked"  # what a job hears for a workspace that uninstalled the app

_INSTALLATION_SECRETS = ("user_token", "user_refresh_token", "incoming_webhook_url")
_BOT_SECRETS = ("bot_token", "bot_refresh_token")
_BOT_FIELDS = (
    "app_id",
    "enterprise_id",
    "enterprise_name",
    "team_id",
    "team_name",
    "bot_id",
    "bot_user_id",
    "bot_scopes",
    "bot_token_expires_at",
    "is_enterprise_install",
    "installed_at",
)
_INSTALLATION_FIELDS = (
    "app_id",
    "enterprise_id",
    "enterprise_name",
    "enterprise_url",
    "team_id",
    "team_name",
    "user_id",
    "user_scopes",
    "user_token_expires_at",
    "incoming_webhook_channel",
    "incoming_webhook_channel_id",
    "incoming_webhook_configuration_url",
    "is_enterprise_install",
    "token_type",
    "installed_at",
)


def _ids(
    enterprise_id: str | None, team_id: str | None, enterprise_install: bool | None
) -> tuple[str, str]:
    """slack_sdk's keys: "" for no enterprise; an org-wide install has no team."""
    team = "" if enterprise_install or team_id is None else team_id
    return (enterprise_id or "", team)


class SlackInstallations(InstallationStore):
    """slack_sdk's InstallationStore in the store's database, under its lock and transactions.

    One row per (client, enterprise, team, installing user), the latest install winning; one
    bot per (client, enterprise, team). `client_id` None (rotate-key) sees every app's rows
    and may only check and rotate the key; `clock` stamps new rows.
    """

    def __init__(
        self,
        store: Store,
        *,
        cipher: TokenCipher,
        client_id: str | None,
        clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._rows = store.slack_installations
        self._cipher = cipher
        self._client_id = client_id
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    # -- writes -----------------------------------------------------------------------------------

    def save(self, installation: Installation) -> None:
        client_id = self._writer()
        enterprise, team = _ids(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        user = installation.user_id or ""
        values = installation.to_dict()
        details = {name: _plain(values.get(name)) for name in _INSTALLATION_FIELDS}
        tokens = {name: values.get(name) for name in _INSTALLATION_SECRETS}
        key = SlackKey(client_id, enterprise, team)
        sealed = self._seal(["slack_installations", client_id, enterprise, team, user], tokens)
        with self._store.transaction():
            self._rows.save_installation(
                key,
                SealedRow(user, json.dumps(details), sealed),
                enterprise_install=bool(installation.is_enterprise_install),
                at=self._now(),
            )
            if installation.bot_token is not None:
                self.save_bot(installation.to_bot())
        log.info("Slack app installed in team %s (enterprise %s)", team or "-", enterprise or "-")

    def save_bot(self, bot: Bot) -> None:
        if bot.bot_token is None:
            return
        client_id = self._writer()
        enterprise, team = _ids(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        values = bot.to_dict()
        details = {name: _plain(values.get(name)) for name in _BOT_FIELDS}
        tokens = {name: values.get(name) for name in _BOT_SECRETS}
        sealed = self._seal(["slack_bots", client_id, enterprise, team], tokens)
        self._rows.save_bot(
            SlackKey(client_id, enterprise, team),
            SealedRow("", json.dumps(details), sealed),
            enterprise_install=bool(bot.is_enterprise_install),
            at=self._now(),
        )

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        enterprise, team = enterprise_id or "", team_id or ""
        self._rows.delete_bot(SlackKey(self._writer(), enterprise, team))
        log.info("Slack bot deleted for team %s (enterprise %s)", team or "-", enterprise or "-")

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        enterprise, team = enterprise_id or "", team_id or ""
        self._rows.delete_installations(SlackKey(self._writer(), enterprise, team), user_id)
        log.info("Slack installation deleted for team %s", team or "-")

    def delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        with self._store.transaction():
            self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)
            self.delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    # -- reads ------------------------------------------------------------------------------------

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        enterprise, team = _ids(enterprise_id, team_id, is_enterprise_install)
        client_id = self._writer()
        row = self._rows.bot(SlackKey(client_id, enterprise, team))
        if row is None:
            return None
        tokens = self._open(["slack_bots", client_id, enterprise, team], row.secrets)
        return Bot(**json.loads(row.details), **tokens)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The user's installation, or (no user) the workspace's latest; its bot token is the
        workspace's current bot's, None once the bot was deleted."""
        enterprise, team = _ids(enterprise_id, team_id, is_enterprise_install)
        client_id = self._writer()
        with self._store.transaction():
            row = self._rows.installation(SlackKey(client_id, enterprise, team), user_id)
            bot = self.find_bot(
                enterprise_id=enterprise_id,
                team_id=team_id,
                is_enterprise_install=is_enterprise_install,
            )
        if row is None:
            return None
        key = ["slack_installations", client_id, enterprise, team, row.user_id]
        values: dict[str, Any] = {**json.loads(row.details), **self._open(key, row.secrets)}
        if bot is not None:
            values.update(
                bot_token=bot.bot_token,
                bot_id=bot.bot_id,
                bot_user_id=bot.bot_user_id,
                bot_scopes=bot.bot_scopes,
                bot_refresh_token=bot.bot_refresh_token,
                bot_token_expires_at=bot.bot_token_expires_at,
            )
        return Installation(**values)

    def teams(self) -> list[str]:
        """Team IDs with a bot installed (org-wide installs have none)."""
        return self._rows.teams(self._client_id)

    # -- the key ----------------------------------------------------------------------------------

    def undecryptable(self) -> list[str]:
        """ "table team" of every row whose secrets the cipher cannot open."""
        failed = []
        for table, team, sealed in self._rows.all_secrets():
            try:
                self._cipher.decrypt(sealed)
            except SecretKeyError:
                failed.append(f"{table} {team or '(org)'}")
        return failed

    def rotate(self) -> int:
        """Re-encrypt every row's secrets under the cipher's first key; how many rows."""
        return self._rows.reseal(self._cipher.rotate)

    # -- helpers ----------------------------------------------------------------------------------

    def _writer(self) -> str:
        if self._client_id is None:
            raise ValueError("this SlackInstallations only rotates keys (no client_id)")
        return self._client_id

    def _now(self) -> datetime:
        if self._clock is None:
            raise ValueError("this SlackInstallations only reads (no clock)")
        return self._clock()

    def _seal(self, key: list[str], tokens: Mapping[str, Any]) -> str:
        payload = json.dumps({"row": key, "tokens": dict(tokens)}).encode()
        return self._cipher.encrypt(payload, at=self._now())

    def _open(self, key: list[str], sealed: str) -> dict[str, Any]:
        payload = json.loads(self._cipher.decrypt(sealed))
        if payload.get("row") != key:
            raise SecretKeyError(f"the stored Slack tokens of {key[0]} {key[3]!r} belong elsewhere")
        tokens: dict[str, Any] = payload["tokens"]
        return tokens


def _plain(value: Any) -> Any:
    """A JSON value for `details`: datetimes as ISO 8601 text, which slack_sdk parses back
    into both its float and its int timestamps."""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class SlackOAuthStates(OAuthStateStore):
    """The OAuth flow's states: random, single use, valid for `ttl` of `clock`. Only a state's
    SHA-256 is stored; expired ones are swept at each issue."""

    def __init__(self, store: Store, *, clock: Clock, ttl: timedelta = STATE_TTL) -> None:
        self._store = store
        self._clock = clock
        self.ttl = ttl

    @property
    def logger(self) -> logging.Logger:
        return log

    def issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(32)
        now = self._clock()
        rows = self._store.slack_installations
        rows.issue_state(_digest(state), now=now, expires_at=now + self.ttl)
        return state

    def consume(self, state: str) -> bool:
        """True once for a state issued less than `ttl` ago; it is spent either way."""
        if not state:
            return False
        return self._store.slack_installations.consume_state(_digest(state), now=self._clock())


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


class NotInstalled(Refused):
    """The channel's workspace has no bot installed (uninstalled, or never): jobs pause it,
    as they do when Slack says its token was revoked."""

    def __init__(self, channel_id: str, team_id: str | None) -> None:
        super().__init__(SlackFailure(Action.PAUSE, NOT_INSTALLED, pause_reason(NOT_INSTALLED)))
        where = f"workspace {team_id}" if team_id else "no known workspace"
        self.args = (f"channel {channel_id}: the app is not installed in {where}",)


class Workspaces:
    """Per-workspace Slack clients for a multi-workspace deployment.

    A channel's workspace is the one that last sent a request from it (`remember`, a Bolt
    middleware), else the one whose settings, tracks or alert rules name it in the store. A
    channel shared by two installed workspaces (Slack Connect) posts with the first one's bot.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        installations: SlackInstallations,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.store = store
        self.installations = installations
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._seen: dict[str, str] = {}
        self._admins: dict[tuple[str, str], Callable[[str, str], bool]] = {}

    @classmethod
    def open(cls, settings: Settings, store: Store, *, clock: Clock) -> Workspaces:
        if not settings.slack_client_id:
            raise ValueError("Workspaces needs SLACK_CLIENT_ID")
        installations = SlackInstallations(
            store, cipher=store.cipher, client_id=settings.slack_client_id, clock=clock
        )
        return cls(settings, store, installations)

    # -- clients ----------------------------------------------------------------------------------

    def bot_token(self, team_id: str) -> str | None:
        bot = self.installations.find_bot(enterprise_id=None, team_id=team_id)
        return bot.bot_token if bot is not None else None

    def client(self, team_id: str) -> WebClient | None:
        """A Web API client with the team's bot token; None when it has no bot installed."""
        token = self.bot_token(team_id)
        return build_web_client(self.settings, token=token) if token else None

    def remember(self, team_id: str | None, channel_id: str | None) -> None:
        if team_id and channel_id:
            with self._lock:
                self._seen[channel_id] = team_id

    def team_of(self, channel_id: str) -> str | None:
        """The channel's workspace; among several, an installed one first."""
        with self._lock:
            seen = self._seen.get(channel_id)
        if seen is not None:
            return seen
        teams = self.store.channels.teams_of(channel_id)
        if len(teams) > 1:
            installed = set(self.installations.teams())
            teams.sort(key=lambda team: team not in installed)
        return teams[0] if teams else None

    def _channel_client(self, channel_id: str) -> WebClient:
        team = self.team_of(channel_id)
        client = self.client(team) if team is not None else None
        if client is None:
            raise NotInstalled(channel_id, team)
        return client

    # -- what jobs and commands take ---------------------------------------------------------------

    def post(self, channel_id: str, message: Message) -> str:
        """bot.channels.outbox.Post with the bot token of the channel's workspace."""
        return slack_post(self._channel_client(channel_id))(channel_id, message)

    def find_posted(self, channel_id: str, marker: str, window: Window | None = None) -> str | None:
        """bot.channels.outbox.FindPosted with the bot token of the channel's workspace."""
        return slack_finder(self._channel_client(channel_id))(channel_id, marker, window)

    def history_page(
        self, channel_id: str, marker: str, window: Window, cursor: str | None
    ) -> Page:
        """bot.channels.outbox.HistoryPage with the bot token of the channel's workspace (its
        429s reach the caller, bot.slack.reconcile.Reconciler, which paces the workspace)."""
        client = without_rate_limit_retries(self._channel_client(channel_id))
        return history_page(client)(channel_id, marker, window, cursor)

    def can_post(self, channel_id: str) -> bool:
        """Deps.can_post: conversations.info with the channel's workspace's bot token."""
        try:
            client = self._channel_client(channel_id)
        except NotInstalled:
            return False
        return channel_membership(client)(channel_id)

    def may_change(self, team_id: str, user_id: str) -> bool:
        """Deps.may_change: bot.slack.permissions.workspace_admins, asked with the team's own
        bot token (no bot: only ENGAGEMENT_ADMINS)."""
        if user_id in self.settings.admins:
            return True
        token = self.bot_token(team_id)
        if token is None:
            return False
        with self._lock:
            check = self._admins.get((team_id, token))
            if check is None:
                client = build_web_client(self.settings, token=token)
                check = workspace_admins(client, self.settings, monotonic=self._monotonic)
                self._admins[(team_id, token)] = check
        return check(team_id, user_id)


# -- Bolt's OAuth settings and the pages the installer sees ---------------------------------------


class _NoCodes(logging.Filter):
    """Bolt logs a failed code exchange with the code in it: keep the code out."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "code" in message:
            record.msg, record.args = _CODE.sub(r"\1…", message), ()
        return True


_CODE = re.compile(r"(\bcode'?\s*[=:]\s*'?)[^\s',&]+")
# The OAuth flow's own logger and Web API client. slack_sdk logs every response body at DEBUG,
# and oauth.v2.access answers with the tokens: this client never logs below INFO.
_flow_log = logging.getLogger(__name__ + ".flow")
_flow_log.addFilter(_NoCodes())
_exchange_log = logging.getLogger(__name__ + ".exchange")
_exchange_log.setLevel(logging.INFO)


def oauth_flow(settings: Settings, workspaces: Workspaces, states: SlackOAuthStates) -> OAuthFlow:
    """Bolt's OAuthFlow for App(oauth_flow=…): `oauth_settings()`, exchanging codes through a
    client on `settings.slack_api_url` that never logs a token."""
    base = build_web_client(settings)
    client = WebClient(
        base_url=base.base_url,
        timeout=base.timeout,
        retry_handlers=base.retry_handlers,
        logger=_exchange_log,
    )
    flow_settings = oauth_settings(settings, workspaces, states)
    return OAuthFlow(client=client, logger=_flow_log, settings=flow_settings)


def oauth_settings(
    settings: Settings, workspaces: Workspaces, states: SlackOAuthStates
) -> OAuthSettings:
    """Bolt's OAuthSettings: our scopes, stores and result pages; GET /slack/install
    redirects straight to Slack (no intermediate "Add to Slack" page)."""
    if not settings.slack_client_id or not settings.slack_client_secret:
        raise ValueError("oauth_settings needs SLACK_CLIENT_ID and SLACK_CLIENT_SECRET")
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(SCOPES),
        user_scopes=[],
        redirect_uri=settings.public_url.rstrip("/") + REDIRECT_PATH,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,
        installation_store=workspaces.installations,
        state_store=states,
        state_expiration_seconds=int(states.ttl.total_seconds()),
        callback_options=CallbackOptions(success=_installed, failure=_not_installed),
        logger=_flow_log,
    )


_FAILURES = {
    "access_denied": (
        "Installation cancelled",
        "Nothing was installed. To install Engagement Bot after all, start again.",
    ),
    "invalid_browser": (
        "This install link has expired",
        "The installation was started more than 10 minutes ago, or in another browser. "
        "Nothing was installed; start again.",
    ),
    "invalid_state": (
        "This install link has expired or was already used",
        "Each link works once, for 10 minutes. Nothing was installed; start again.",
    ),
    "missing_code": (
        "Slack did not confirm the installation",
        "The answer from Slack was incomplete. Nothing was installed; start again.",
    ),
    "invalid_code": (
        "Slack did not confirm the installation",
        "Slack refused the installation code (used twice, or too old). Nothing was installed; "
        "start again.",
    ),
    "storage_error": (
        "The installation could not be saved",
        "Slack approved it, but the bot could not store it. Try again in a minute.",
    ),
}


def _installed(args: SuccessArgs) -> BoltResponse:
    installation = args.installation
    team = installation.team_name or installation.team_id or installation.enterprise_name or ""
    where = f" in {team}" if team else ""
    return _page(
        200,
        f"Engagement Bot is installed{where}",
        "Type <code>/engagement help</code> in any channel. Invite the bot "
        "(<code>/invite @engagement-bot</code>) where it should post digests and charts. "
        "You can close this tab.",
        cookie=args.settings.state_utils.build_set_cookie_for_deletion(),
    )


def _not_installed(args: FailureArgs) -> BoltResponse:
    title, text = _FAILURES.get(
        args.reason,
        ("Installation failed", f"Slack reported: {args.reason}. Nothing was installed."),
    )
    log.info("Slack install not completed: %s", args.reason)
    restart = html.escape(args.settings.install_path)
    return _page(
        args.suggested_status_code,
        title,
        f'{html.escape(text)} <a href="{restart}">Install again</a>.',
        cookie=args.settings.state_utils.build_set_cookie_for_deletion(),
    )


def _page(status: int, title: str, body_html: str, *, cookie: str) -> BoltResponse:
    body = (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{body_html}</p></body></html>"
    )
    return BoltResponse(
        status=status,
        body=body,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "Set-Cookie": [cookie],
        },
    )
