"""Connecting an X account: the notices in Slack and the pages in the browser."""

from __future__ import annotations

from bot.copy.words import (
    escape,
)

CONNECT_PAGE_TITLE = "Connect an X account"
CONNECT_PAGE_TEXT = "X will ask you to approve the app for this Slack workspace."
CONNECT_PAGE_BUTTON = "Continue to X"
CONNECT_CANCELLED = "You cancelled connecting an X account: nothing was linked."


def x_connected(handle: str) -> str:
    """The requester's notice once X linked `handle` (escaped here: X chose the name)."""
    return (
        f"Connected X account @{escape(handle.removeprefix('@'))} to this workspace: its Posts "
        "now show private metrics (impressions, hourly and daily series)."
    )


# `/engagement connect` in Slack, when the server cannot connect accounts, and its link
CONNECT_NOT_SET_UP = (
    "Connecting an X account from Slack is not set up on this server. An operator can "
    "link one with `engagement-bot accounts add --token … --secret …`."
)


def connect_link(url: str, minutes: int) -> str:
    """The requester's one-time link (ephemeral)."""
    return (
        f"Connect an X account to this workspace: <{url}|open this link> and approve on X. "
        f"The link is valid for {minutes} minutes, single use, and only for you."
    )


# The browser's page for each outcome of a connect link: a title, then a message.
UNKNOWN_TITLE = "Unknown link"
UNKNOWN = "This connect link is not valid. Run `/engagement connect` in Slack for a new one."
USED_TITLE = "Link already used"
USED = "This connect link was already used. Run `/engagement connect` in Slack for a new one."
EXPIRED_TITLE = "Link expired"
EXPIRED = "This connect link has expired. Run `/engagement connect` in Slack for a new one."
TAMPERED_TITLE = "Callback does not match"
TAMPERED = (
    "This callback does not match the connection that was started; nothing was stored. "
    "Run `/engagement connect` in Slack to try again."
)
NOT_STARTED_TITLE = "Not started"
NOT_STARTED = "This connection was never started from its link; nothing was stored."
REFUSED_TITLE = "Authorization refused"
REFUSED = (
    "X refused the authorization (an invalid or expired verifier); nothing was stored. "
    "Run `/engagement connect` in Slack to try again."
)
X_FAILED_TITLE = "X did not answer"
X_FAILED = "X did not answer as expected; nothing was stored. Try the link again soon."
CANCELLED_TITLE = "Connection cancelled"
CANCELLED = "Connection cancelled: no X account was linked. You can close this tab."
REDIRECTING_TITLE = "Redirecting to X"
REDIRECTING = "Continue on X."


def connected_title(handle: str) -> str:
    return f"Connected {handle}"


def connected_page(handle: str) -> str:
    return f"Connected {handle}, you can close this tab."
