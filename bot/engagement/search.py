"""Recent search (GET /2/tweets/search/recent, docs/simulator.md#recent-search): every page of a
query's matches over X's last 7 days, each Post's author remembered as a lookup would.

A page that fails ends the search with what the pages before it found (`complete` False) and a
short reason; nothing found so far is thrown away, and nothing is raised, so a daily tally over
many campaigns goes on past one refused query or one rate-limited endpoint.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.engagement import snowflake
from bot.engagement.client import PostDirectory
from bot.engagement.knowledge import KnowledgeStore
from bot.engagement.models import PostPage, SearchResult
from bot.engagement.records import PostRecord
from bot.errors import BadRequest, EngagementAPIError, RateLimited, TimedOut

log = logging.getLogger(__name__)

PAGE_SIZE = 100
# 50 pages of 100: a search never costs more than 50 of the app's 450 calls per 15 minutes.
PAGE_CAP = 50
# X searches this far back; an older since_id is refused, so the search starts at the window.
WINDOW = timedelta(days=7)
# A little inside the window, so the since_id is still in it when X receives the call.
WINDOW_MARGIN = timedelta(minutes=5)

# The short reasons of SearchResult.problem (bot.copy renders them for people).
REFUSED = "refused: "  # followed by X's own message
RATE_LIMITED = "rate limited"
SLOW = "X is slow"
FAILED = "X failed"
TOO_MANY = "too many matches"
MAX_SAID = 300  # characters of X's own message kept in a reason


class Searcher:
    """Runs recent searches for the service; see the module docstring."""

    def __init__(self, *, store: KnowledgeStore, directory: PostDirectory) -> None:
        self._store = store
        self._directory = directory

    def search(self, query: str, *, since_id: str | None, now: datetime) -> SearchResult:
        """Every match newer than `since_id` (all of the window when None), newest first."""
        since = usable_since_id(since_id, now=now)
        found: dict[str, None] = {}
        token: str | None = None
        for _ in range(PAGE_CAP):
            try:
                page = self._directory.search_recent(
                    query, since_id=since, max_results=PAGE_SIZE, next_token=token
                )
            except (EngagementAPIError, ValueError) as error:
                return _result(found, complete=False, problem=problem_of(error))
            self._remember(page)
            found.update(dict.fromkeys(p.id for p in page.posts))
            if page.next_token is None:
                return _result(found, complete=True, problem=None)
            token = page.next_token
        log.warning("recent search stopped after %d pages", PAGE_CAP)
        return _result(found, complete=False, problem=TOO_MANY)

    def _remember(self, page: PostPage) -> None:
        """Each Post's author and handle, as a v2 lookup records them."""
        self._store.posts.save(
            PostRecord(p.id, p.author_id, p.created_at, p.text, p.author_username)
            for p in page.posts
        )


def usable_since_id(since_id: str | None, *, now: datetime) -> str | None:
    """`since_id`, or None when it dates from before X's 7-day window (X refuses it there,
    and every Post the window holds is newer anyway)."""
    if since_id is None:
        return None
    created = snowflake.created_at(int(since_id)) if snowflake.is_decimal_id(since_id) else None
    if created is None or created < now - WINDOW + WINDOW_MARGIN:
        return None
    return since_id


def problem_of(error: Exception) -> str:
    """The short reason a failed page gives (see the constants above)."""
    if isinstance(error, ValueError):  # the query itself, refused before any call
        return REFUSED + str(error)
    if isinstance(error, BadRequest):
        said = "; ".join(error.messages) or str(error)
        return REFUSED + (said if len(said) <= MAX_SAID else said[: MAX_SAID - 1] + "…")
    if isinstance(error, RateLimited):
        return RATE_LIMITED
    if isinstance(error, TimedOut):
        return SLOW
    log.warning("recent search failed: %s", error)
    return FAILED


def _result(found: dict[str, None], *, complete: bool, problem: str | None) -> SearchResult:
    # Snowflake IDs grow with time: the highest is the newest, and ID order is time order.
    ids = sorted(found, key=int, reverse=True)
    return SearchResult(
        post_ids=tuple(ids),
        newest_id=ids[0] if ids else None,
        complete=complete,
        problem=problem,
    )
