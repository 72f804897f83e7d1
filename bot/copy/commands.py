"""Replies to `/engagement` subcommands: help, confirmations of settings changes."""

from __future__ import annotations

# Help
HELP_TITLE = "How to use /engagement"
HELP_EXAMPLES = "*Examples*"
HELP_POSTS = "A Post is its ID or its x.com link. Commands aren't case-sensitive."
HELP_FALLBACK = "How to use /engagement: totals, hourly, daily, top, track, digest, alerts…"
