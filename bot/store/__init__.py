"""The bot's storage: one SQLite file through sqlite-utils, schema by registered Migrations.

    Store.open(path, cipher=…)   its repositories: store.accounts (tokens encrypted),
                                 store.posts, store.series (snapshots, hourly and daily
                                 series, leaderboards), store.usage (the API call log), ...

Imports sqlite_utils, bot.store.cipher and the engagement core's models; nothing from Slack.
"""

from bot.store.rows import (
    Account,
    EndpointUsage,
    OwnerUsage,
    PostRecord,
    PostState,
    SeriesRow,
    TotalsRow,
    Usage,
)
from bot.store.schema import MIGRATIONS
from bot.store.store import Store

__all__ = [
    "MIGRATIONS",
    "Account",
    "EndpointUsage",
    "OwnerUsage",
    "PostRecord",
    "PostState",
    "SeriesRow",
    "Store",
    "TotalsRow",
    "Usage",
]
