"""Per-workspace Slack clients for a multi-workspace deployment: which workspace a channel is
in, and the `post` / `find_posted` / `can_post` / `may_change` callables the jobs and commands
take, routed to that workspace's bot (whose token bot/slack/installations.py keeps)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

from bot.channels.outbox import Action, Clock, Page, Refused, SlackFailure, Window
from bot.config import Settings
from bot.copy.digest import pause_reason
from bot.copy.operator import app_not_installed
from bot.render.message import Message
from bot.slack.installations import SlackInstallations
from bot.slack.outbox import history_page, slack_finder, slack_post, without_rate_limit_retries
from bot.slack.permissions import workspace_admins
from bot.slack.web import build_web_client, channel_membership
from bot.store import Store

NOT_INSTALLED = "token_revoked"  # what a job hears for a workspace that uninstalled the app


class NotInstalled(Refused):
    """The channel's workspace has no bot installed (uninstalled, or never): jobs pause it,
    as they do when Slack says its token was revoked."""

    def __init__(self, channel_id: str, team_id: str | None) -> None:
        failure = SlackFailure(Action.PAUSE, NOT_INSTALLED, pause_reason(NOT_INSTALLED))
        super().__init__(failure, app_not_installed(channel_id, team_id))


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
