"""Opening the store with its key: ENGAGEMENT_SECRET_KEY, or the key file beside the database,
checked against what the file holds sealed before anything uses it."""

from __future__ import annotations

from bot.config import Settings
from bot.copy import operator
from bot.errors import SecretKeyError
from bot.store.cipher import TokenCipher, create_key, key_path_for, read_key, split_keys
from bot.store.store import Store


def current_keys(settings: Settings) -> tuple[list[str], str] | None:
    """The keys the database is sealed with and where they come from (the setting, else the
    key file beside the database); None when neither exists yet."""
    if settings.secret_key:
        return split_keys(settings.secret_key), "ENGAGEMENT_SECRET_KEY"
    key = read_key(settings.db_path)
    if key is None:
        return None
    return [key], f"the key file {key_path_for(settings.db_path)}"


def open_store(settings: Settings) -> Store:
    """The SQLite store, sealed with ENGAGEMENT_SECRET_KEY or the key file beside it, checked
    before anything uses it: SecretKeyError (one line, naming the setting or the file) when the
    key does not open what the file holds sealed, or when the key file is gone but sealed data
    remains. A key file is made only for a database with nothing sealed in it."""
    keys = split_keys(settings.secret_key) if settings.secret_key else []
    source = "ENGAGEMENT_SECRET_KEY"
    if not keys:
        source = f"the key file {key_path_for(settings.db_path)}"
        settings.db_path.parent.mkdir(parents=True, exist_ok=True)
        key = read_key(settings.db_path)
        if key is None:
            return _open_with_new_key(settings)
        keys = [key]
    store = Store.open(settings.db_path, cipher=TokenCipher.from_keys(keys))
    try:
        if failed := store.sealed.unopenable():
            raise SecretKeyError(
                operator.key_mismatch(
                    source, str(settings.db_path), operator.sealed_summary(failed)
                )
            )
    except BaseException:
        store.close()
        raise
    return store


def _open_with_new_key(settings: Settings) -> Store:
    """No key file: make one, unless the database holds data sealed with a key (then the file
    was lost, and a new key would orphan that data and seal new data differently)."""
    store = Store.open(settings.db_path, cipher=TokenCipher.generate())
    try:
        held = {noun: n for noun, n in store.sealed.counts().items() if n}
    finally:
        store.close()
    if held:
        raise SecretKeyError(
            operator.key_missing(
                str(key_path_for(settings.db_path)),
                str(settings.db_path),
                operator.sealed_summary(held),
            )
        )
    return Store.open(
        settings.db_path, cipher=TokenCipher.from_keys([create_key(settings.db_path)])
    )
