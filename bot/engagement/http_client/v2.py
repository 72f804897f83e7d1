"""The X API v2 calls the bot makes (docs/simulator.md#x-api-v2), as what to send: arguments
checked before any I/O, then the label, path and query of each GET.

Pure: the client sends them and bot.engagement.wire parses the replies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from bot.engagement import wire

_USERNAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_USER_ID = re.compile(r"[0-9]{1,20}")


class V2Call(NamedTuple):
    """One GET: `label` names it in logs and errors, `ids` is how many Posts it asks about."""

    label: str
    path: str
    params: Mapping[str, str]
    ids: int


def post_lookup(post_ids: Sequence[str]) -> V2Call:
    """GET /2/tweets for these Posts (canonical IDs, each once)."""
    ids = tuple(dict.fromkeys(wire.canonical_post_id(i) for i in post_ids))
    return V2Call("2/tweets", "/2/tweets", wire.lookup_params(ids), len(ids))


def user_timeline(
    user_id: str,
    *,
    since_id: str | None,
    until_id: str | None,
    max_results: int,
    pagination_token: str | None,
) -> V2Call:
    """GET /2/users/<id>/tweets: one page of the account's Posts, newest first."""
    if not _USER_ID.fullmatch(user_id):
        raise ValueError(f"invalid user ID: {user_id!r}")
    if not 5 <= max_results <= 100:
        raise ValueError("max_results must be between 5 and 100")
    # The author expansion names the account, so one signed call also tells whose token it is.
    params = {
        "max_results": str(max_results),
        "tweet.fields": wire.v2.POST_FIELDS,
        "expansions": "author_id",
        "user.fields": "username",
    }
    if since_id is not None:
        params["since_id"] = wire.canonical_post_id(since_id)
    if until_id is not None:
        params["until_id"] = wire.canonical_post_id(until_id)
    if pagination_token is not None:
        params["pagination_token"] = pagination_token
    return V2Call("2/users/:id/tweets", f"/2/users/{user_id}/tweets", params, 0)


def user_by_username(username: str) -> V2Call:
    """GET /2/users/by/username/<name>, with or without the leading @."""
    name = username.removeprefix("@")
    if not _USERNAME.fullmatch(name):
        raise ValueError(f"invalid X handle: {username!r}")
    # Whether it is protected decides, at `track` time, if its Posts can be read at all.
    params = {"user.fields": "protected"}
    return V2Call("2/users/by/username", f"/2/users/by/username/{name}", params, 0)


MAX_QUERY_CHARS = 512  # a recent search query's limit (self-serve access)


def recent_search(
    query: str, *, since_id: str | None, max_results: int, next_token: str | None
) -> V2Call:
    """GET /2/tweets/search/recent: one page of the last 7 days' matches, newest first."""
    if not query.strip() or len(query) > MAX_QUERY_CHARS:
        raise ValueError(f"a search query has 1 to {MAX_QUERY_CHARS} characters")
    if not 10 <= max_results <= 100:
        raise ValueError("max_results must be between 10 and 100")
    # The author expansion names each Post's account: planning needs no lookup for them.
    params = {
        "query": query,
        "max_results": str(max_results),
        "tweet.fields": wire.v2.POST_FIELDS,
        "expansions": "author_id",
        "user.fields": "username",
    }
    if since_id is not None:
        params["since_id"] = wire.canonical_post_id(since_id)
    if next_token is not None:
        params["next_token"] = next_token
    return V2Call("2/tweets/search/recent", "/2/tweets/search/recent", params, 0)
