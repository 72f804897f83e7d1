"""`engagement-bot backup PATH` and `engagement-bot restore PATH`.

A restore checks everything before it replaces anything: the backup passes SQLite's integrity
check, a trial copy beside the database upgrades to this release's schema, and the current key
opens everything sealed in it. Only then are the live database's contents replaced (through the
backup API, so a reader sees the old state or the new), while no `run` holds the file.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.copy import maintenance, operator
from bot.errors import EXIT_OK, SecretKeyError, StoreError
from bot.store.backup import back_up, checked, copy_into
from bot.store.cipher import TokenCipher, key_path_for
from bot.store.holders import held_exclusively
from bot.store.opening import current_keys, open_store
from bot.store.store import Store


def backup(settings: Settings, *, target: Path, out: TextIO) -> int:
    copied = back_up(settings.db_path, target)
    out.write(maintenance.backup_made(str(target), copied.rows, copied.size) + "\n")
    return EXIT_OK


def restore(settings: Settings, *, source: Path, out: TextIO) -> int:
    if not source.is_file():
        raise StoreError(maintenance.restore_no_backup(str(source)))
    checked(source)
    db_path = settings.db_path
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with held_exclusively(db_path), tempfile.TemporaryDirectory(dir=db_path.parent) as folder:
        trial = Path(folder) / db_path.name
        back_up(source, trial)
        _check_trial(settings, trial)
        copy_into(trial, db_path)
    rows = checked(db_path).rows
    out.write(maintenance.restored(str(db_path), str(source), rows) + "\n")
    return EXIT_OK


def forget(settings: Settings, *, team: str, out: TextIO) -> int:
    with open_store(settings) as store:
        forgotten = store.forgetting.workspace(team)
    out.write(maintenance.workspace_forgotten(team, forgotten.total, forgotten.rows) + "\n")
    return EXIT_OK


def _check_trial(settings: Settings, trial: Path) -> None:
    """Upgrade the trial copy and check the current key opens what it holds sealed."""
    found = current_keys(settings)
    cipher = TokenCipher.from_keys(found[0]) if found else TokenCipher.generate()
    with Store.open(trial, cipher=cipher) as store:
        unopenable = store.sealed.unopenable()
        held = {noun: n for noun, n in store.sealed.counts().items() if n}
    source = found[1] if found else maintenance.no_key_source(str(key_path_for(settings.db_path)))
    if found and unopenable:
        raise SecretKeyError(
            operator.key_mismatch(source, str(trial), operator.sealed_summary(unopenable))
        )
    if not found and held:
        raise SecretKeyError(maintenance.restore_needs_key(source, operator.sealed_summary(held)))
