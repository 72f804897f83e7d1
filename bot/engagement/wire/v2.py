"""X API v2 bodies (docs/simulator.md#x-api-v2) and the app-only token reply as models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.engagement.models import Post, PostLookup, PostPage, RateLimitInfo, User, UserLookup
from bot.engagement.wire.response import parse_count, parse_instant, short_repr
from bot.errors import UnexpectedResponse

# What the store keeps of a Post. Not public_metrics: the engagement endpoints give the numbers,
# and asking for them made each lookup reply about a third larger.
POST_FIELDS = "created_at,author_id,text"
MAX_LOOKUP_IDS = 100


def lookup_params(post_ids: tuple[str, ...]) -> dict[str, str]:
    """Query of GET /2/tweets: the Posts, their authors' handles included."""
    if not 1 <= len(post_ids) <= MAX_LOOKUP_IDS:
        raise ValueError(f"{len(post_ids)} Post IDs; GET /2/tweets takes 1 to {MAX_LOOKUP_IDS}")
    return {
        "ids": ",".join(post_ids),
        "tweet.fields": POST_FIELDS,
        "expansions": "author_id",
        "user.fields": "username",
    }


def parse_bearer_token(body: object) -> str:
    """The token of `{"token_type":"bearer","access_token":…}`, exactly as sent (never decoded)."""
    if isinstance(body, dict):
        token = body.get("access_token")
        kind = body.get("token_type")
        if isinstance(token, str) and token and str(kind).lower() == "bearer":
            return token
    raise UnexpectedResponse("oauth2/token: no bearer token in the reply", endpoint="oauth2/token")


def parse_post_lookup(body: object, rate_limit: RateLimitInfo) -> PostLookup:
    doc = _object(body, "2/tweets")
    usernames = _usernames(doc)
    unavailable: dict[str, str] = {}
    for error in _list(doc.get("errors")):
        post_id = (
            error.get("resource_id") or error.get("value") if isinstance(error, dict) else None
        )
        if isinstance(post_id, str):
            unavailable[post_id] = str(error.get("title") or "Error")
    posts = tuple(_post(p, usernames) for p in _list(doc.get("data")))
    return PostLookup(posts=posts, unavailable=unavailable, rate_limit=rate_limit)


def parse_post_page(body: object, rate_limit: RateLimitInfo) -> PostPage:
    return _page(body, rate_limit, "2/users/:id/tweets")


def parse_search_page(body: object, rate_limit: RateLimitInfo) -> PostPage:
    """One page of GET /2/tweets/search/recent: the same shape as a timeline page."""
    return _page(body, rate_limit, "2/tweets/search/recent")


def _page(body: object, rate_limit: RateLimitInfo, endpoint: str) -> PostPage:
    doc = _object(body, endpoint)
    meta = doc.get("meta")
    if not isinstance(meta, dict):
        meta = {}
    posts = tuple(_post(p, _usernames(doc)) for p in _list(doc.get("data")))
    return PostPage(
        posts=posts,
        result_count=_optional_count(meta.get("result_count"), len(posts)),
        newest_id=_optional_str(meta.get("newest_id")),
        oldest_id=_optional_str(meta.get("oldest_id")),
        next_token=_optional_str(meta.get("next_token")),
        rate_limit=rate_limit,
    )


def parse_user_lookup(body: object, rate_limit: RateLimitInfo) -> UserLookup:
    """`data` → the user; only `errors` (an unknown handle answers 200) → None, with
    `suspended` when an error says the account is suspended rather than unknown."""
    doc = _object(body, "2/users/by/username")
    data = doc.get("data")
    user = _user(data) if isinstance(data, dict) else None
    said = " ".join(
        str(e.get("detail") or "") for e in _list(doc.get("errors")) if isinstance(e, dict)
    )
    suspended = user is None and "suspended" in said.lower()
    return UserLookup(user=user, rate_limit=rate_limit, suspended=suspended)


def _post(item: object, usernames: Mapping[str, str]) -> Post:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise UnexpectedResponse(f"v2: not a Post object: {short_repr(item)}", status=200)
    author = _optional_str(item.get("author_id"))
    metrics = item.get("public_metrics")
    try:
        counts = (
            {str(k): parse_count(v) for k, v in metrics.items()}
            if isinstance(metrics, dict)
            else {}
        )
    except ValueError as problem:
        raise UnexpectedResponse(
            f"v2: Post {short_repr(item['id'])}: {problem}", status=200
        ) from None
    return Post(
        id=item["id"],
        text=str(item.get("text") or ""),
        author_id=author,
        author_username=usernames.get(author) if author else None,
        created_at=parse_instant(item.get("created_at")),
        public_metrics=counts,
    )


def _user(item: dict[str, Any]) -> User:
    user_id, username = item.get("id"), item.get("username")
    if not isinstance(user_id, str) or not isinstance(username, str):
        raise UnexpectedResponse(f"v2: not a User object: {short_repr(item)}", status=200)
    return User(
        id=user_id,
        username=username,
        name=str(item.get("name") or ""),
        protected=item.get("protected") is True,
    )


def _usernames(doc: dict[str, Any]) -> dict[str, str]:
    includes = doc.get("includes")
    users = includes.get("users") if isinstance(includes, dict) else None
    return {u.id: u.username for u in (_user(x) for x in _list(users) if isinstance(x, dict))}


def _object(body: object, endpoint: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise UnexpectedResponse(f"{endpoint}: the response is not a JSON object", status=200)
    return body


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _optional_count(value: object, default: int) -> int:
    try:
        return parse_count(value)
    except ValueError:
        return default
