"""Who wrote each Post, and which Posts an account wrote: the store first, then X (one v2
lookup per 100 unknown IDs, a user lookup per handle, up to 3 timeline pages per account).

The lookups of one `learn` go out on a small thread pool (LOOKUP_WORKERS), each paced by the
v2 lookup endpoint's own window (bot.engagement.directory): one probe learns the window, then
as many go at once as it has room for. Only HTTP runs on the pool; what X says is saved on the
caller's thread as replies arrive, those that arrived together in one transaction (each commit
syncs the disk)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime

from bot.engagement import deadline as deadlines
from bot.engagement import snowflake
from bot.engagement.client import PostDirectory
from bot.engagement.deadline import Deadline
from bot.engagement.executor import Execution
from bot.engagement.knowledge import KnowledgeStore
from bot.engagement.models import APP_ONLY, PostLookup
from bot.engagement.query import AccountPosts, AccountProblem, PostInfo
from bot.engagement.records import PostRecord, PostSet
from bot.errors import AuthError, EngagementAPIError, Forbidden

log = logging.getLogger(__name__)

LOOKUP_BATCH = 100
# As many as the executor's engagement calls: enough to hide the round trips, few enough that
# a window's room is not spent in one burst of requests nobody is waiting on yet.
LOOKUP_WORKERS = 4
TIMELINE_PAGE_CAP = 32  # pages of 100: the 3,200 Posts X keeps reachable in a timeline


class Authors:
    """Learns and answers authorship for the service; see the module docstring."""

    def __init__(
        self, *, store: KnowledgeStore, directory: PostDirectory, workers: int = LOOKUP_WORKERS
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be ≥ 1")
        self._store = store
        self._directory = directory
        self._workers = workers

    def learn(
        self, post_ids: Iterable[str] | PostSet, *, now: datetime, handles: Mapping[str, str]
    ) -> int:
        """Make sure the store knows who wrote each Post, when it can matter; returns how many
        v2 lookup calls that took.

        Ownership only matters when some account is connected, so with none nobody is looked
        up. A URL's handle that is a connected account settles it without a call.
        """
        # A PostSet goes to the store as it is: a channel's Posts are read there, not here.
        ids = post_ids if isinstance(post_ids, PostSet) else list(post_ids)
        if not self._store.accounts.connected_ids():
            return 0
        unknown = self._store.posts.unknown_authors(ids)
        named: list[PostRecord] = []
        for post_id in list(unknown):
            handle = handles.get(post_id)
            account = self._store.accounts.find(handle) if handle else None
            if account is not None:
                named.append(PostRecord(post_id, account.user_id, None))
                unknown.remove(post_id)
        if named:
            self._store.posts.save(named)
        batches = [unknown[i : i + LOOKUP_BATCH] for i in range(0, len(unknown), LOOKUP_BATCH)]
        self._look_up_all(batches, now)
        return len(batches)

    def unknown(self, post_ids: Iterable[str], *, workspace: str | None) -> list[str]:
        """The Posts whose author X would not name when last asked (its lookup was rate
        limited or failed), while this workspace has connected accounts: whether they are
        owned is unknown, so they are neither ranked nor called "not owned" until asked again.
        One store query, whatever the number of Posts."""
        owners = self._store.accounts.connected_ids(workspace)
        if not owners:
            return []  # nobody connected here: no Post can be owned, whoever wrote it
        return self._store.posts.unknown_ownership(post_ids, owners)

    def unknown_among(
        self, infos: Mapping[str, PostInfo], owners: AbstractSet[str]
    ) -> frozenset[str]:
        """Of these Posts, those whose ownership is unknown (see `unknown`)."""
        if not owners:
            return frozenset()
        # The rule is the store's (bot/store/posts.py SIDE), the one leaderboards read too.
        return frozenset(self._store.posts.unknown_ownership(infos, owners))

    def to_look_up(self, post_ids: Iterable[str]) -> list[str]:
        """Posts whose author a query would look up first (none when nobody is connected)."""
        if not self._store.accounts.connected_ids():
            return []
        return self._store.posts.unknown_authors(post_ids)

    def forget_owners(self, execution: Execution) -> None:
        """A 403 proved our idea of these Posts' authorship wrong: forget it."""
        for outcome in execution.outcomes:
            if outcome.not_owned and outcome.call.owner is not None:
                self._store.posts.mark_not_owned_by(outcome.not_owned, outcome.call.owner)

    def account_problem(self, handle: str, *, workspace: str | None) -> AccountProblem | None:
        """Why this workspace could not read the account's Posts (None: it can). Raises
        EngagementAPIError when X does not answer."""
        return self._account(handle, workspace)[2]

    def account_posts(self, handle: str, *, since: datetime, workspace: str | None) -> AccountPosts:
        """The account's Posts created since `since`, or why there are none to show: one
        protected, suspended or vanished account (or X failing on it) must not stop a
        channel's leaderboard, digest or alert pass, so nothing is raised for it."""
        return self._timeline(
            handle,
            workspace,
            lambda user_id, as_owner: self.recent_posts(user_id, since=since, as_owner=as_owner),
        )

    def account_posts_between(
        self, handle: str, *, since: datetime, until: datetime, workspace: str | None
    ) -> AccountPosts:
        """The account's Posts created in [since, until), newest first, or why there are none
        (as `account_posts`). The window is asked of X as Post ID bounds (IDs encode their
        creation time), so an old window costs its own pages, not every newer Post's."""
        return self._timeline(
            handle,
            workspace,
            lambda user_id, as_owner: self.posts_between(
                user_id, since=since, until=until, as_owner=as_owner
            ),
        )

    def _timeline(
        self, handle: str, workspace: str | None, read: Callable[[str, bool], list[str]]
    ) -> AccountPosts:
        """`read(user_id, as_owner)` of the account's timeline, or why there is nothing."""
        try:
            user_id, as_owner, problem = self._account(handle, workspace)
            if problem is not None or user_id is None:
                return AccountPosts(handle, problem=problem or AccountProblem.NOT_FOUND)
            ids = read(user_id, as_owner)
        except (Forbidden, AuthError) as error:
            # X refused its timeline: it turned protected (or its owner's token is gone).
            log.info("timeline of @%s refused: %s", handle, error)
            refused = AccountProblem.PROTECTED if isinstance(error, Forbidden) else None
            return AccountPosts(handle, problem=refused or AccountProblem.X_FAILING)
        except EngagementAPIError as error:
            log.warning("timeline of @%s not read: %s", handle, error)
            return AccountPosts(handle, problem=AccountProblem.X_FAILING)
        return AccountPosts(handle, tuple(ids))

    def posts_between(
        self, user_id: str, *, since: datetime, until: datetime, as_owner: bool = False
    ) -> list[str]:
        """An account's Posts created in [since, until), newest first, every timeline page
        followed (X keeps its newest 3,200 reachable), remembered with their author."""
        ids: list[str] = []
        if until <= since or until <= snowflake.UNIX_EPOCH:
            return ids
        token: str | None = None
        auth = (self._store.accounts.auth(user_id) if as_owner else None) or APP_ONLY
        # since_id and until_id are exclusive: the smallest ID of `since`'s millisecond, less
        # one, admits a Post made at `since`; the smallest of `until`'s excludes `until`.
        since_id = str(max(snowflake.smallest_id_at(since) - 1, 0))
        until_id = str(max(snowflake.smallest_id_at(until), 1))
        for _ in range(TIMELINE_PAGE_CAP):
            page = self._directory.user_posts(
                user_id,
                since_id=since_id,
                until_id=until_id,
                max_results=100,
                pagination_token=token,
                auth=auth,
            )
            self._store.posts.save(
                PostRecord(p.id, p.author_id or user_id, p.created_at, p.text, p.author_username)
                for p in page.posts
            )
            ids.extend(p.id for p in page.posts if _within(p.created_at, since, until))
            if page.next_token is None:
                break
            token = page.next_token
        return ids

    def _account(
        self, handle: str, workspace: str | None
    ) -> tuple[str | None, bool, AccountProblem | None]:
        """(user ID, whether this workspace reads it with the account's own token, problem).
        A workspace's own connected account is read as itself, protected or not; any other
        account only as far as X shows it to everyone."""
        account = self._store.accounts.find(handle)
        if account is not None and account.user_id in self._store.accounts.connected_ids(workspace):
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
        auth = (self._store.accounts.auth(user_id) if as_owner else None) or APP_ONLY
        for _ in range(3):
            page = self._directory.user_posts(
                user_id, max_results=100, pagination_token=token, auth=auth
            )
            records = [
                PostRecord(
                    p.id, p.author_id or user_id, p.created_at, p.text or None, p.author_username
                )
                for p in page.posts
            ]
            self._store.posts.save(records)
            fresh = [p.id for p in page.posts if p.created_at is None or p.created_at >= since]
            ids.extend(fresh)
            if len(fresh) < len(page.posts) or page.next_token is None:
                break
            token = page.next_token
        return ids

    def _look_up_all(self, batches: Sequence[list[str]], now: datetime) -> None:
        """Every batch looked up, several at once; answers saved as they arrive."""
        # Pool threads do not inherit the caller's context: each is handed its deadline.
        deadline = deadlines.current()
        if len(batches) <= 1:
            self._remember([self._ask(batch, deadline) for batch in batches], now)
            return
        workers = min(self._workers, len(batches))
        with ThreadPoolExecutor(workers, thread_name_prefix="x-lookup") as pool:
            pending = {pool.submit(self._ask, batch, deadline) for batch in batches}
            try:
                while pending:
                    # What arrived while the last answers were being saved is saved together.
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    self._remember([future.result() for future in done], now)
            except BaseException:
                # A bug (not an API failure): stop what has not started, surface it as is.
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def _ask(self, post_ids: list[str], deadline: Deadline | None) -> PostLookup | None:
        """X's answer for one batch, None when it gave none (paced and retried by then)."""
        try:
            with deadlines.within(deadline):
                return self._directory.lookup_posts(post_ids)
        except EngagementAPIError as error:
            # Their authors stay unknown: public totals still come back, what needs the owner
            # says "author unknown" (never "not owned"), and the next query looks them up again.
            log.warning("Post lookup failed for %d Posts: %s", len(post_ids), error)
            return None

    def _remember(self, answers: Sequence[PostLookup | None], now: datetime) -> None:
        """Save what these lookups said, in one transaction."""
        found = [answer for answer in answers if answer is not None]
        if not found:
            return
        with self._store.transaction():
            self._store.posts.save(
                PostRecord(p.id, p.author_id, p.created_at, p.text or None, p.author_username)
                for answer in found
                for p in answer.posts
            )
            for state, title in (
                ("deleted", "Not Found Error"),
                ("protected", "Authorization Error"),
            ):
                ids = [i for a in found for i, why in a.unavailable.items() if why == title]
                if ids:
                    self._store.posts.mark(ids, state=state, now=now)


def _within(created: datetime | None, since: datetime, until: datetime) -> bool:
    """Whether a Post made at `created` is in [since, until) (unknown: the ID bounds decided)."""
    return created is None or since <= created < until
