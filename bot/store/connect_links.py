"""Pending `/engagement connect` links: one row per link, keyed by an unguessable random id.

create()             a new link for a Slack requester; expires CONNECT_LINK_TTL after `now`
get()                the row (None for an unknown id)
set_request_token()  X's request token, and its secret encrypted with the store's cipher
request_secret()     the decrypted request-token secret
claim()              mark the link used, once: False if it already was (single use, race-free)

The request-token secret reaches SQL only as ciphertext; the request token itself is public
(X puts it in the authorize URL), so it is kept in plain text to compare with the callback's.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import SecretKeyError
from bot.store.cipher import TokenCipher
from bot.store.sql import Db, instant, parse_instant

CONNECT_LINK_TTL = timedelta(minutes=15)
_COLUMNS = (
    "link_id, team_id, channel_id, user_id, response_url, created_at, expires_at, used_at, "
    "request_token"
)


@dataclass(frozen=True)
class ConnectLink:
    link_id: str
    team_id: str
    channel_id: str
    user_id: str
    response_url: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    request_token: str | None

    def __repr__(self) -> str:  # the id is a bearer credential until used: keep it out of logs
        return f"ConnectLink(team_id={self.team_id!r}, user_id={self.user_id!r})"

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class ConnectLinks:
    """The `connect_links` table, under the store's lock and transactions."""

    def __init__(
        self,
        db: Db,
        lock: threading.RLock,
        transaction: Callable[[], AbstractContextManager[None]],
        cipher: TokenCipher,
    ) -> None:
        self._db = db
        self._lock = lock
        self._transaction = transaction
        self._cipher = cipher

    def create(
        self,
        *,
        team_id: str,
        channel_id: str,
        user_id: str,
        response_url: str | None,
        now: datetime,
        ttl: timedelta = CONNECT_LINK_TTL,
    ) -> ConnectLink:
        link = ConnectLink(
            secrets.token_urlsafe(32),
            team_id,
            channel_id,
            user_id,
            response_url or None,
            now,
            now + ttl,
            None,
            None,
        )
        with self._transaction():
            self._db.execute(
                """INSERT INTO connect_links
                (link_id, team_id, channel_id, user_id, response_url, created_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (
                    link.link_id,
                    team_id,
                    channel_id,
                    user_id,
                    link.response_url,
                    instant(now),
                    instant(link.expires_at),
                ),
            )
        return link

    def get(self, link_id: str) -> ConnectLink | None:
        with self._lock:
            rows = self._db.rows(
                f"SELECT {_COLUMNS} FROM connect_links WHERE link_id = ?", (link_id,)
            )
        return _link(rows[0]) if rows else None

    def set_request_token(self, link_id: str, token: str, secret: str, *, now: datetime) -> bool:
        """Record the request token on a link that has none yet; False if it already had one."""
        sealed = self._cipher.encrypt(secret.encode(), at=now)
        with self._transaction():
            cursor = self._db.execute(
                """UPDATE connect_links SET request_token = ?, request_secret = ?
                WHERE link_id = ? AND request_token IS NULL AND used_at IS NULL""",
                (token, sealed, link_id),
            )
            return cursor.rowcount > 0

    def request_secret(self, link_id: str) -> str | None:
        with self._lock:
            rows = self._db.rows(
                "SELECT request_secret FROM connect_links WHERE link_id = ?", (link_id,)
            )
        if not rows or rows[0][0] is None:
            return None
        return self._cipher.decrypt(rows[0][0]).decode()

    def claim(self, link_id: str, *, now: datetime) -> bool:
        """Mark the link used and forget its request secret (read it first); False if it was
        already used (or is unknown)."""
        with self._transaction():
            cursor = self._db.execute(
                """UPDATE connect_links SET used_at = ?, request_secret = NULL
                WHERE link_id = ? AND used_at IS NULL""",
                (instant(now), link_id),
            )
            return cursor.rowcount > 0

    def rotate(self, cipher: TokenCipher, *, now: datetime) -> int:
        """Re-encrypt the request secrets of links still open under `cipher`'s first key,
        and drop those of expired links (nobody can use them); how many were re-encrypted.
        A secret no key opens is dropped too: that link then says it has expired."""
        with self._transaction():
            rows = self._db.rows(
                """SELECT link_id, request_secret, expires_at FROM connect_links
                WHERE request_secret IS NOT NULL"""
            )
            kept, dropped = [], []
            for link_id, sealed, expires_at in rows:
                try:
                    if parse_instant(expires_at) > now:
                        kept.append((cipher.rotate(sealed), link_id))
                        continue
                except SecretKeyError:
                    pass
                dropped.append((link_id,))
            self._db.many("UPDATE connect_links SET request_secret = ? WHERE link_id = ?", kept)
            self._db.many(
                "UPDATE connect_links SET request_secret = NULL WHERE link_id = ?", dropped
            )
        return len(kept)


def _link(row: tuple[str, ...]) -> ConnectLink:
    link_id, team, channel, user, response_url, created, expires, used, token = row
    return ConnectLink(
        link_id,
        team,
        channel,
        user,
        response_url,
        parse_instant(created),
        parse_instant(expires),
        parse_instant(used) if used else None,
        token,
    )
