"""What the operator reads from the maintenance commands: `--version`, `backup`, `restore`, and
the refusal of a database made by a newer release (plain text, one line each)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SOCKET_NOT_CONNECTED = "not ready: the Socket Mode connection to Slack is down"


def database_not_ready(reason: str) -> str:
    return f"not ready: the database cannot be read ({reason})"


def version(number: str) -> str:
    return f"engagement-bot {number}"


def database_in_use(path: str) -> str:
    return (
        f"{path} is open in another engagement-bot process (a running `run`, or a command): "
        "stop it first; restore replaces the whole database (nothing was changed)"
    )


def database_being_restored(path: str) -> str:
    return f"{path} is being restored from a backup: try again when the restore has finished"


def database_too_new(path: str, unknown: Sequence[str]) -> str:
    shown = ", ".join(unknown[:3]) + (", …" if len(unknown) > 3 else "")
    return (
        f"{path} was upgraded by a newer engagement-bot release (schema steps this release "
        f"does not know: {shown}); it was not modified. Run that release or a later one, or "
        "restore a backup made by this one"
    )


def daily_metrics_without_column(metrics: Sequence[str]) -> str:
    return (
        f"the daily series hold metrics this release has no column for ({', '.join(metrics)}); "
        "the database was not upgraded. Run the release that wrote them, or remove those rows"
    )


def backup_no_database(path: str) -> str:
    return f"{path}: there is no database to back up (check ENGAGEMENT_DB)"


def backup_target_exists(path: str) -> str:
    return f"{path} already exists: choose a new file name (a backup never overwrites a file)"


def backup_damaged(path: str, detail: str) -> str:
    return f"{path} failed SQLite's integrity check ({detail}): nothing was replaced"


def restore_no_backup(path: str) -> str:
    return f"{path}: no such backup file"


def backup_made(path: str, rows: Mapping[str, int], size: int) -> str:
    return (
        f"Backed up to {path} ({_size(size)}, {_rows(rows)}; integrity check passed). "
        "The key is not in the backup: keep the key file or ENGAGEMENT_SECRET_KEY safe, "
        "separately."
    )


def restored(path: str, source: str, rows: Mapping[str, int]) -> str:
    return f"Restored {path} from {source} ({_rows(rows)}; integrity check and key passed)."


def _rows(rows: Mapping[str, int]) -> str:
    total = sum(rows.values())
    return f"{total:,} rows in {len(rows)} tables"


def _size(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def no_key_source(key_file: str) -> str:
    return f"ENGAGEMENT_SECRET_KEY or the key file {key_file}"


def restore_needs_key(source: str, sealed: str) -> str:
    return (
        f"the backup holds {sealed} sealed with a key, and there is no key here: set {source} "
        "to the key it was made with (nothing was replaced)"
    )


def workspace_forgotten(team: str, total: int, rows: Mapping[str, int]) -> str:
    detail = ", ".join(f"{table} {n}" for table, n in sorted(rows.items()))
    return f"forgot workspace {team}: {total:,} rows deleted or anonymised" + (
        f" ({detail})" if detail else ""
    )
