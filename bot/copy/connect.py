"""Connecting an X account: the notices in Slack and the pages in the browser."""

from __future__ import annotations

from bot.copy.words import (
    escape,
)

# Connecting an X account (the notices in Slack; the pages in the browser)
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
