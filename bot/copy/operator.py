"""What whoever runs the bot reads: the database and its key, the settings the bot lacks at
start-up, the HTTP server's refusals, `accounts` and `rotate-key`, the daily tally (plain text,
one line each; `database_trouble` is the Slack reply)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

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


# --- Starting the bot: settings it lacks, and Slack's answer to its token -----------------------

NO_X_CREDENTIALS = (
    "no X credentials: set X_CONSUMER_KEY and X_CONSUMER_SECRET (to try it on the "
    "simulator, run `engagement-bot simulator` and point X_API_URL and X_OAUTH_URL at it)"
)
NO_SLACK_CREDENTIALS = (
    "SLACK_BOT_TOKEN is required to run the Slack bot (xoxb-…), or SLACK_CLIENT_ID and "
    "SLACK_CLIENT_SECRET to install it in several workspaces"
)
INSTALL_NEEDS_HTTPS = (
    "the Slack install (SLACK_CLIENT_ID) needs ENGAGEMENT_PUBLIC_URL: the public https:// "
    "address of this server (Slack redirects installers to "
    "<ENGAGEMENT_PUBLIC_URL>/slack/oauth_redirect and accepts only HTTPS)"
)
HTTP_NEEDS_SIGNING_SECRET = (
    "HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)"
)


def slack_refused_token(code: object) -> str:
    return f"Slack refused SLACK_BOT_TOKEN ({code})"


def slack_unreachable(base_url: str, error: object) -> str:
    return f"could not reach Slack at {base_url}: {error}"


def disconnected_mid_query(owner: str) -> str:
    """An account unlinked while a query was using its token."""
    return f"account {owner} was disconnected while a query ran"


# --- The bot's HTTP server: what it answers requests it will not serve ------------------------

OAUTH_NOT_SET_UP = (
    "This server serves one workspace; set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to install "
    "it in several"
)
X_CALLBACK_NOT_READY = "X account connection is not set up on this server yet"
SOCKET_MODE_EVENTS = "This server takes Slack's requests over Socket Mode, not at /slack/events"
BAD_SIGNATURE = "Unauthorized: invalid Slack signature"
BODY_UNREADABLE = "the body cannot be read as its Content-Type says"
BODY_NOT_OBJECT = "the body is neither a JSON object nor a form"


def bad_request(why: str) -> str:
    return f"Bad Request: {why}"


# --- `engagement-bot accounts` and `rotate-key` (plain text, in a terminal) --------------------

TOKEN_NOT_THE_ACCOUNTS = (
    "that access token does not start with the account's user ID (<user_id>-…); "
    "copy it as X shows it"
)


def account_shown(handle: str | None, user_id: str) -> str:
    """An account just linked: its @handle, or its ID while it has written nothing."""
    return f"@{handle}" if handle else f"user {user_id} (no Posts yet, so no handle)"


def account_linked(shown: str) -> str:
    return f"Linked {shown}: its Posts now count as owned.\n"


NO_ACCOUNTS_LINKED = "No X accounts linked. Add one with `engagement-bot accounts add`.\n"


def no_linked_account(handle: str) -> str:
    return f"no linked account {handle}; `engagement-bot accounts list`"


def account_removed(handle: str) -> str:
    return (
        f"Removed {handle}: its tokens are deleted; its Posts now count as not owned "
        "(public totals only, no impressions, no hourly or daily series).\n"
    )


ROTATE_NEEDS_TWO_KEYS = (
    "set ENGAGEMENT_SECRET_KEY to the new key followed by the old one (NEW,OLD); "
    "make a new key with: python -c 'from cryptography.fernet import Fernet; "
    "print(Fernet.generate_key().decode())'"
)


def slack_tokens_mismatch(teams: list[str]) -> str:
    return (
        f"the secret key does not match the stored Slack tokens of {', '.join(teams)}: "
        "restore the old key (listed after the new one) or reinstall the app there"
    )


def key_rotated(tokens: int, installs: int) -> str:
    return (
        f"Re-encrypted {tokens} account token(s) and {installs} Slack installation "
        "record(s) with the new key. You can now remove the old key from "
        "ENGAGEMENT_SECRET_KEY.\n"
    )


# --- The daily tally of Posts and API calls (`engagement-bot tally`, and its job's log) --------


def tally_summary(
    day: date, workspaces: int, posts: int, calls: int, failed: int, errors: Sequence[str]
) -> str:
    """One line; `errors` are "<workspace>: <error>" for each workspace that failed."""
    noun = "call" if calls == 1 else "calls"
    text = f"tally {day.isoformat()}: {workspaces} workspace(s), {posts} Posts, {calls} API {noun}"
    if failed:
        text += f", {failed} Posts without numbers"
    return text + "".join(f"; failed {e}" for e in errors)


def utc_day_not_over(day: date) -> str:
    return f"{day.isoformat()} is not over yet (UTC)"


# --- The secret key that seals the stored tokens ------------------------------------------------

KEY_FORMAT = "32 url-safe base64-encoded bytes, as made by Fernet.generate_key()"
NO_SECRET_KEY = "no secret key was given to encrypt the X tokens"
KEY_MISMATCH = (
    "the secret key does not match the stored X tokens (was ENGAGEMENT_SECRET_KEY or the key "
    "file beside the database changed?); restore the old key, or list it after the new one"
)


def key_file_uncreatable(path: object, why: str | None) -> str:
    return f"cannot create the key file {path}: {why}"


def not_a_fernet_key(position: int) -> str:
    """The `position`th key of a setting (never the key itself)."""
    return f"secret key #{position} is not a Fernet key ({KEY_FORMAT})"


def key_file_irregular(path: object) -> str:
    return f"the key file {path} is not a regular file"


def key_file_shared(path: object, mode: int) -> str:
    return (
        f"the key file {path} is readable by group or others (mode {mode:04o}); "
        f"it must be private to its owner: chmod 600 {path}"
    )


def key_file_empty(path: object) -> str:
    return f"the key file {path} is empty"


def x_tokens_mismatch(accounts: Sequence[str]) -> str:
    return (
        f"the secret key does not match the stored X tokens of account(s) "
        f"{', '.join(accounts)}: restore the old key (listed after the new one) or "
        f"disconnect and reconnect them"
    )


def tokens_of_another_account(user_id: str) -> str:
    return f"the stored tokens of account {user_id} belong to another account"


def slack_tokens_elsewhere(team: str, row: str) -> str:
    """A sealed Slack installation record that opened, but names another row."""
    return f"the stored Slack tokens of {team} {row!r} belong elsewhere"


def app_not_installed(channel_id: str, team_id: str | None) -> str:
    where = f"workspace {team_id}" if team_id else "no known workspace"
    return f"channel {channel_id}: the app is not installed in {where}"


NO_SLACK_BOT_TOKEN = "SLACK_BOT_TOKEN is required to run the Slack bot (xoxb-…)"
# Code that builds the Slack app for the OAuth install without its installation store.
OAUTH_NEEDS_STORE = (
    "SLACK_CLIENT_ID/SLACK_CLIENT_SECRET are set: the OAuth install needs its "
    "installation store (build_app(workspaces=…), as `run` does)"
)
