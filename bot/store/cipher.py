"""The key that encrypts X access tokens at rest, and the cipher that uses it.

A key is a Fernet key (32 url-safe base64-encoded bytes). ENGAGEMENT_SECRET_KEY supplies one or
more, newest first (bot/cli.py reads the variable and passes the keys in); without it, one is
kept in a 0600 file beside the database, `<db>.key`: `read_key` reads it and `create_key` makes
it, which bot/app.py does only while the database holds nothing sealed (a lost key file must
not be silently replaced by a new one). The first key encrypts and every key decrypts, so a key
can be replaced without losing the stored tokens: put the new key first, re-encrypt
(`rotate-key`), then drop the old one.

No key, token or plaintext ever appears in a repr, a log line or an exception message.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.copy import operator
from bot.errors import SecretKeyError

KEY_FILE_SUFFIX = ".key"
_PRIVATE_MODE = 0o600


class TokenCipher:
    """Encrypts with the first key, decrypts with any (cryptography's MultiFernet)."""

    __slots__ = ("_fernet", "_key_count")

    def __init__(self, fernets: Sequence[Fernet]) -> None:
        if not fernets:
            raise SecretKeyError(operator.NO_SECRET_KEY)
        self._fernet = MultiFernet(fernets)
        self._key_count = len(fernets)

    @classmethod
    def from_keys(cls, keys: Sequence[str]) -> TokenCipher:
        # A lone str is a Sequence[str] too; iterating its characters would give a baffling error.
        if isinstance(keys, str):
            raise TypeError("from_keys takes a sequence of keys; use split_keys() on a setting")
        return cls([_fernet(key, position) for position, key in enumerate(keys, start=1)])

    @classmethod
    def generate(cls) -> TokenCipher:
        """A cipher with a fresh random key: for throwaway (":memory:") databases and tests."""
        return cls([Fernet(Fernet.generate_key())])

    def __repr__(self) -> str:
        return f"TokenCipher(<{self._key_count} key{'s' if self._key_count > 1 else ''}>)"

    def encrypt(self, plaintext: bytes, *, at: datetime | None = None) -> str:
        """Fernet token (ASCII) for `plaintext`; `at` stamps it instead of the system clock."""
        if at is None:
            return self._fernet.encrypt(plaintext).decode("ascii")
        return self._fernet.encrypt_at_time(plaintext, int(at.timestamp())).decode("ascii")

    def decrypt(self, ciphertext: str) -> bytes:
        try:
            return self._fernet.decrypt(ciphertext)
        except InvalidToken:
            # `from None`: the chained InvalidToken adds nothing and would only lengthen the trace.
            raise SecretKeyError(operator.KEY_MISMATCH) from None

    def rotate(self, ciphertext: str) -> str:
        """The same plaintext, re-encrypted under the first key."""
        try:
            return self._fernet.rotate(ciphertext).decode("ascii")
        except InvalidToken:
            raise SecretKeyError(operator.KEY_MISMATCH) from None


def split_keys(setting: str) -> list[str]:
    """ENGAGEMENT_SECRET_KEY's keys: comma- or whitespace-separated, newest first."""
    return setting.replace(",", " ").split()


def key_path_for(db_path: Path) -> Path:
    """`engagement.db` → `engagement.db.key`, in the same directory."""
    return db_path.with_name(db_path.name + KEY_FILE_SUFFIX)


def read_key(db_path: Path) -> str | None:
    """The key kept beside the database; None if there is no key file.

    Raises SecretKeyError if the file is readable by group or others, or holds no valid key.
    """
    try:
        return _read_key(key_path_for(Path(db_path)))
    except FileNotFoundError:
        return None


def create_key(db_path: Path) -> str:
    """Make the key file beside the database (0600, atomically) and return its key; if another
    process made it first, that key. Two processes starting together end up with the same key:
    each writes a private temporary file and hard-links it into place, which fails for the one
    that comes second."""
    path = key_path_for(Path(db_path))
    key = Fernet.generate_key().decode("ascii")
    try:
        if _publish(path, key):
            return key
    except OSError as error:
        raise SecretKeyError(operator.key_file_uncreatable(path, error.strerror)) from None
    return _read_key(path)


def _fernet(key: str, position: int) -> Fernet:
    try:
        return Fernet(key.strip())
    except (ValueError, TypeError):
        # Say which key, never what it is.
        raise SecretKeyError(operator.not_a_fernet_key(position)) from None


def _read_key(path: Path) -> str:
    # Check the mode on the open descriptor, so the file checked is the file read.
    fd = os.open(path, os.O_RDONLY)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SecretKeyError(operator.key_file_irregular(path))
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise SecretKeyError(operator.key_file_shared(path, mode))
        # A Fernet key is 44 characters; anything much longer is not one.
        text = os.read(fd, 4096).decode("ascii", errors="replace").strip()
    finally:
        os.close(fd)
    if not text:
        raise SecretKeyError(operator.key_file_empty(path))
    _fernet(text, 1)  # validate now, with an error that names the file rather than a position
    return text


def _publish(path: Path, key: str) -> bool:
    """Write `key` to `path` unless it exists; False when another process got there first."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
    try:
        os.fchmod(fd, _PRIVATE_MODE)  # the umask may only take bits away, but be exact
        os.write(fd, key.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    except OSError:
        # A file system without hard links: exclusive create is still no-clobber, though a
        # crash right here could leave an empty file (reported as such on the next start).
        return _create_exclusive(path, key)
    finally:
        temporary.unlink()
    return True


def _create_exclusive(path: Path, key: str) -> bool:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_MODE)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, _PRIVATE_MODE)
        os.write(fd, key.encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return True
