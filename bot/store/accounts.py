"""Connected X accounts and their tokens, encrypted before they reach SQL.

The plaintext of a token exists only in the UserAuth passed in or handed back; SQL parameters,
the tracer and the file see ciphertext. The ciphertext also names its account, so a token row
copied onto another account is refused rather than used.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime

from bot.copy.operator import tokens_of_another_account, x_tokens_mismatch
from bot.engagement.models import UserAuth
from bot.errors import SecretKeyError
from bot.store.cipher import TokenCipher
from bot.store.rows import Account
from bot.store.sql import Db, Repository, Transaction, instant, parse_instant

_COLUMNS = "user_id, screen_name, workspace, connected_at"
# The one rule of which accounts serve a workspace (:workspace NULL: the operator, who sees all):
# its own, and those linked for every workspace that it has not disconnected.
_SERVES = """(:workspace IS NULL OR workspace = :workspace OR (workspace IS NULL AND NOT EXISTS (
    SELECT 1 FROM account_exclusions AS e
    WHERE e.user_id = accounts.user_id AND e.workspace = :workspace)))"""


def save(
    db: Db,
    cipher: TokenCipher,
    *,
    user_id: str,
    screen_name: str,
    auth: UserAuth,
    workspace: str | None,
    now: datetime,
) -> None:
    owner = auth.user_id
    if owner is not None and owner != user_id:
        # The token's prefix is its user's ID (public), so naming it leaks nothing.
        raise ValueError(f"the access token belongs to user {owner}, not {user_id}")
    sealed = cipher.encrypt(_payload(user_id, auth), at=now)
    # An account linked for every workspace stays so when one workspace connects it again
    # (that workspace is served again); only the operator narrows it (remove, then add).
    db.execute(
        f"""INSERT INTO accounts ({_COLUMNS}) VALUES (?, ?, ?, ?)
        ON CONFLICT (user_id) DO UPDATE SET screen_name = excluded.screen_name,
            workspace = CASE WHEN accounts.workspace IS NULL AND excluded.workspace IS NOT NULL
                THEN NULL ELSE excluded.workspace END,
            connected_at = excluded.connected_at""",
        (user_id, screen_name.removeprefix("@"), workspace, instant(now)),
    )
    if workspace is not None:
        db.execute(
            "DELETE FROM account_exclusions WHERE user_id = ? AND workspace = ?",
            (user_id, workspace),
        )
    db.execute(
        """INSERT INTO account_tokens (user_id, ciphertext) VALUES (?, ?)
        ON CONFLICT (user_id) DO UPDATE SET ciphertext = excluded.ciphertext""",
        (user_id, sealed),
    )
    remember_user(db, user_id, screen_name.removeprefix("@"))


def remember_user(db: Db, user_id: str, username: str) -> None:
    db.execute(
        """INSERT INTO users (user_id, username) VALUES (?, ?)
        ON CONFLICT (user_id) DO UPDATE SET username = excluded.username""",
        (user_id, username),
    )


def listed(db: Db, workspace: str | None) -> list[Account]:
    rows = db.rows(
        f"""SELECT {_COLUMNS} FROM accounts WHERE {_SERVES}
        ORDER BY screen_name COLLATE NOCASE, user_id""",
        {"workspace": workspace},
    )
    return [_account(row) for row in rows]


def find(db: Db, user_id_or_handle: str, workspace: str | None = None) -> Account | None:
    text = user_id_or_handle.strip()
    if text.isdigit():
        rows = db.rows(
            f"SELECT {_COLUMNS} FROM accounts WHERE user_id = :ref AND {_SERVES}",
            {"ref": text, "workspace": workspace},
        )
        if rows:
            return _account(rows[0])
    rows = db.rows(
        f"SELECT {_COLUMNS} FROM accounts WHERE screen_name = :ref COLLATE NOCASE AND {_SERVES}",
        {"ref": text.removeprefix("@"), "workspace": workspace},
    )
    return _account(rows[0]) if rows else None


def exclude(db: Db, user_id: str, workspace: str, now: datetime) -> None:
    db.execute(
        """INSERT INTO account_exclusions (user_id, workspace, excluded_at) VALUES (?, ?, ?)
        ON CONFLICT (user_id, workspace) DO NOTHING""",
        (user_id, workspace, instant(now)),
    )


def exclusions(db: Db) -> dict[str, tuple[str, ...]]:
    """user ID → the workspaces that disconnected it, sorted."""
    found: dict[str, list[str]] = {}
    for user_id, workspace in db.rows(
        "SELECT user_id, workspace FROM account_exclusions ORDER BY user_id, workspace"
    ):
        found.setdefault(user_id, []).append(workspace)
    return {user_id: tuple(spaces) for user_id, spaces in found.items()}


def auth(db: Db, cipher: TokenCipher, user_id: str) -> UserAuth | None:
    rows = db.rows("SELECT ciphertext FROM account_tokens WHERE user_id = ?", (user_id,))
    if not rows:
        return None
    try:
        payload = json.loads(cipher.decrypt(rows[0][0]))
    except SecretKeyError as error:
        raise SecretKeyError(f"account {user_id}: {error}") from None
    if payload.get("user_id") != user_id:
        raise SecretKeyError(tokens_of_another_account(user_id))
    return UserAuth(payload["token"], payload["secret"])


def remove(db: Db, user_id: str) -> bool:
    db.execute("DELETE FROM account_tokens WHERE user_id = ?", (user_id,))
    return db.execute("DELETE FROM accounts WHERE user_id = ?", (user_id,)).rowcount > 0


def connected_ids(db: Db, workspace: str | None) -> frozenset[str]:
    """Accounts with tokens; for a workspace, its own and those shared with every workspace."""
    rows = db.rows(
        f"""SELECT user_id FROM accounts
        WHERE user_id IN (SELECT user_id FROM account_tokens) AND {_SERVES}""",
        {"workspace": workspace},
    )
    return frozenset(row[0] for row in rows)


def undecryptable(db: Db, cipher: TokenCipher) -> list[str]:
    """User IDs whose tokens the cipher cannot decrypt."""
    failed = []
    for user_id, ciphertext in db.rows("SELECT user_id, ciphertext FROM account_tokens"):
        try:
            cipher.decrypt(ciphertext)
        except SecretKeyError:
            failed.append(user_id)
    return failed


def rotate(db: Db, cipher: TokenCipher) -> int:
    rows = db.rows("SELECT user_id, ciphertext FROM account_tokens")
    updates = [(cipher.rotate(ciphertext), user_id) for user_id, ciphertext in rows]
    db.many("UPDATE account_tokens SET ciphertext = ? WHERE user_id = ?", updates)
    return len(updates)


def _payload(user_id: str, auth: UserAuth) -> bytes:
    body = {"user_id": user_id, "token": auth.access_token, "secret": auth.access_token_secret}
    return json.dumps(body).encode()


def _account(row: tuple[str, str, str | None, str]) -> Account:
    user_id, screen_name, workspace, connected_at = row
    return Account(user_id, screen_name, workspace, parse_instant(connected_at))


class Accounts(Repository):
    """Connected X accounts: `store.accounts`."""

    def __init__(
        self, db: Db, lock: threading.RLock, transaction: Transaction, cipher: TokenCipher
    ) -> None:
        super().__init__(db, lock, transaction)
        self._cipher = cipher

    def save(
        self,
        *,
        user_id: str,
        screen_name: str,
        auth: UserAuth,
        workspace: str | None,
        now: datetime,
    ) -> None:
        """Add or replace a connected account and its (encrypted) tokens."""
        with self._transaction():
            save(
                self._db,
                self._cipher,
                user_id=user_id,
                screen_name=screen_name,
                auth=auth,
                workspace=workspace,
                now=now,
            )

    def listed(self, workspace: str | None = None) -> list[Account]:
        """All accounts (None), or a workspace's plus those linked with no workspace."""
        with self._lock:
            return listed(self._db, workspace)

    def auth(self, user_id: str) -> UserAuth | None:
        """The decrypted tokens; SecretKeyError when the key does not match them."""
        with self._lock:
            return auth(self._db, self._cipher, user_id)

    def find(self, user_id_or_handle: str, workspace: str | None = None) -> Account | None:
        """By user ID, or by handle with or without "@", case-insensitive; with a workspace,
        only an account serving it."""
        with self._lock:
            return find(self._db, user_id_or_handle, workspace)

    def exclude(self, user_id: str, workspace: str, *, now: datetime) -> None:
        """An account linked for every workspace stops serving `workspace`; its tokens stay
        for the others (connecting it again from that workspace undoes this)."""
        with self._transaction():
            exclude(self._db, user_id, workspace, now)

    def exclusions(self) -> dict[str, tuple[str, ...]]:
        """user ID → the workspaces that disconnected an account linked for every workspace."""
        with self._lock:
            return exclusions(self._db)

    def remove(self, user_id: str) -> bool:
        """Forget the account and delete its tokens; False if it was not connected."""
        with self._transaction():
            return remove(self._db, user_id)

    def connected_ids(self, workspace: str | None = None) -> frozenset[str]:
        """Who counts as an owner: every connected account, or those one workspace may use
        (its own and the ones linked for every workspace)."""
        with self._lock:
            return connected_ids(self._db, workspace)

    def verify_key(self) -> None:
        """Raise SecretKeyError, naming the accounts, unless the key opens every stored token."""
        with self._lock:
            failed = undecryptable(self._db, self._cipher)
        if failed:
            raise SecretKeyError(x_tokens_mismatch(failed))

    def rotate(self) -> int:
        """Re-encrypt every account token under the cipher's first key; how many were
        rewritten."""
        with self._transaction():
            return rotate(self._db, self._cipher)
