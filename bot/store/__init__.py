"""The bot's storage: one SQLite file on raw sqlite3, its schema by registered Migrations.

    Store.open(path, cipher=…)   its repositories: store.accounts (tokens encrypted),
                                 store.posts, store.series (snapshots, hourly and daily
                                 series, leaderboards), store.usage (the API call log), ...

Imports bot.store.cipher and the engagement core's models (sqlite_utils only when a file is
behind its schema, or for `store.database`); nothing from Slack.
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
