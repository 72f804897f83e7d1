"""X API v2: Post discovery and authors (docs/simulator.md#x-api-v2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.engagement.models.results import RateLimitInfo


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str = ""
    protected: bool = False  # only others' user context is refused its Posts


@dataclass(frozen=True)
class Post:
    """A Post as v2 describes it; fields not asked for or not sent are None / empty."""

    id: str
    text: str = ""
    author_id: str | None = None
    author_username: str | None = None
    created_at: datetime | None = None
    public_metrics: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PostLookup:
    """GET /2/tweets: the Posts found and, for the others, v2's error title by ID."""

    posts: tuple[Post, ...]
    unavailable: Mapping[str, str]  # ID → "Not Found Error" | "Authorization Error" | …
    rate_limit: RateLimitInfo


@dataclass(frozen=True)
class PostPage:
    """One page of GET /2/users/<id>/tweets, newest first; `next_token` None on the last."""

    posts: tuple[Post, ...]
    result_count: int
    newest_id: str | None
    oldest_id: str | None
    next_token: str | None
    rate_limit: RateLimitInfo


@dataclass(frozen=True)
class UserLookup:
    """GET /2/users/by/username/<name>: `user` None when X knows no such handle."""

    user: User | None
    rate_limit: RateLimitInfo
    suspended: bool = False  # `user` None because X suspended the account, not "no such handle"


@dataclass(frozen=True)
class SearchResult:
    """What a recent search found (GET /2/tweets/search/recent, every page followed).

    `post_ids` are newest first and distinct; `newest_id` is the highest Post ID seen, the
    `since_id` of the next search (None when nothing was found). `complete` is False when a
    page failed or the deadline came first: `post_ids` then holds what the pages before it
    found, and `problem` says why in a short sentence (bot.copy.search)."""

    post_ids: tuple[str, ...]
    newest_id: str | None
    complete: bool
    problem: str | None
