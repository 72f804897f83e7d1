"""Replies to `/engagement` subcommands: help, confirmations of settings changes."""

from __future__ import annotations

from datetime import datetime

# Help
HELP_TITLE = "How to use /engagement"
HELP_EXAMPLES = "*Examples*"
HELP_POSTS = "A Post is its ID or its x.com link. Commands aren't case-sensitive."
HELP_FALLBACK = "How to use /engagement: totals, hourly, daily, top, track, digest, alerts…"


# Confirmations and refusals of settings changes
def now_tracking(added: list[str], already: int) -> str:
    """`track`: what it added (Posts and @handles), and how many were tracked already."""
    text = f"Now tracking {', '.join(added)} in this channel." if added else ""
    if already:
        text += f" {already} already tracked."
    return text.strip()


NONE_UNTRACKED = "None of those were tracked here. `/engagement tracked` lists them."


def stopped_tracking(removed: list[str]) -> str:
    return f"Stopped tracking {', '.join(removed)}."


def digest_on(digest_time: str, zone: str | None, covers: str) -> str:
    """`digest on`; `covers` is copy.channel.digest_covers' sentence."""
    return (
        f"Daily digest on: every day at {digest_time} {zone}, covering the previous day. {covers}"
    )


DIGEST_OFF = "Daily digest off for this channel."


def no_alert(rule_id: int) -> str:
    return f"This channel has no alert #{rule_id}. `/engagement alerts` lists them."


def alert_removed(rule_id: int) -> str:
    return f"Alert #{rule_id} removed."


ALERTS_RESUMED = "Alerts are back on for this channel."


def snoozed_until(until: datetime) -> str:
    return f"Alerts snoozed until {until:%Y-%m-%d %H:%M} UTC."


QUIET_OFF = "Quiet hours are off: alerts arrive as they fire."


def quiet_hours(start: str, end: str | None, zone: str) -> str:
    return f"Quiet hours {start}–{end} ({zone}): alerts in them arrive together at {end}."


def post_muted(post: str) -> str:
    return f"Muted {post}: this channel's alerts skip it from now on."
