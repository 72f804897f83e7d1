"""What the engagement service needs of the store; bot.store.Store is one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

from bot.engagement.models import UserAuth
from bot.engagement.query import PostInfo
from bot.engagement.records import PostRecord, SeriesRow, TotalsRow


class Connected(Protocol):
    """A connected account as the store describes it."""

    @property
    def user_id(self) -> str: ...


class KnowledgeStore(Protocol):
    """What the service needs of the store; bot.store.Store is one."""

    def connected_user_ids(self, workspace: str | None = None) -> frozenset[str]: ...
    def find_account(self, user_id_or_handle: str) -> Connected | None: ...
    def account_auth(self, user_id: str) -> UserAuth | None: ...
    def post_infos(self, post_ids: Iterable[str]) -> dict[str, PostInfo]: ...
    def unknown_authors(self, post_ids: Iterable[str]) -> list[str]: ...
    def save_posts(self, records: Iterable[PostRecord]) -> None: ...
    def mark_posts(self, post_ids: Iterable[str], *, state: str, now: datetime) -> None: ...
    def post_states(self, post_ids: Iterable[str]) -> Mapping[str, str]: ...
    def mark_not_owned_by(self, post_ids: Iterable[str], owner_id: str) -> None: ...
    def refused_owners(self, post_ids: Iterable[str]) -> Mapping[str, frozenset[str]]: ...
    def save_totals(self, rows: Iterable[TotalsRow], *, taken_at: datetime) -> int: ...
    def save_hourly(
        self, rows: Iterable[SeriesRow], *, fetched_at: datetime | None = None
    ) -> int: ...
    def save_daily(
        self, rows: Iterable[SeriesRow], *, fetched_at: datetime | None = None
    ) -> int: ...
    def note_hourly_spans(
        self, keys: Iterable[tuple[str, str]], *, start: datetime, end: datetime
    ) -> None: ...
    def hourly_spans(
        self, post_ids: Iterable[str], metrics: Iterable[str]
    ) -> dict[str, dict[str, tuple[datetime, datetime]]]: ...
    def hourly(
        self, post_ids: Iterable[str], metrics: Iterable[str], start: datetime, end: datetime
    ) -> dict[str, dict[str, dict[datetime, int]]]: ...
    def last_refreshed(self, post_ids: Iterable[str], granularity: str) -> dict[str, datetime]: ...
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
    ) -> dict[str, dict[str, tuple[int, datetime]]]: ...
    def totals_before(
        self, post_id: str, metric: str, when: datetime
    ) -> tuple[int, datetime] | None: ...
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
    def transaction(self) -> AbstractContextManager[None]: ...
