"""Multi-workspace install: where Bolt's OAuth flow keeps what it learns, in our own SQLite file.

SLACK_CLIENT_ID / SLACK_CLIENT_SECRET switch `run` from one workspace (SLACK_BOT_TOKEN) to
"Add to Slack" (bot/slack/oauth.py). Every request then finds its workspace's bot token through
`SlackInstallations` (Bolt's InstallationStoreAuthorize); jobs and commands reach a channel's
workspace through bot/slack/workspaces.py.

    SlackInstallations   slack_sdk InstallationStore over store.slack_installations
                         (tables slack_installations, slack_bots)
    SlackOAuthStates     slack_sdk OAuthStateStore over store.slack_installations
                         (table slack_oauth_states: one-time, expiring)

Tokens (bot, user, refresh) and incoming-webhook URLs are secrets: they reach SQL only as one
Fernet token per row (the store's TokenCipher), which also names the row it belongs to, so a
ciphertext copied onto another workspace is refused. Nothing here logs a token, a code or a
state. A bot token lives only in `slack_bots`: deleting the bot (tokens_revoked, uninstall)
takes it away from every installation row too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.state_store import OAuthStateStore

from bot.channels.outbox import Clock
from bot.copy.operator import slack_tokens_elsewhere
from bot.errors import SecretKeyError
from bot.store import Store
from bot.store.cipher import TokenCipher
from bot.store.slack_installations import SealedRow, SlackKey

log = logging.getLogger(__name__)


STATE_TTL = timedelta(minutes=10)

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
            raise SecretKeyError(slack_tokens_elsewhere(key[0], key[3]))
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
