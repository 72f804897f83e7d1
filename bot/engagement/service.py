"""EngagementService: the one place slash commands, jobs and the CLI ask for numbers.

A façade over the parts that do the work: for a query it learns who wrote each Post
(authors.py: the store first, then one v2 lookup per 100 unknown IDs), plans the fewest
calls, runs them, merges the answers and replans the Posts a 403 said are not owned
(fetch.py), saves what it learned and measured in one transaction (persist.py), answers hourly
questions from the settled hours already stored (hourly.py), ranks Posts (leaderboard.py),
keeps a short cache so the same question asked twice costs nothing (answers.py), and finds
the Posts a recent search matches (search.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot.engagement.aggregate import blank_unborn
from bot.engagement.answers import AnswerCache, XClock
from bot.engagement.authors import Authors
from bot.engagement.client import PostDirectory
from bot.engagement.executor import Executor
from bot.engagement.fetch import Fetcher
from bot.engagement.hourly import Hourly
from bot.engagement.knowledge import KnowledgeStore
from bot.engagement.leaderboard import PERIODS, Board, Leaderboards, PostSet, Ranked
from bot.engagement.models import DEFAULT_TOTALS, SearchResult
from bot.engagement.post_refs import parse_post_ref
from bot.engagement.query import (
    TRANSIENT,
    AccountPosts,
    AccountProblem,
    EngagementQuery,
    Granularity,
    Plan,
    Report,
)
from bot.engagement.search import Searcher
from bot.engagement.wire.request import plainly_canonical

__all__ = ["PERIODS", "EngagementService", "Ranked", "SearchResult", "parse_posts"]


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
        self._store = store
        self._cache = AnswerCache(monotonic, cache_seconds)
        self._clock = XClock()
        self._authors = Authors(store=store, directory=directory)
        self._fetcher = Fetcher(
            executor=executor, store=store, authors=self._authors, clock=self._clock
        )
        self._searcher = Searcher(store=store, directory=directory)
        self._hourly = Hourly(store=store, fetcher=self._fetcher)
        self._boards = Leaderboards(
            store=store, authors=self._authors, ask=self._ask, stale_after=stale_after
        )

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
        key = (query, workspace, self._store.accounts.connected_ids(workspace))
        if not fresh and (cached := self._cache.get(key)) is not None:
            return cached
        self._authors.learn(query.post_ids, now=now, handles=handles or {})
        now = self._clock.now(now)
        if fresh or query.granularity is not Granularity.HOUR:
            fetched = self._fetcher.fetch(query, now=now, workspace=workspace)
            report = replace(fetched, query=query)
        else:
            report = self._hourly.answer(query, now=now, workspace=workspace)
        report = blank_unborn(self._fetcher.explain_states(report))
        # A failure, a timeout, or an author X would not name just now is worth asking again.
        if not TRANSIENT & set(report.missing.values()):
            self._cache.put(key, report)
        return report

    def _ask(self, query: EngagementQuery, now: datetime, workspace: str | None) -> Report:
        return self.report(query, now=now, workspace=workspace)

    def refresh(self, post_ids: Iterable[str], *, now: datetime) -> Report:
        """Every /totals metric of these Posts, fetched now and saved as a snapshot."""
        query = EngagementQuery(tuple(post_ids), DEFAULT_TOTALS)
        return self.report(query, now=now, fresh=True)

    def plan(self, query: EngagementQuery, *, now: datetime, workspace: str | None = None) -> Plan:
        """The calls a query needs given what the store knows now; makes no call."""
        return self._fetcher.plan(query, now=now, workspace=workspace)

    def leaderboard(
        self,
        post_ids: Iterable[str] | PostSet,
        metric: str,
        *,
        period: str,
        limit: int,
        now: datetime,
        workspace: str | None = None,
    ) -> list[Ranked]:
        """The top `limit` Posts by `metric` over the last 24h/7d/28d/90d (leaderboard.py)."""
        return list(
            self.standings(
                post_ids, metric, period=period, limit=limit, now=now, workspace=workspace
            ).rows
        )

    def standings(
        self,
        post_ids: Iterable[str] | PostSet,
        metric: str,
        *,
        period: str,
        limit: int,
        now: datetime,
        workspace: str | None = None,
    ) -> Board:
        """`leaderboard`, and the Posts of unknown ownership it left out (`authors_unknown`
        of the same Posts, without a second pass over them)."""
        return self._boards.rank(
            post_ids, metric, period=period, limit=limit, now=now, workspace=workspace
        )

    # -- authors (authors.py) ------------------------------------------------------------------

    def learn_authors(
        self, post_ids: Iterable[str], *, now: datetime, handles: Mapping[str, str]
    ) -> int:
        """Make sure the store knows who wrote each Post, when it can matter; returns how many
        v2 lookup calls that took."""
        return self._authors.learn(post_ids, now=now, handles=handles)

    def authors_unknown(self, post_ids: Iterable[str], *, workspace: str | None) -> list[str]:
        """The Posts whose author X would not name when last asked, while this workspace has
        connected accounts: neither ranked nor called "not owned" until asked again."""
        return self._authors.unknown(post_ids, workspace=workspace)

    def unknown_authors(self, post_ids: Iterable[str]) -> list[str]:
        """Posts whose author a query would look up first (none when nobody is connected)."""
        return self._authors.to_look_up(post_ids)

    def account_problem(self, handle: str, *, workspace: str | None) -> AccountProblem | None:
        """Why this workspace could not read the account's Posts (None: it can). Raises
        EngagementAPIError when X does not answer."""
        return self._authors.account_problem(handle, workspace=workspace)

    def account_posts(self, handle: str, *, since: datetime, workspace: str | None) -> AccountPosts:
        """The account's Posts created since `since`, or why there are none to show."""
        return self._authors.account_posts(handle, since=since, workspace=workspace)

    def recent_posts(self, user_id: str, *, since: datetime, as_owner: bool = False) -> list[str]:
        """An account's Posts created since `since`, newest first, learnt from its timeline."""
        return self._authors.recent_posts(user_id, since=since, as_owner=as_owner)

    def account_posts_between(
        self, handle: str, *, since: datetime, until: datetime, workspace: str | None
    ) -> AccountPosts:
        """The account's Posts created in [since, until), newest first, or why there are none."""
        return self._authors.account_posts_between(
            handle, since=since, until=until, workspace=workspace
        )

    # -- recent search (search.py) -------------------------------------------------------------

    def search_recent(
        self, query: str, *, since_id: str | None = None, now: datetime
    ) -> SearchResult:
        """The last 7 days' Posts matching `query` (X's search operators), newer than
        `since_id`, every page followed, their authors remembered; never raises for X's
        answer: a failed page gives `complete` False and a short `problem`."""
        return self._searcher.search(query, since_id=since_id, now=now)


def parse_posts(refs: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """Post IDs and URLs to canonical IDs plus the handles the URLs named."""
    ids: list[str] = []
    handles: dict[str, str] = {}
    for text in refs:
        if plainly_canonical(text):  # most are bare IDs, as X writes them: nothing to parse
            ids.append(text)
            continue
        ref = parse_post_ref(text)
        ids.append(ref.post_id)
        if ref.handle:
            handles[ref.post_id] = ref.handle
    return list(dict.fromkeys(ids)), handles
