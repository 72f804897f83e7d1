"""What the engagement service needs of the store, one small protocol per repository;
bot.store.Store is one (`store.accounts`, `store.posts`, `store.series`, `store.usage`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

from bot.engagement.models import UserAuth
from bot.engagement.query import PostInfo
from bot.engagement.records import Board, PostRecord, PostSet, SeriesRow, TotalsRow


class Connected(Protocol):
    """A connected account as the store describes it."""

    @property
    def user_id(self) -> str: ...


class KnownAccounts(Protocol):
    """The connected accounts: who may be asked as an owner, and with which tokens."""

    def connected_ids(self, workspace: str | None = None) -> frozenset[str]: ...
    def find(self, user_id_or_handle: str) -> Connected | None: ...
    def auth(self, user_id: str) -> UserAuth | None: ...


class KnownPosts(Protocol):
    """Who wrote each Post, whether X still serves it, and which owners X refused for it."""

    def infos(self, post_ids: Iterable[str]) -> Mapping[str, PostInfo]: ...
    def unknown_authors(self, post_ids: Iterable[str] | PostSet) -> list[str]: ...
    def unknown_ownership(self, post_ids: Iterable[str], owners: Iterable[str]) -> list[str]: ...
    def save(self, records: Iterable[PostRecord]) -> None: ...
    def mark(self, post_ids: Iterable[str], *, state: str, now: datetime) -> None: ...
    def states(self, post_ids: Iterable[str]) -> Mapping[str, str]: ...
    def mark_not_owned_by(self, post_ids: Iterable[str], owner_id: str) -> None: ...
    def refused_owners(self, post_ids: Iterable[str]) -> Mapping[str, frozenset[str]]: ...


class KnownSeries(Protocol):
    """The measurements kept, and which settled hours are stored whole."""

    def save_totals(self, rows: Iterable[TotalsRow], *, taken_at: datetime) -> int: ...
    def save_readings(
        self, readings: Mapping[str, Mapping[str, int]], *, taken_at: datetime
    ) -> int: ...
    def save_hourly(
        self, rows: Iterable[SeriesRow], *, fetched_at: datetime | None = None
    ) -> int: ...
    def save_hourly_series(
        self,
        series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]],
        *,
        fetched_at: datetime | None = None,
    ) -> int: ...
    def save_daily(
        self, rows: Iterable[SeriesRow], *, fetched_at: datetime | None = None
    ) -> int: ...
    def save_daily_series(
        self,
        series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]],
        *,
        fetched_at: datetime,
    ) -> int: ...
    def note_hourly_spans(
        self, keys: Iterable[tuple[str, str]], *, start: datetime, end: datetime
    ) -> None: ...
    def hourly_spans(
        self, post_ids: Iterable[str], metrics: Iterable[str]
    ) -> Mapping[str, Mapping[str, tuple[datetime, datetime]]]: ...
    def hourly(
        self, post_ids: Iterable[str], metrics: Iterable[str], start: datetime, end: datetime
    ) -> Mapping[str, Mapping[str, Mapping[datetime, int]]]: ...
    def last_refreshed(
        self, post_ids: Iterable[str], granularity: str
    ) -> Mapping[str, datetime]: ...
    def leaderboard(
        self,
        metric: str,
        *,
        since: date,
        until: date,
        post_ids: Iterable[str] | None = None,
        limit: int = 10,
    ) -> list[tuple[str, int]]: ...
    def latest_totals(
        self, post_ids: Iterable[str], metrics: Iterable[str]
    ) -> Mapping[str, Mapping[str, tuple[int, datetime]]]: ...
    def totals_before(
        self, post_id: str, metric: str, when: datetime
    ) -> tuple[int, datetime] | None: ...
    def board(
        self,
        post_ids: Iterable[str] | PostSet,
        metric: str,
        *,
        owners: Iterable[str],
        since: datetime,
        until: date,
        limit: int,
        public: bool,
        stale_before: datetime | None = None,
    ) -> Board: ...


class CallLog(Protocol):
    """The log of the calls made to X (what a month's usage is counted from)."""

    def log_call(
        self,
        *,
        at: datetime,
        endpoint: str,
        owner_id: str | None,
        post_count: int,
        status: int,
        attempts: int = 1,
        workspace: str | None = None,
    ) -> None: ...


class KnowledgeStore(Protocol):
    """The repositories the service reads and writes, and one transaction across them."""

    @property
    def accounts(self) -> KnownAccounts: ...
    @property
    def posts(self) -> KnownPosts: ...
    @property
    def series(self) -> KnownSeries: ...
    @property
    def usage(self) -> CallLog: ...
    def transaction(self) -> AbstractContextManager[None]: ...
