"""The daily tally: the previous UTC day's series of every connected account's Posts, stored;
and each hashtag campaign's new matches (bot.channels.hashtags).

    run_tally ─ group connected accounts by workspace
              ─ per workspace: the accounts' timelines (X) + the Posts the store knows they wrote
              ─ one DAY query over the day (the service saves it to the `daily` table)

Leaderboards and digests over 7/28/90 days then read the store, not the API. Running it twice
changes nothing: the store upserts daily rows and rewrites only values that differ. Then it
applies the store's retention policy (bot/store/retention.py, docs/retention.md), so the store
stops growing: once a day, a slice of Posts per transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.channels.deps import Deps
from bot.channels.hashtags import Followed, follow_all
from bot.copy.campaigns import tally_hashtags
from bot.copy.operator import tally_summary, utc_day_not_over
from bot.copy.store_report import prune_summary
from bot.engagement.models import DEFAULT_SERIES
from bot.engagement.query import TRANSIENT, EngagementQuery, Granularity
from bot.errors import EngagementAPIError, StoreError
from bot.store.retention import PruneCounts
from bot.store.rows import Account

log = logging.getLogger(__name__)

# Posts created more than this before the tallied day are left out: X serves an owner's
# impressions for 90 days, and a 90-day leaderboard needs nothing older.
TALLY_LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class WorkspaceTally:
    """One workspace's part: `workspace` None holds the accounts linked for every workspace."""

    workspace: str | None
    accounts: int
    posts: int
    calls: int
    failed: int = 0  # Posts X gave no numbers for this time (the next tally asks again)
    error: str | None = None  # the query failed outright: nothing stored for this workspace


@dataclass(frozen=True)
class TallyOutcome:
    day: date
    workspaces: tuple[WorkspaceTally, ...]
    # Each hashtag campaign's search for new Posts (bot.channels.hashtags.follow_all).
    hashtags: tuple[Followed, ...] = ()
    pruned: PruneCounts | None = None  # None: the prune failed (logged); tomorrow's tries again

    @property
    def posts(self) -> int:
        return sum(w.posts for w in self.workspaces)

    @property
    def calls(self) -> int:
        return sum(w.calls for w in self.workspaces)

    @property
    def failed(self) -> int:
        return sum(w.failed for w in self.workspaces)

    @property
    def ok(self) -> bool:
        return all(w.error is None and not w.failed for w in self.workspaces)

    def describe(self) -> str:
        errors = [f"{w.workspace or 'all'}: {w.error}" for w in self.workspaces if w.error]
        parts = [
            tally_summary(
                self.day, len(self.workspaces), self.posts, self.calls, self.failed, errors
            )
        ]
        if self.hashtags:
            added = sum(f.added for f in self.hashtags)
            stopped = sum(1 for f in self.hashtags if f.problem is not None)
            parts.append(tally_hashtags(len(self.hashtags), added, stopped))
        if self.pruned is not None:
            parts.append(prune_summary(**asdict(self.pruned)))
        return "; ".join(parts)


def previous_utc_day(now: datetime) -> date:
    return now.astimezone(UTC).date() - timedelta(days=1)


def utc_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), UTC)
    return start, start + timedelta(days=1)


def run_tally(*, now: datetime, deps: Deps, day: date | None = None) -> TallyOutcome:
    """Store `day`'s (None: the previous UTC day's) daily series of the connected accounts'
    Posts: one DAY query per workspace. ValueError if the day is not over at `now`."""
    day = day or previous_utc_day(now)
    start, end = utc_day_bounds(day)
    if end > now:
        raise ValueError(utc_day_not_over(day))
    groups = accounts_by_workspace(deps.store.accounts.listed())
    parts = tuple(
        _tally_workspace(workspace, accounts, start, end, now=now, deps=deps)
        for workspace, accounts in groups.items()
    )
    # Hashtag campaigns grow by the matches X's recent search found since the last tally.
    followed = tuple(follow_all(deps, now=now))
    return TallyOutcome(day, parts, followed, prune_store(now=now, deps=deps))


def prune_store(*, now: datetime, deps: Deps) -> PruneCounts | None:
    """The retention policy applied after the tally; None (logged) if the store failed."""
    try:
        return deps.store.housekeeping.prune(now=now, policy=deps.settings.retention)
    except StoreError as error:  # the tally is stored; the next one prunes what this left
        log.warning("prune after the tally failed: %s", error)
        return None


def accounts_by_workspace(accounts: Iterable[Account]) -> dict[str | None, list[Account]]:
    """Accounts by the workspace that linked them; each account is in exactly one group."""
    groups: dict[str | None, list[Account]] = {}
    for account in accounts:
        groups.setdefault(account.workspace, []).append(account)
    return groups


def tally_posts(
    accounts: list[Account], start: datetime, end: datetime, *, deps: Deps
) -> list[str]:
    """The accounts' Posts created in [start − TALLY_LOOKBACK, end): their timelines (which
    the service remembers, author included) plus the ones the store already knew."""
    since = start - TALLY_LOOKBACK
    ids: list[str] = []
    for account in accounts:
        try:
            # Read as the account itself: a protected account's timeline is refused to others.
            ids.extend(deps.service.recent_posts(account.user_id, since=since, as_owner=True))
        except EngagementAPIError as error:  # the Posts already known still get tallied
            log.warning("timeline of %s not read: %s", account.handle, error)
    user_ids = [a.user_id for a in accounts]
    ids.extend(deps.store.posts.by_authors(user_ids, created_before=end, created_after=since))
    infos = deps.store.posts.infos(ids)
    return [i for i in dict.fromkeys(ids) if (c := infos[i].created_at) is None or c < end]


def _tally_workspace(
    workspace: str | None,
    accounts: list[Account],
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    deps: Deps,
) -> WorkspaceTally:
    ids = tally_posts(accounts, start, end, deps=deps)
    if not ids:
        return WorkspaceTally(workspace, len(accounts), 0, 0)
    query = EngagementQuery(tuple(ids), DEFAULT_SERIES, Granularity.DAY, start, end)
    try:
        report = deps.service.report(query, now=now, workspace=workspace, fresh=True)
    except EngagementAPIError as error:
        log.warning("tally for workspace %s failed: %s", workspace or "(all)", error)
        return WorkspaceTally(workspace, len(accounts), len(ids), 0, error=str(error))
    failed = {post for (post, _), why in report.missing.items() if why in TRANSIENT}
    return WorkspaceTally(workspace, len(accounts), len(ids), report.calls_made, len(failed))
