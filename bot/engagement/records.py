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


@dataclass(frozen=True)
class Ranked:
    """One leaderboard row: `value` over the period; `source` says where it came from."""

    post_id: str
    value: int
    source: str  # "daily" (owned: X's daily series) or "snapshots" (difference of totals)


@dataclass(frozen=True)
class PostSet:
    """Posts to rank (or count, or find the unknown authors of): `ids` and, with `channel`
    (team ID, channel ID), every Post that channel tracks. The store reads a channel's tracked
    Posts itself, so a channel of 100,000 Posts hands no list of them across (to Python and
    back as JSON)."""

    ids: tuple[str, ...] = ()
    channel: tuple[str, str] | None = None


@dataclass(frozen=True)
class Board:
    """A leaderboard: the top rows, and the Posts of unknown ownership left out. As one read
    from the store that checks staleness: when some Posts' stored numbers were too old to rank
    on, or some Posts' ownership is unknown, those Posts and no rows (refresh, read again)."""

    rows: tuple[Ranked, ...]
    stale_daily: tuple[str, ...] = ()  # owned Posts: their daily series
    stale_snapshots: tuple[str, ...] = ()  # others: their totals snapshot of the metric
    unknown: tuple[str, ...] = ()  # X would not name their author when last asked
