"""EngagementService: the one place slash commands, jobs and the CLI ask for numbers.

For a query it learns who wrote each Post (the store first, then one v2 lookup per 100 unknown
IDs), plans the fewest calls (planner), runs them (executor), merges the answers (aggregate),
replans the Posts a 403 said are not owned, saves what it learned and measured in one
transaction, and keeps a short cache so the same question asked twice costs nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from collections.abc import Set as AbstractSet
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.engagement.aggregate import aggregate, blank_unborn
from bot.engagement.client import PostDirectory
from bot.engagement.executor import Execution, Executor
from bot.engagement.models import APP_ONLY, DEFAULT_TOTALS, LIMITS, PUBLIC_METRICS, UserAuth
from bot.engagement.planner import plan, series_refusal
from bot.engagement.post_refs import parse_post_ref
from bot.engagement.query import (
    TRANSIENT,
    AccountPosts,
    AccountProblem,
    EngagementQuery,
    Granularity,
    Plan,
    PostInfo,
    Reason,
    Report,
)
from bot.engagement.records import PostRecord, SeriesRow, TotalsRow
from bot.engagement.settled import reach, settled_until, split
from bot.engagement.windows import hour_buckets, series_range
from bot.errors import AuthError, EngagementAPIError, Forbidden, TimedOut

log = logging.getLogger(__name__)

LOOKUP_BATCH = 100
PERIODS: Mapping[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "28d": timedelta(days=28),
    "90d": timedelta(days=90),
}


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


@dataclass(frozen=True)
class Ranked:
    """One leaderboard row: `value` over the period; `source` says where it came from."""

    post_id: str
    value: int
    source: str  # "daily" (owned: X's daily series) or "snapshots" (difference of totals)


CacheKey = tuple[EngagementQuery, str | None, frozenset[str]]


class EngagementService:
    """Plans, fetches, merges and remembers engagement numbers; see the module docstring."""

    def __init__(
        self,
        *,
        executor: Executor,
        directory: PostDirectory,
        store: KnowledgeStore,
        monotonic: Callable[[], float],
        cache_seconds: float = 60.0,
        stale_after: timedelta = timedelta(minutes=15),
    ) -> None:
        self._executor = executor
        self._directory = directory
        self._store = store
        self._monotonic = monotonic
        self._cache_seconds = cache_seconds
        self._stale_after = stale_after
        self._cache: dict[CacheKey, tuple[float, Report]] = {}
        self._cache_lock = threading.Lock()
        # X's clock minus ours, learnt from reply Date headers (1 s resolution is plenty).
        self._offset = timedelta(0)
        self._offset_used = timedelta(0)

    # -- asking ----------------------------------------------------------------------------

    def report(
        self,
        query: EngagementQuery,
        *,
        now: datetime,
        handles: Mapping[str, str] | None = None,
        fresh: bool = False,
        workspace: str | None = None,
    ) -> Report:
        """The numbers for a query. `handles` maps Post IDs to the author handle a URL named
        (saves a lookup when it is a connected account); `fresh` skips the cache."""
        query = replace(query, post_ids=tuple(dict.fromkeys(query.post_ids)))
        # Whose tokens may be used is part of the key: connecting or disconnecting an account
        # changes the answer at once, not when the cached one ages out.
        key = (query, workspace, self._store.connected_user_ids(workspace))
        if not fresh and (cached := self._cached(key)) is not None:
            return cached
        self.learn_authors(query.post_ids, now=now, handles=handles or {})
        now = self.x_now(now)
        if fresh or query.granularity is not Granularity.HOUR:
            report = replace(self._fetch(query, now=now, workspace=workspace), query=query)
        else:
            report = self._hourly(query, now=now, workspace=workspace)
        report = blank_unborn(self._explain_states(report))
        # A failure, a timeout, or an author X would not name just now is worth asking again.
        if not TRANSIENT & set(report.missing.values()):
            with self._cache_lock:
                self._cache[key] = (self._monotonic(), report)
        return report

    def _fetch(self, query: EngagementQuery, *, now: datetime, workspace: str | None) -> Report:
        """Plan, call X, merge, replan what a 403 said is not owned, and remember it all."""
        first_plan = self.plan(query, now=now, workspace=workspace)
        execution = self._executor.run(first_plan.calls)
        if self._learn_clock(execution, now):
            # X's clock is behind ours and refused a window ending "in the future": plan
            # again on X's clock (once; the offset is now known for every later query).
            now = self.x_now(now - self._offset_used)
            first_plan = self.plan(query, now=now, workspace=workspace)
            execution = self._executor.run(first_plan.calls)
        report = self._aggregate(first_plan, execution, now)
        if execution.not_owned:
            # A 403 proved our idea of authorship wrong: forget it and ask again as unowned.
            self._forget_owners(execution)
            retry_query = replace(query, post_ids=execution.not_owned)
            retry_plan = self.plan(retry_query, now=now, workspace=workspace)
            retry = self._executor.run(retry_plan.calls)
            report = merge(report, self._aggregate(retry_plan, retry, now))
            execution = Execution(execution.outcomes + retry.outcomes, execution.requests_sent)
        self._remember(query, report, execution, now, workspace)
        return report

    def _explain_states(self, report: Report) -> Report:
        """A Post X said is deleted or protected was never shown its author: "not owned" would
        send the user to `/engagement connect` for nothing (X serves no numbers of a protected
        Post, even to its author), so its gaps say it is gone or protected."""
        known = {
            post: _STATE_REASONS[state]
            for post, state in self._store.post_states(report.query.post_ids).items()
            if state in _STATE_REASONS
        }
        if not known:
            return report

        def reread(post: str, reason: Reason | None) -> Reason | None:
            return known.get(post, reason) if reason is Reason.NOT_OWNED else reason

        missing = {key: reread(key[0], reason) or reason for key, reason in report.missing.items()}
        totals = {
            post: {m: replace(v, reason=reread(post, v.reason)) for m, v in values.items()}
            for post, values in report.totals.items()
        }
        return replace(report, missing=missing, totals=totals)

    def _hourly(self, query: EngagementQuery, *, now: datetime, workspace: str | None) -> Report:
        """An hourly question: settled hours from the store, only the rest from X (see
        bot/engagement/settled.py), merged in the query's order."""
        known = self._reaches(query, now=now, workspace=workspace)
        if known is None:
            return replace(self._fetch(query, now=now, workspace=workspace), query=query)
        start, end, reaches = known
        parts = split(reaches, query.post_ids, start, end)
        resume, fetch = dict(parts.resume), list(parts.fetch)
        whole = frozenset(parts.stored)
        if resume and not self._resuming_is_cheaper(query, resume, now=now, workspace=workspace):
            fetch = [p for p in query.post_ids if p not in whole]
            resume = {}
        until = {post: at for at, posts in resume.items() for post in posts}
        stored_ids = [*parts.stored, *until]
        stored = self._store.hourly(stored_ids, query.metrics, start, end) if stored_ids else {}
        fetched = [
            self._fetch(replace(query, post_ids=posts, start=at), now=now, workspace=workspace)
            for at, posts in resume.items()
        ]
        if fetch:
            rest = replace(query, post_ids=tuple(fetch))
            fetched.append(self._fetch(rest, now=now, workspace=workspace))
        hours = hour_buckets(start, end)
        return _combine(query, fetched, stored, whole, until, hours, now=now)

    def _reaches(
        self, query: EngagementQuery, *, now: datetime, workspace: str | None
    ) -> tuple[datetime, datetime, dict[str, datetime]] | None:
        """The query's hour range and, for each Post this workspace owns, how far into it the
        store's settled hours reach; None when the range is not one (the planner says why)."""
        try:
            start, end = series_range(
                query.granularity, query.start, query.end, now=now, limits=LIMITS
            )
        except ValueError:
            return None
        owners = self._store.connected_user_ids(workspace)
        infos = self._store.post_infos(query.post_ids)
        servable = [
            post_id
            for post_id in query.post_ids
            if (info := infos.get(post_id)) is not None
            and info.author_id in owners
            and all(series_refusal(info, m, owned=True, now=now) is None for m in query.metrics)
        ]
        spans = self._store.hourly_spans(servable, query.metrics) if servable else {}
        return start, end, {p: reach(spans.get(p, {}), query.metrics, start, end) for p in servable}

    def _resuming_is_cheaper(
        self,
        query: EngagementQuery,
        resume: Mapping[datetime, tuple[str, ...]],
        *,
        now: datetime,
        workspace: str | None,
    ) -> bool:
        """Whether asking X for each group's missing tail takes no more calls than asking for
        those Posts' whole range (groups resuming at different hours batch separately)."""
        tails = sum(
            len(
                self.plan(
                    replace(query, post_ids=posts, start=at), now=now, workspace=workspace
                ).calls
            )
            for at, posts in resume.items()
        )
        everyone = tuple(p for posts in resume.values() for p in posts)
        whole = self.plan(replace(query, post_ids=everyone), now=now, workspace=workspace)
        return tails <= len(whole.calls)

    def x_now(self, now: datetime) -> datetime:
        """`now` on X's clock, as far as the Date headers of its replies have told us.

        Windows are planned up to X's current hour; a client whose clock runs ahead of X's
        (or a simulator whose clock is set) would otherwise ask for an hour X has not reached.
        """
        with self._cache_lock:
            self._offset_used = self._offset
        return now + self._offset

    def _learn_clock(self, execution: Execution, now: datetime) -> bool:
        """Learn X's clock offset from this run's replies; True if a window was refused for
        ending in the future (the run should be planned again on X's clock)."""
        refused = False
        for outcome in execution.outcomes:
            source = outcome.result or outcome.error
            info = source.rate_limit if source is not None else None
            if info is not None and info.date is not None:
                with self._cache_lock:
                    self._offset = self._offset_used + (info.date - now)
            if outcome.error is not None and "in the future" in str(outcome.error):
                refused = True
        return refused and self._offset != self._offset_used

    def plan(self, query: EngagementQuery, *, now: datetime, workspace: str | None = None) -> Plan:
        """The calls a query needs given what the store knows now; makes no call."""
        infos = self._store.post_infos(query.post_ids)
        owners = self._store.connected_user_ids(workspace)
        unknown = self._authors_unknown(infos, owners)
        return plan(query, posts=infos, owners=owners, now=now, unknown_authors=unknown)

    def authors_unknown(self, post_ids: Iterable[str], *, workspace: str | None) -> list[str]:
        """The Posts whose author X would not name when last asked (its lookup was rate
        limited or failed), while this workspace has connected accounts: whether they are
        owned is unknown, so they are neither ranked nor called "not owned" until asked again."""
        ids = list(dict.fromkeys(post_ids))
        infos = self._store.post_infos(ids)
        unknown = self._authors_unknown(infos, self._store.connected_user_ids(workspace))
        return [i for i in ids if i in unknown]

    def _authors_unknown(
        self, infos: Mapping[str, PostInfo], owners: AbstractSet[str]
    ) -> frozenset[str]:
        if not owners:
            return frozenset()  # nobody connected here: no Post can be owned, whoever wrote it
        nameless = [p for p, info in infos.items() if info.author_id is None]
        if not nameless:
            return frozenset()
        # A lookup that found a Post deleted or protected did answer, and a 403 proved a Post
        # not its connected author's: those are known, with their own reasons.
        states = self._store.post_states(nameless)
        refused = self._store.refused_owners(nameless)
        return frozenset(p for p in nameless if states.get(p) == "ok" and p not in refused)

    def unknown_authors(self, post_ids: Iterable[str]) -> list[str]:
        """Posts whose author a query would look up first (none when nobody is connected)."""
        if not self._store.connected_user_ids():
            return []
        return self._store.unknown_authors(post_ids)

    def totals(self, post_ids: Iterable[str], metrics: Iterable[str], *, now: datetime) -> Report:
        return self.report(EngagementQuery(tuple(post_ids), tuple(metrics)), now=now)

    def refresh(self, post_ids: Iterable[str], *, now: datetime) -> Report:
        """Every /totals metric of these Posts, fetched now and saved as a snapshot."""
        query = EngagementQuery(tuple(post_ids), DEFAULT_TOTALS)
        return self.report(query, now=now, fresh=True)

    def series(
        self,
        post_ids: Iterable[str],
        metrics: Iterable[str],
        granularity: Granularity,
        *,
        now: datetime,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> Report:
        query = EngagementQuery(tuple(post_ids), tuple(metrics), granularity, start, end)
        return self.report(query, now=now)

    # -- authors ---------------------------------------------------------------------------

    def learn_authors(
        self, post_ids: Iterable[str], *, now: datetime, handles: Mapping[str, str]
    ) -> int:
        """Make sure the store knows who wrote each Post, when it can matter; returns how many
        v2 lookup calls that took.

        Ownership only matters when some account is connected, so with none nobody is looked
        up. A URL's handle that is a connected account settles it without a call.
        """
        ids = list(post_ids)
        if not self._store.connected_user_ids():
            return 0
        unknown = self._store.unknown_authors(ids)
        named: list[PostRecord] = []
        for post_id in list(unknown):
            handle = handles.get(post_id)
            account = self._store.find_account(handle) if handle else None
            if account is not None:
                named.append(PostRecord(post_id, account.user_id, None))
                unknown.remove(post_id)
        if named:
            self._store.save_posts(named)
        for start in range(0, len(unknown), LOOKUP_BATCH):
            self._lookup(unknown[start : start + LOOKUP_BATCH], now)
        return -(-len(unknown) // LOOKUP_BATCH)

    def account_problem(self, handle: str, *, workspace: str | None) -> AccountProblem | None:
        """Why this workspace could not read the account's Posts (None: it can). Raises
        EngagementAPIError when X does not answer."""
        return self._account(handle, workspace)[2]

    def account_posts(self, handle: str, *, since: datetime, workspace: str | None) -> AccountPosts:
        """The account's Posts created since `since`, or why there are none to show: one
        protected, suspended or vanished account (or X failing on it) must not stop a
        channel's leaderboard, digest or alert pass, so nothing is raised for it."""
        try:
            user_id, as_owner, problem = self._account(handle, workspace)
            if problem is not None or user_id is None:
                return AccountPosts(handle, problem=problem or AccountProblem.NOT_FOUND)
            ids = self.recent_posts(user_id, since=since, as_owner=as_owner)
        except (Forbidden, AuthError) as error:
            # X refused its timeline: it turned protected (or its owner's token is gone).
            log.info("timeline of @%s refused: %s", handle, error)
            refused = AccountProblem.PROTECTED if isinstance(error, Forbidden) else None
            return AccountPosts(handle, problem=refused or AccountProblem.X_FAILING)
        except EngagementAPIError as error:
            log.warning("timeline of @%s not read: %s", handle, error)
            return AccountPosts(handle, problem=AccountProblem.X_FAILING)
        return AccountPosts(handle, tuple(ids))

    def _account(
        self, handle: str, workspace: str | None
    ) -> tuple[str | None, bool, AccountProblem | None]:
        """(user ID, whether this workspace reads it with the account's own token, problem).
        A workspace's own connected account is read as itself, protected or not; any other
        account only as far as X shows it to everyone."""
        account = self._store.find_account(handle)
        if account is not None and account.user_id in self._store.connected_user_ids(workspace):
            return account.user_id, True, None
        found = self._directory.user_by_username(handle.lstrip("@"))
        if found.user is None:
            missing = AccountProblem.SUSPENDED if found.suspended else AccountProblem.NOT_FOUND
            return None, False, missing
        if found.user.protected:
            return found.user.id, False, AccountProblem.PROTECTED
        return found.user.id, False, None

    def recent_posts(self, user_id: str, *, since: datetime, as_owner: bool = False) -> list[str]:
        """An account's Posts created since `since`, newest first, learnt from its timeline
        (at most 3 pages of 100) and remembered with their author. `as_owner` reads it with
        the connected account's own token (a protected account's Posts need it)."""
        ids: list[str] = []
        token: str | None = None
        auth = (self._store.account_auth(user_id) if as_owner else None) or APP_ONLY
        for _ in range(3):
            page = self._directory.user_posts(
                user_id, max_results=100, pagination_token=token, auth=auth
            )
            records = [
                PostRecord(p.id, p.author_id or user_id, p.created_at, p.text, p.author_username)
                for p in page.posts
            ]
            self._store.save_posts(records)
            fresh = [p.id for p in page.posts if p.created_at is None or p.created_at >= since]
            ids.extend(fresh)
            if len(fresh) < len(page.posts) or page.next_token is None:
                break
            token = page.next_token
        return ids

    def _lookup(self, post_ids: list[str], now: datetime) -> None:
        try:
            found = self._directory.lookup_posts(post_ids)
        except EngagementAPIError as error:
            # Their authors stay unknown: public totals still come back, what needs the owner
            # says "author unknown" (never "not owned"), and the next query looks them up again.
            log.warning("Post lookup failed for %d Posts: %s", len(post_ids), error)
            return
        self._store.save_posts(
            PostRecord(p.id, p.author_id, p.created_at, p.text, p.author_username)
            for p in found.posts
        )
        for state, title in (("deleted", "Not Found Error"), ("protected", "Authorization Error")):
            ids = [i for i, why in found.unavailable.items() if why == title]
            if ids:
                self._store.mark_posts(ids, state=state, now=now)

    def _forget_owners(self, execution: Execution) -> None:
        for outcome in execution.outcomes:
            if outcome.not_owned and outcome.call.owner is not None:
                self._store.mark_not_owned_by(outcome.not_owned, outcome.call.owner)

    # -- results ---------------------------------------------------------------------------

    def _aggregate(self, plan_: Plan, execution: Execution, now: datetime) -> Report:
        answered = [(o.call, o.result) for o in execution.outcomes if o.result is not None]
        unresolved = [o for o in execution.outcomes if o.unresolved]
        slow = [replace(o.call, post_ids=o.unresolved) for o in unresolved if _slow(o.error)]
        failed = [replace(o.call, post_ids=o.unresolved) for o in unresolved if not _slow(o.error)]
        return aggregate(
            plan_,
            answered,
            failed=failed,
            timed_out=slow,
            not_owned=frozenset(execution.not_owned),
            protected=frozenset(execution.protected),
            now=now,
        )

    def _remember(
        self,
        query: EngagementQuery,
        report: Report,
        execution: Execution,
        now: datetime,
        workspace: str | None,
    ) -> None:
        """Save measurements, Post states and the call log (each call under the workspace it
        was made for) together, or not at all."""
        with self._store.transaction():
            if query.granularity is Granularity.TOTAL:
                rows = [
                    TotalsRow(post, metric, value.count)
                    for post, values in report.totals.items()
                    for metric, value in values.items()
                    if value.count is not None
                ]
                self._store.save_totals(rows, taken_at=now)
            else:
                series = [
                    SeriesRow(post, metric, bucket, count)
                    for post, metrics in report.series.items()
                    for metric, buckets in metrics.items()
                    for bucket, count in buckets.items()
                    if count is not None
                ]
                save = (
                    self._store.save_hourly
                    if query.granularity is Granularity.HOUR
                    else self._store.save_daily
                )
                save(series, fetched_at=now)
                if query.granularity is Granularity.HOUR:
                    self._note_settled(query, report, now)
            self._mark_states(report, execution, now)
            for outcome in execution.outcomes:
                status = _status_of(outcome.result is not None, outcome.error)
                self._store.log_call(
                    at=now,
                    endpoint=outcome.call.endpoint.value,
                    owner_id=outcome.call.owner,
                    post_count=len(outcome.call.post_ids),
                    status=status,
                    attempts=outcome.attempts,
                    workspace=workspace,
                )

    def _note_settled(self, query: EngagementQuery, report: Report, now: datetime) -> None:
        """Remember which settled hours this report stored completely, per (Post, metric)."""
        start, end = series_range(query.granularity, query.start, query.end, now=now, limits=LIMITS)
        end = min(end, settled_until(now))
        hours = hour_buckets(start, end)
        if not hours:
            return
        complete = [
            (post, metric)
            for post, metrics in report.series.items()
            for metric, buckets in metrics.items()
            if (post, metric) not in report.missing
            and all(buckets.get(h) is not None for h in hours)
        ]
        self._store.note_hourly_spans(complete, start=start, end=end)

    def _mark_states(self, report: Report, execution: Execution, now: datetime) -> None:
        gone = sorted({p for (p, _), r in report.missing.items() if r is Reason.UNAVAILABLE})
        if gone:
            self._store.mark_posts(gone, state="deleted", now=now)
        if execution.protected:
            self._store.mark_posts(execution.protected, state="protected", now=now)

    def _cached(self, key: CacheKey) -> Report | None:
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is None:
                return None
            at, report = hit
            if self._monotonic() - at > self._cache_seconds:
                del self._cache[key]
                return None
            return report

    # -- leaderboards ----------------------------------------------------------------------

    def leaderboard(
        self,
        post_ids: Iterable[str],
        metric: str,
        *,
        period: str,
        limit: int,
        now: datetime,
        workspace: str | None = None,
    ) -> list[Ranked]:
        """The top `limit` Posts by `metric` over the last 24h/7d/28d/90d.

        Owned Posts rank by X's daily series, kept in the store and refreshed first when
        stale; others by the difference of their totals snapshots across the period.
        """
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}")
        ids = list(dict.fromkeys(post_ids))
        since = now - PERIODS[period]
        self.learn_authors(ids, now=now, handles={})
        infos = self._store.post_infos(ids)
        owners = self._store.connected_user_ids(workspace)
        owned = [i for i in ids if infos[i].author_id in owners]
        # Ranking a Post of unknown authorship by public snapshots would pass it off as
        # someone else's: it sits this board out (the caller says so) and is asked again next.
        unknown = self._authors_unknown(infos, owners)
        others = [i for i in ids if i not in set(owned) and i not in unknown]
        ranked = self._rank_owned(owned, metric, since, now, workspace) + self._rank_others(
            others, metric, since, now, workspace
        )
        ranked.sort(key=lambda r: (-r.value, int(r.post_id)))
        return ranked[:limit]

    def _rank_owned(
        self, ids: list[str], metric: str, since: datetime, now: datetime, workspace: str | None
    ) -> list[Ranked]:
        if not ids:
            return []
        refreshed = self._store.last_refreshed(ids, Granularity.DAY.value)
        stale = [
            i for i in ids if now - refreshed.get(i, since - timedelta(days=1)) > self._stale_after
        ]
        if stale:
            query = EngagementQuery(tuple(stale), (metric,), Granularity.DAY, since, now)
            self.report(query, now=now, workspace=workspace)
        first_day = since.date()
        rows = self._store.leaderboard(
            metric,
            since=first_day,
            until=now.date() + timedelta(days=1),
            post_ids=ids,
            limit=len(ids),
        )
        return [Ranked(post_id, value, "daily") for post_id, value in rows]

    def _rank_others(
        self, ids: list[str], metric: str, since: datetime, now: datetime, workspace: str | None
    ) -> list[Ranked]:
        # Snapshots are shared by every workspace: only public numbers may be read across.
        if not ids or metric not in PUBLIC_METRICS:
            return []
        latest = self._store.latest_totals(ids, [metric])
        stale = [
            i
            for i in ids
            if metric not in latest.get(i, {}) or now - latest[i][metric][1] > self._stale_after
        ]
        if stale:
            self.report(EngagementQuery(tuple(stale), (metric,)), now=now, workspace=workspace)
            latest = self._store.latest_totals(ids, [metric])
        infos = self._store.post_infos(ids)
        ranked = []
        for post_id in ids:
            if metric not in latest.get(post_id, {}):
                continue
            value = latest[post_id][metric][0]
            created = infos[post_id].created_at
            if created is None or created < since:
                before = self._store.totals_before(post_id, metric, since)
                if before is None:
                    continue  # no reading from the period's start: the difference is unknown
                value -= before[0]
            ranked.append(Ranked(post_id, max(value, 0), "snapshots"))
        return ranked


_STATE_REASONS: Mapping[str, Reason] = {
    "deleted": Reason.UNAVAILABLE,
    "protected": Reason.PROTECTED,
}


def _slow(error: EngagementAPIError | None) -> bool:
    return isinstance(error, TimedOut)


def _status_of(answered: bool, error: EngagementAPIError | None) -> int:
    if answered:
        return 200
    return error.status if error is not None else 0


def _combine(
    query: EngagementQuery,
    fetched: Iterable[Report],
    stored: Mapping[str, Mapping[str, Mapping[datetime, int]]],
    whole: AbstractSet[str],
    until: Mapping[str, datetime],
    hours: list[datetime],
    *,
    now: datetime,
) -> Report:
    """One hourly Report from X's answers and the store: a Post in `whole` comes from the
    store; one in `until` from the store before that hour and from X after it (a metric X
    failed to give stays missing, not half filled); the rest from X."""
    series: dict[str, dict[str, dict[datetime | date, int | None]]] = {}
    missing: dict[tuple[str, str], Reason] = {}
    answered: dict[str, Mapping[str, Mapping[datetime | date, int | None]]] = {}
    calls = 0
    for report in fetched:
        answered.update(report.series)
        missing.update(report.missing)
        calls += report.calls_made
    for post in query.post_ids:
        kept = stored.get(post, {})
        if post in whole:
            series[post] = {m: {h: kept.get(m, {}).get(h, 0) for h in hours} for m in query.metrics}
        elif post in until:
            tail = answered.get(post, {})
            joined = {
                metric: {
                    **{h: kept.get(metric, {}).get(h, 0) for h in hours if h < until[post]},
                    **tail[metric],
                }
                for metric in query.metrics
                if metric in tail and (post, metric) not in missing
            }
            if joined:
                series[post] = joined
        elif post in answered:
            series[post] = {m: dict(buckets) for m, buckets in answered[post].items()}
    return Report(query, series=series, missing=missing, calls_made=calls, fetched_at=now)


def merge(first: Report, second: Report) -> Report:
    """`second` (a replan of some Posts) fills in what `first` had to leave missing."""
    totals = {p: dict(v) for p, v in first.totals.items()}
    for post, values in second.totals.items():
        totals.setdefault(post, {}).update(values)
    series = {p: dict(v) for p, v in first.series.items()}
    for post, metrics in second.series.items():
        series.setdefault(post, {}).update(metrics)
    redone = {post for post, _ in second.missing} | set(second.totals) | set(second.series)
    missing = {k: r for k, r in first.missing.items() if k[0] not in redone}
    missing.update(second.missing)
    return replace(
        first,
        totals=totals,
        series=series,
        missing=missing,
        calls_made=first.calls_made + second.calls_made,
    )


def parse_posts(refs: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Post IDs and URLs to canonical IDs plus the handles the URLs named."""
    ids: list[str] = []
    handles: dict[str, str] = {}
    for text in refs:
        ref = parse_post_ref(text)
        ids.append(ref.post_id)
        if ref.handle:
            handles[ref.post_id] = ref.handle
    return list(dict.fromkeys(ids)), handles
