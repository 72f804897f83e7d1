"""X API v2 calls (Post lookups, timelines, handles, recent search), paced and retried like
engagement calls.

`PacedDirectory` wraps a PostDirectory (the HTTP client moves bytes only). Every call waits for
room in its endpoint's 15-minute window in the RateLimiter the executor uses, keyed by the v2
endpoint; a 429 holds that endpoint until the reset its headers name and the call is sent
again; 5xx and transport failures back off 1, 2, 4 … s (bot.engagement.retry_rules). A
window that opens more than `max_wait` seconds from now is not waited for: the call fails at
once with RateLimited, and the caller says "try again" instead of holding a reply for minutes.
Post lookups have a bound of their own (`lookup_max_wait`): a whole v2 window (FULL_WINDOW_S)
lets work nobody waits on wait out the window rather than leave owned Posts without their
owner's numbers, while work under a deadline still answers by it (at once when the window
reopens only after it). `run` does not use it yet: its scheduled jobs' threads are joined at
exit, so a job asleep for a 15-minute window would hold a SIGTERM for as long.
Under a deadline (bot.engagement.deadline.current(), a command's answer), neither a window
nor a backoff is waited for past it: the call fails with TimedOut, like an engagement call out of
time."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from bot.engagement import deadline as deadlines
from bot.engagement.client import PostDirectory
from bot.engagement.models import APP_ONLY, Auth, PostLookup, PostPage, RateLimitInfo, UserLookup
from bot.engagement.ratelimiter import RateLimiter
from bot.engagement.retry_rules import backoff, settle
from bot.errors import EngagementAPIError, RateLimited, TimedOut

log = logging.getLogger(__name__)

# Limiter keys: the v2 endpoints, each with its own window (never an Engagement API key).
LOOKUP = "2/tweets"
USER_POSTS = "2/users/:id/tweets"
USERNAME = "2/users/by/username"
SEARCH = "2/tweets/search/recent"
# Longer than an Engagement API window (65 s at most), far shorter than a v2 one (15 minutes).
DEFAULT_MAX_WAIT_S = 65.0
# A v2 window (15 minutes) and the 5 s X's reset may be late by: any window the server names.
FULL_WINDOW_S = 15 * 60 + 5.0


class _Answer(Protocol):
    @property
    def rate_limit(self) -> RateLimitInfo: ...


A = TypeVar("A", bound=_Answer)


class PacedDirectory:
    """A PostDirectory whose calls are paced, retried and bounded in waiting (see above)."""

    def __init__(
        self,
        directory: PostDirectory,
        *,
        limiter: RateLimiter,
        sleep: Callable[[float], None],
        monotonic: Callable[[], float],
        rng: random.Random | None = None,
        max_retries: int = 3,
        max_wait: float = DEFAULT_MAX_WAIT_S,
        lookup_max_wait: float = DEFAULT_MAX_WAIT_S,
    ) -> None:
        self._directory = directory
        self._limiter = limiter
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._max_retries = max_retries
        self._max_wait = max_wait
        self._max_waits = {LOOKUP: lookup_max_wait}

    def lookup_posts(self, post_ids: Sequence[str], *, auth: Auth = APP_ONLY) -> PostLookup:
        return self._call(LOOKUP, lambda: self._directory.lookup_posts(post_ids, auth=auth))

    def user_posts(
        self,
        user_id: str,
        *,
        since_id: str | None = None,
        until_id: str | None = None,
        max_results: int = 100,
        pagination_token: str | None = None,
        auth: Auth = APP_ONLY,
    ) -> PostPage:
        return self._call(
            USER_POSTS,
            lambda: self._directory.user_posts(
                user_id,
                since_id=since_id,
                until_id=until_id,
                max_results=max_results,
                pagination_token=pagination_token,
                auth=auth,
            ),
        )

    def user_by_username(self, username: str, *, auth: Auth = APP_ONLY) -> UserLookup:
        return self._call(USERNAME, lambda: self._directory.user_by_username(username, auth=auth))

    def search_recent(
        self,
        query: str,
        *,
        since_id: str | None = None,
        max_results: int = 100,
        next_token: str | None = None,
        auth: Auth = APP_ONLY,
    ) -> PostPage:
        return self._call(
            SEARCH,
            lambda: self._directory.search_recent(
                query, since_id=since_id, max_results=max_results, next_token=next_token, auth=auth
            ),
        )

    def _call(self, key: str, send: Callable[[], A]) -> A:
        retry = 0
        deadline = deadlines.current()
        while True:
            if deadline is not None and deadline.passed:
                raise TimedOut(f"{key}: the answer was due", endpoint=key)
            max_wait = self._max_waits.get(key, self._max_wait)
            ticket = self._limiter.acquire_within(key, max_wait, deadline=deadline)
            if ticket is None:
                if deadline is not None and deadline.passed:
                    raise TimedOut(f"{key}: the answer was due", endpoint=key)
                raise self._not_waiting(key, max_wait)
            try:
                answer = send()
            except EngagementAPIError as error:
                settle(self._limiter, ticket, error, self._rng)
                if not error.retryable or retry >= self._max_retries:
                    raise
                retry += 1
                if isinstance(error, RateLimited):
                    # The limiter holds the endpoint until the reset: acquire_within waits
                    # for it (or gives up at once when it is too far off).
                    log.info("X API %s rate limited; retry %d after the reset", key, retry)
                    continue
                delay = backoff(retry, self._rng)
                if deadline is not None and not deadline.allows(delay):
                    raise TimedOut(f"{key}: no time left to retry", endpoint=key) from error
                log.info(
                    "X API %s: %s; retry %d in %.1f s", key, type(error).__name__, retry, delay
                )
                self._sleep(delay)
                continue
            except BaseException:
                self._limiter.release(ticket)
                raise
            self._limiter.observe(ticket, answer.rate_limit)
            return answer

    def _not_waiting(self, key: str, max_wait: float) -> RateLimited:
        deadline = self._limiter.snapshot(key).deadline
        wait = max(deadline - self._monotonic(), 0.0) if deadline is not None else max_wait
        log.info("X API %s: its window opens in %.0f s; not waiting", key, wait)
        return RateLimited(
            f"{key}: rate limited for {wait:.0f} more seconds",
            reset_at=None,
            retry_after=wait,
            endpoint=key,
        )
