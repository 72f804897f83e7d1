"""What the engagement service hands the store to keep: Posts learned, totals read, series
fetched. Defined in the core so the service's store Protocol needs nothing from bot.store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple


@dataclass(frozen=True)
class PostRecord:
    """What we learned of a Post (v2 lookup, timeline). None: not known, keep what is stored."""

    post_id: str
    author_id: str | None
    created_at: datetime | None
    text: str | None = None
    author_username: str | None = None


class TotalsRow(NamedTuple):
    """One lifetime total as read at some instant (the snapshot's `taken_at`). A named tuple:
    a refresh makes one per Post and metric (700,000 for 100,000 Posts)."""

    post_id: str
    metric: str
    value: int


class SeriesRow(NamedTuple):
    """One bucket of a series: `bucket` is an hour's start (aware datetime) or a UTC date. A
    named tuple, as TotalsRow."""

    post_id: str
    metric: str
    bucket: datetime | date
    value: int
