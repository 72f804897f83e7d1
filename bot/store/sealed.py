"""What the database holds sealed with the store's key: X account tokens, Slack installation
secrets, connect links' request secrets. Counted to decide whether a new key may be made, and
opened to check at start that the key is the right one."""

from __future__ import annotations

import threading

from bot.errors import SecretKeyError
from bot.store.cipher import TokenCipher
from bot.store.sql import Db, Repository, Transaction

# noun → the query of its sealed values
_SEALED = {
    "X account tokens": "SELECT ciphertext FROM account_tokens",
    "Slack installation records": (
        "SELECT secrets FROM slack_installations UNION ALL SELECT secrets FROM slack_bots"
    ),
    "connect link secrets": (
        "SELECT request_secret FROM connect_links WHERE request_secret IS NOT NULL"
    ),
}


def counts(db: Db) -> dict[str, int]:
    """noun → how many values of that kind are sealed."""
    return {noun: db.rows(f"SELECT COUNT(*) FROM ({sql})")[0][0] for noun, sql in _SEALED.items()}


def unopenable(db: Db, cipher: TokenCipher) -> dict[str, int]:
    """noun → how many values of that kind the cipher cannot open (kinds with none left out)."""
    failed: dict[str, int] = {}
    for noun, sql in _SEALED.items():
        for (sealed,) in db.rows(sql):
            try:
                cipher.decrypt(sealed)
            except SecretKeyError:
                failed[noun] = failed.get(noun, 0) + 1
    return failed


class Sealed(Repository):
    """Everything sealed with the store's key, whatever its table: `store.sealed`."""

    def __init__(
        self, db: Db, lock: threading.RLock, transaction: Transaction, cipher: TokenCipher
    ) -> None:
        super().__init__(db, lock, transaction)
        self._cipher = cipher

    def counts(self) -> dict[str, int]:
        """noun → how many (X tokens, Slack installations, connect links' secrets)."""
        with self._lock:
            return counts(self._db)

    def unopenable(self) -> dict[str, int]:
        """The sealed values this store's key cannot open: noun → how many (empty: all open)."""
        with self._lock:
            return unopenable(self._db, self._cipher)
