"""Slack's multi-workspace install in the store: installations, bots and OAuth states.

The rows' `secrets` arrive sealed and leave sealed: bot/slack/installations.py seals and opens
them (and turns rows into slack_sdk's Installation and Bot); here is only their SQL. Keys are
slack_sdk's: "" for no enterprise, and "" for the team of an org-wide install.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from bot.store.sql import Db, instant


@dataclass(frozen=True)
class SlackKey:
    """Which app, and where it is installed."""

    client_id: str
    enterprise_id: str
    team_id: str


@dataclass(frozen=True)
class SealedRow:
    """A stored installation or bot: `details` is JSON, `secrets` its sealed tokens."""

    user_id: str  # "" for a bot
    details: str
    secrets: str


class SlackInstallationRows:
    """The tables slack_installations, slack_bots and slack_oauth_states, under the store's
    lock and transactions."""

    def __init__(
        self, db: Db, lock: threading.RLock, transaction: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self._db = db
        self._lock = lock
        self._transaction = transaction

    def save_installation(
        self, key: SlackKey, row: SealedRow, *, enterprise_install: bool, at: datetime
    ) -> None:
        """Add or replace the installation of (key, row.user_id)."""
        with self._transaction():
            self._db.execute(
                """INSERT INTO slack_installations (client_id, enterprise_id, team_id, user_id,
                    is_enterprise_install, installed_at, details, secrets)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (client_id, enterprise_id, team_id, user_id) DO UPDATE SET
                    is_enterprise_install = excluded.is_enterprise_install,
                    installed_at = excluded.installed_at, details = excluded.details,
                    secrets = excluded.secrets""",
                (*_key(key), row.user_id, int(enterprise_install), instant(at))
                + (row.details, row.secrets),
            )

    def save_bot(
        self, key: SlackKey, row: SealedRow, *, enterprise_install: bool, at: datetime
    ) -> None:
        """Add or replace the bot of `key`."""
        with self._transaction():
            self._db.execute(
                """INSERT INTO slack_bots (client_id, enterprise_id, team_id,
                    is_enterprise_install, installed_at, details, secrets)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (client_id, enterprise_id, team_id) DO UPDATE SET
                    is_enterprise_install = excluded.is_enterprise_install,
                    installed_at = excluded.installed_at, details = excluded.details,
                    secrets = excluded.secrets""",
                (*_key(key), int(enterprise_install), instant(at), row.details, row.secrets),
            )

    def delete_bot(self, key: SlackKey) -> None:
        with self._transaction():
            self._db.execute(
                "DELETE FROM slack_bots WHERE client_id = ? AND enterprise_id = ? AND team_id = ?",
                _key(key),
            )

    def delete_installations(self, key: SlackKey, user_id: str | None = None) -> None:
        """The installations of `key`: one user's, or (None) every user's."""
        with self._transaction():
            self._db.execute(
                """DELETE FROM slack_installations WHERE client_id = ? AND enterprise_id = ?
                AND team_id = ? AND (? IS NULL OR user_id = ?)""",
                (*_key(key), user_id, user_id),
            )

    def bot(self, key: SlackKey) -> SealedRow | None:
        with self._lock:
            rows = self._db.rows(
                """SELECT details, secrets FROM slack_bots
                WHERE client_id = ? AND enterprise_id = ? AND team_id = ?""",
                _key(key),
            )
        return SealedRow("", *rows[0]) if rows else None

    def installation(self, key: SlackKey, user_id: str | None = None) -> SealedRow | None:
        """The user's installation, or (None) the latest one of `key`."""
        with self._lock:
            rows = self._db.rows(
                """SELECT user_id, details, secrets FROM slack_installations
                WHERE client_id = ? AND enterprise_id = ? AND team_id = ?
                    AND (? IS NULL OR user_id = ?)
                ORDER BY installed_at DESC, user_id LIMIT 1""",
                (*_key(key), user_id, user_id),
            )
        return SealedRow(*rows[0]) if rows else None

    def teams(self, client_id: str | None) -> list[str]:
        """Team IDs with a bot of that app (None: of any app) installed; org-wide installs
        have none."""
        with self._lock:
            rows = self._db.rows(
                """SELECT team_id FROM slack_bots
                WHERE (? IS NULL OR client_id = ?) AND team_id != '' ORDER BY team_id""",
                (client_id, client_id),
            )
        return [team for (team,) in rows]

    def all_secrets(self) -> list[tuple[str, str, str]]:
        """(table, team, sealed secrets) of every row of every app."""
        with self._lock:
            return [
                ("slack_installations", team, sealed)
                for team, sealed in self._db.rows(
                    "SELECT team_id, secrets FROM slack_installations"
                )
            ] + [
                ("slack_bots", team, sealed)
                for team, sealed in self._db.rows("SELECT team_id, secrets FROM slack_bots")
            ]

    def reseal(self, reseal: Callable[[str], str]) -> int:
        """Replace every row's secrets by `reseal(secrets)`, all or none; how many rows."""
        count = 0
        with self._transaction():
            for table, key_sql in (
                ("slack_installations", "client_id, enterprise_id, team_id, user_id"),
                ("slack_bots", "client_id, enterprise_id, team_id"),
            ):
                rows = self._db.rows(f"SELECT {key_sql}, secrets FROM {table}")
                where = " AND ".join(f"{c} = ?" for c in key_sql.split(", "))
                for *key, sealed in rows:
                    self._db.execute(
                        f"UPDATE {table} SET secrets = ? WHERE {where}", (reseal(sealed), *key)
                    )
                    count += 1
        return count

    def issue_state(self, state_hash: str, *, now: datetime, expires_at: datetime) -> None:
        """Keep a new OAuth state (its hash) until `expires_at`; sweep those expired at `now`."""
        with self._transaction():
            self._db.execute(
                "DELETE FROM slack_oauth_states WHERE expires_at <= ?", (instant(now),)
            )
            self._db.execute(
                "INSERT INTO slack_oauth_states (state_hash, expires_at) VALUES (?, ?)",
                (state_hash, instant(expires_at)),
            )

    def consume_state(self, state_hash: str, *, now: datetime) -> bool:
        """True once for a state kept and not expired at `now`; it is spent either way."""
        with self._transaction():
            rows = self._db.rows(
                "DELETE FROM slack_oauth_states WHERE state_hash = ? RETURNING expires_at",
                (state_hash,),
            )
        return bool(rows) and rows[0][0] > instant(now)


def _key(key: SlackKey) -> tuple[str, str, str]:
    return (key.client_id, key.enterprise_id, key.team_id)
