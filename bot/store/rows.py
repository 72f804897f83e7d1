"""The values the store takes and gives back: frozen rows, never a secret among them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# Re-exported: the service hands these over; they are defined in the engagement core.
from bot.engagement.records import PostRecord as PostRecord
from bot.engagement.records import SeriesRow as SeriesRow
from bot.engagement.records import TotalsRow as TotalsRow


@dataclass(frozen=True)
class Account:
    """A connected X account. Its tokens stay in the store (Store.account_auth)."""

    user_id: str
    screen_name: str
    workspace: str | None  # None: linked from the command line, shared by every workspace
    connected_at: datetime

    @property
    def handle(self) -> str:
        return f"@{self.screen_name}"


class PostState(StrEnum):
    OK = "ok"
    DELETED = "deleted"  # unavailable to X: never look its author up again
    PROTECTED = "protected"  # a protected Post or account


@dataclass(frozen=True)
class EndpointUsage:
    """A month of calls to one endpoint; `attempts` counts retries too."""

    endpoint: str
    calls: int
    failed: int
    attempts: int
    posts: int  # Post IDs asked for, summed over calls


@dataclass(frozen=True)
class OwnerUsage:
    """An account whose token made at least one successful call that month (X bills per owner)."""

    user_id: str
    handle: str | None  # "@name" when we have ever learned it
    calls: int


@dataclass(frozen=True)
class Usage:
    month: str  # "YYYY-MM", UTC
    endpoints: tuple[EndpointUsage, ...]
    owners: tuple[OwnerUsage, ...]

    @property
    def calls(self) -> Mapping[str, int]:
        return {e.endpoint: e.calls for e in self.endpoints}

    @property
    def total_calls(self) -> int:
        return sum(e.calls for e in self.endpoints)

    @property
    def unique_owners(self) -> int:
        return len(self.owners)
