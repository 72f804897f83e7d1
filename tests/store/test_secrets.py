"""bot.store.cipher: the token cipher, key rotation, and the 0600 key file beside the database."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.errors import BotError, SecretKeyError
from bot.store.cipher import TokenCipher, create_key, key_path_for, read_key, split_keys

PLAINTEXT = b"token-7f3a9c-secret-plaintext"


def new_key() -> str:
    return Fernet.generate_key().decode()


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- TokenCipher -------------------------------------------------------------------------------


def test_round_trip_and_ciphertext_hides_the_plaintext() -> None:
    cipher = TokenCipher.from_keys([new_key()])
    sealed = cipher.encrypt(PLAINTEXT)
    assert PLAINTEXT.decode() not in sealed
    assert cipher.decrypt(sealed) == PLAINTEXT


def test_encrypt_at_a_given_time_stamps_the_token_with_it() -> None:
    key = new_key()
    at = datetime(2026, 11, 26, 12, 30, tzinfo=UTC)
    sealed = TokenCipher.from_keys([key]).encrypt(PLAINTEXT, at=at)
    assert Fernet(key).extract_timestamp(sealed) == int(at.timestamp())


def test_repr_shows_no_key() -> None:
    key = new_key()
    cipher = TokenCipher.from_keys([key, new_key()])
    assert repr(cipher) == "TokenCipher(<2 keys>)"
    assert key not in repr(cipher)
    assert key not in str(cipher)


def test_wrong_key_is_a_clear_secret_key_error_without_the_token() -> None:
    sealed = TokenCipher.from_keys([new_key()]).encrypt(PLAINTEXT)
    other = TokenCipher.from_keys([new_key()])
    with pytest.raises(SecretKeyError, match="does not match the stored X tokens") as caught:
        other.decrypt(sealed)
    assert isinstance(caught.value, BotError)
    assert sealed not in str(caught.value)
    assert PLAINTEXT.decode() not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_first_key_encrypts_every_key_decrypts_and_rotation_moves_to_the_first() -> None:
    old, new = new_key(), new_key()
    sealed_with_old = TokenCipher.from_keys([old]).encrypt(PLAINTEXT)
    both = TokenCipher.from_keys([new, old])
    assert both.decrypt(sealed_with_old) == PLAINTEXT
    assert TokenCipher.from_keys([new]).decrypt(both.encrypt(PLAINTEXT)) == PLAINTEXT
    rotated = both.rotate(sealed_with_old)
    assert TokenCipher.from_keys([new]).decrypt(rotated) == PLAINTEXT
    with pytest.raises(SecretKeyError):
        TokenCipher.from_keys([old]).decrypt(rotated)


def test_rotating_a_token_no_key_opens_is_a_secret_key_error() -> None:
    sealed = TokenCipher.from_keys([new_key()]).encrypt(PLAINTEXT)
    with pytest.raises(SecretKeyError, match="does not match"):
        TokenCipher.from_keys([new_key()]).rotate(sealed)


def test_malformed_key_names_its_position_not_its_text() -> None:
    with pytest.raises(SecretKeyError, match=r"secret key #2 is not a Fernet key") as caught:
        TokenCipher.from_keys([new_key(), "hunter2-not-a-key"])
    assert "hunter2" not in str(caught.value)


def test_no_keys_and_a_bare_string_are_refused() -> None:
    with pytest.raises(SecretKeyError, match="no secret key"):
        TokenCipher.from_keys([])
    with pytest.raises(TypeError, match="split_keys"):
        TokenCipher.from_keys(new_key())


def test_split_keys_takes_commas_or_whitespace_newest_first() -> None:
    assert split_keys(" a, b\nc ") == ["a", "b", "c"]
    assert split_keys("") == []


def test_keys_with_surrounding_whitespace_work() -> None:
    key = new_key()
    sealed = TokenCipher.from_keys([f"  {key}\n"]).encrypt(PLAINTEXT)
    assert TokenCipher.from_keys([key]).decrypt(sealed) == PLAINTEXT


# --- the key file ------------------------------------------------------------------------------


def key_for(db: Path) -> str:
    """The key file's key, made if there is none (bot/app.py decides when that is allowed)."""
    return read_key(db) or create_key(db)


def test_key_file_sits_beside_the_database(tmp_path: Path) -> None:
    assert key_path_for(tmp_path / "engagement.db") == tmp_path / "engagement.db.key"


def test_first_use_creates_a_private_key_file_and_later_uses_read_it(tmp_path: Path) -> None:
    db = tmp_path / "engagement.db"
    key = key_for(db)
    path = tmp_path / "engagement.db.key"
    assert path.read_text().strip() == key
    assert mode_of(path) == 0o600
    assert key_for(db) == key
    TokenCipher.from_keys([key])  # a valid Fernet key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["engagement.db.key"]  # no temp files


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077])
def test_key_file_is_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        key_for(tmp_path / "x.db")
    finally:
        os.umask(previous)
    assert mode_of(tmp_path / "x.db.key") == 0o600


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "engagement.db.key"
    key = new_key()
    path.write_text(key)
    path.chmod(mode)
    with pytest.raises(SecretKeyError, match=r"readable by group or others") as caught:
        key_for(tmp_path / "engagement.db")
    message = str(caught.value)
    assert f"chmod 600 {path}" in message
    assert f"{mode:04o}" in message
    assert key not in message
    assert path.read_text() == key  # left alone: the operator decides


def test_an_empty_or_garbled_key_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = tmp_path / "engagement.db.key"
    path.write_text("")
    path.chmod(0o600)
    with pytest.raises(SecretKeyError, match="is empty"):
        key_for(tmp_path / "engagement.db")
    path.write_text("not-a-fernet-key-s3cr3t")
    with pytest.raises(SecretKeyError, match="not a Fernet key") as caught:
        key_for(tmp_path / "engagement.db")
    assert "s3cr3t" not in str(caught.value)


def test_a_directory_in_place_of_the_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "engagement.db.key").mkdir(mode=0o700)
    with pytest.raises(SecretKeyError, match="not a regular file"):
        key_for(tmp_path / "engagement.db")


def test_concurrent_first_uses_agree_on_one_key(tmp_path: Path) -> None:
    db = tmp_path / "engagement.db"
    barrier = threading.Barrier(8)
    keys: list[str] = []

    def start() -> None:
        barrier.wait()
        keys.append(key_for(db))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8
    assert len(set(keys)) == 1
    assert (tmp_path / "engagement.db.key").read_text().strip() == keys[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["engagement.db.key"]


def test_without_hard_links_the_file_is_still_created_exclusively(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: object, target: object) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(os, "link", no_links)
    key = key_for(tmp_path / "engagement.db")
    path = tmp_path / "engagement.db.key"
    assert path.read_text().strip() == key
    assert mode_of(path) == 0o600
    assert key_for(tmp_path / "engagement.db") == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["engagement.db.key"]


def test_a_key_file_that_cannot_be_created_is_a_one_line_reason(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    with pytest.raises(SecretKeyError, match="cannot create the key file .*not-a-folder"):
        create_key(tmp_path / "not-a-folder" / "engagement.db")
