"""The operator's lines: the database and its key (one-line reasons, and the Slack reply)."""

from __future__ import annotations

from collections.abc import Mapping

# --- The database and its key (the operator's one-line reasons, and the Slack reply) -----------


def database_corrupt(path: str, detail: str) -> str:
    return f"{path} is not a SQLite database (or is corrupt): {detail}"


def database_read_only(path: str) -> str:
    return (
        f"{path} is read-only: the bot cannot write to it (check the permissions of the file "
        "and its directory, and whether the disk is mounted read-only)"
    )


def database_locked(path: str, seconds: float) -> str:
    return f"{path}: the database is locked by another process (waited {seconds:g} s)"


def database_full(path: str) -> str:
    return f"{path}: the disk is full (free some space; nothing was written)"


def database_unavailable(path: str, detail: str) -> str:
    return f"{path} cannot be used: {detail}"


def database_trouble(state: str, reference: str, *, transient: bool) -> str:
    """The Slack reply when the bot's database refused a command's write."""
    if transient:
        return (
            f"The bot's database is {state} right now — nothing was lost; try again in a "
            f"minute (ref {reference})."
        )
    return (
        f"The bot's database is {state}, so it can't save anything until whoever runs the bot "
        f"fixes it. Nothing was lost (ref {reference})."
    )


def key_missing(key_file: str, path: str, sealed: str) -> str:
    return (
        f"the key file {key_file} is missing, but {path} holds {sealed} sealed with it: restore "
        "the file (or set ENGAGEMENT_SECRET_KEY to its key); no new key was made"
    )


def key_mismatch(source: str, path: str, sealed: str) -> str:
    return (
        f"the secret key does not match the {sealed} sealed in {path} (the key comes from "
        f"{source}): restore the key they were sealed with (or list it after the new one)"
    )


def sealed_summary(counts: Mapping[str, int]) -> str:
    """ "X tokens of 2 account(s), 1 Slack installation record(s)": what a key opens."""
    return ", ".join(f"{noun} ({n})" for noun, n in counts.items() if n)
