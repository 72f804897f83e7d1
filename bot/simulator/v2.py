"""The X API v2 subset the bot uses: Post lookup, an account's Posts, handle lookup
(docs/simulator.md#x-api-v2).

Bodies follow X's v2 shapes: per-resource failures are `errors` objects next to `data` with
status 200, bad parameters a 400 problem body (`v2_query`). Rate limits are per app per 15
minutes (`v2_window_s`), with `x-rate-limit-*` headers on every response.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from bot.simulator import auth
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.ratelimit import RateDecision
from bot.simulator.state import SimState
from bot.simulator.texts import post_text
from bot.simulator.universe import Account, Post, iso_ms
from bot.simulator.v2_query import (
    ID_PATTERN,
    LOOKUP_PARAMS,
    PROBLEMS,
    TIMELINE_PARAMS,
    USER_EXPANSIONS,
    USERNAME_PARAMS,
    Fields,
    Payload,
    Query,
    invalid,
    next_token,
    read_bounds,
    read_fields,
    resource_error,
)

MAX_LOOKUP_IDS = 100
TIMELINE_DEPTH = 3200  # only the most recent Posts are reachable
USERNAME_PATTERN = "^[A-Za-z0-9_]{1,15}$"

UNAUTHORIZED: Payload = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
TOO_MANY: Payload = {
    "title": "Too Many Requests",
    "detail": "Too Many Requests",
    "type": "about:blank",
    "status": 429,
}

# -- objects ------------------------------------------------------------------------------------


def _user_object(account: Account, fields: Fields) -> Payload:
    user: Payload = {"id": account.user_id, "name": account.name, "username": account.screen_name}
    if "protected" in fields.user:
        user["protected"] = account.protected
    return user


def _post_object(state: SimState, post: Post, fields: Fields, now: datetime) -> Payload:
    obj: Payload = {"id": str(post.id), "text": post_text(state.universe.seed, post)}
    if "author_id" in fields.tweet:
        obj["author_id"] = post.author
    if "created_at" in fields.tweet:
        obj["created_at"] = iso_ms(post.created_at)
    if "public_metrics" in fields.tweet:
        lifetime = state.model.lifetime
        obj["public_metrics"] = {
            "retweet_count": lifetime(post, "retweets", now),
            "reply_count": lifetime(post, "replies", now),
            "like_count": lifetime(post, "favorites", now),
            "quote_count": lifetime(post, "quote_tweets", now),
            "impression_count": lifetime(post, "impressions", now),
        }
    obj["edit_history_tweet_ids"] = [str(post.id)]
    return obj


def posts_payload(state: SimState, posts: list[Post], fields: Fields, now: datetime) -> Payload:
    """`data` (absent when empty) and, for expansions=author_id, `includes.users`."""
    payload: Payload = {}
    if posts:
        payload["data"] = [_post_object(state, p, fields, now) for p in posts]
    if "author_id" in fields.expansions:
        authors = dict.fromkeys(p.author for p in posts)  # first appearance order
        users = [a for a in map(state.universe.account_by_id, authors) if a is not None]
        if users:
            payload["includes"] = {"users": [_user_object(a, fields) for a in users]}
    return payload


def exists(post: Post, now: datetime) -> bool:
    """Deleted Posts and Posts from the simulator clock's future are never shown."""
    return not post.deleted and post.created_at <= now


def visible(state: SimState, identity: auth.Identity, post: Post) -> bool:
    """Protected Posts show only to their author's own user context."""
    own = identity.account is not None and identity.account.user_id == post.author
    return own or not state.universe.is_protected(post)


# -- serving ------------------------------------------------------------------------------------


def _rate_headers(decision: RateDecision) -> dict[str, str]:
    return {
        "x-rate-limit-limit": str(decision.limit),
        "x-rate-limit-remaining": str(decision.remaining),
        "x-rate-limit-reset": str(decision.reset),
    }


Handler = Callable[[auth.Identity], tuple[int, Payload]]


def serve(
    state: SimState,
    request: SimRequest,
    bucket: str,
    handler: Handler,
    *,
    user_bucket: str | None = None,
) -> SimResponse:
    """Authenticate, count against the app's 15-minute bucket, then answer with its headers.

    As on the engagement endpoints, requests that fail authentication or are refused
    with 429 are not counted; everything else is, 400s included. With a `user_bucket`, a
    caller in user context counts against that user's own window of that bucket instead.
    """
    now_s = state.now().timestamp()
    default_limit = state.options.rate_limit(bucket)
    window_s = state.options.v2_window_s
    try:
        identity = auth.authenticate(state, request)
    except auth.AuthFailure as failure:
        if failure.app is None:
            decision = state.limiter.peek(limit=default_limit, window_s=window_s, now_s=now_s)
        else:
            limit = failure.app.rate_limit(bucket, default_limit)
            decision = state.limiter.current(
                failure.app.name, bucket, limit=limit, window_s=window_s, now_s=now_s
            )
        return SimResponse.json(401, UNAUTHORIZED, headers=_rate_headers(decision))
    counter = identity.app.name
    if user_bucket is not None and identity.account is not None:
        bucket, counter = user_bucket, f"{counter}/{identity.account.user_id}"
        default_limit = state.options.rate_limit(bucket)
    limit = identity.app.rate_limit(bucket, default_limit)
    decision = state.limiter.hit(counter, bucket, limit=limit, window_s=window_s, now_s=now_s)
    headers = _rate_headers(decision)
    if not decision.allowed:
        return SimResponse.json(429, TOO_MANY, headers=headers)
    with state.lock:
        status, payload = handler(identity)
    return SimResponse.json(status, payload, headers=headers)


# -- GET /2/tweets ------------------------------------------------------------------------------


def _lookup_ids(query: Query) -> list[str]:
    raw = query.get("ids")
    if not raw:
        query.fail("ids", "The `ids` query parameter can not be empty")
        return []
    ids = list(dict.fromkeys(raw.split(",")))  # a repeated ID is answered once
    if len(ids) > MAX_LOOKUP_IDS:
        prefix = "The number of values in the `ids` query parameter list"
        query.fail("ids", f"{prefix} [{len(ids)}] is not between 1 and {MAX_LOOKUP_IDS}")
    for value in ids:
        if not re.fullmatch(ID_PATTERN, value):
            query.bad_value("ids", value, f"does not match {ID_PATTERN}")
    return ids


def _lookup(state: SimState, request: SimRequest, identity: auth.Identity) -> tuple[int, Payload]:
    query = Query(request, LOOKUP_PARAMS)
    ids = _lookup_ids(query)
    fields = read_fields(query)
    if query.errors:
        return invalid(query.errors)
    now = state.now()
    found: list[Post] = []
    errors: list[Payload] = []
    for value in ids:
        post = state.universe.posts.get(int(value))
        if post is None or not exists(post, now):
            errors.append(resource_error("tweet", "ids", value, found=False))
        elif not visible(state, identity, post):
            errors.append(resource_error("tweet", "ids", value, found=True))
        else:
            found.append(post)
    payload = posts_payload(state, found, fields, now)
    if errors:
        payload["errors"] = errors
    return 200, payload


def lookup_posts(state: SimState, request: SimRequest) -> SimResponse:
    """GET /2/tweets?ids=…: up to 100 Posts; missing or hidden ones listed in `errors`."""
    return serve(state, request, "v2_lookup", lambda who: _lookup(state, request, who))


# -- GET /2/users/<id>/tweets -------------------------------------------------------------------


def _reachable(
    state: SimState, identity: auth.Identity, account: Account, now: datetime
) -> list[Post]:
    """The account's Posts a caller may page through: newest first, at most 3,200."""
    posts = [
        p
        for p in state.universe.posts.values()
        if p.author == account.user_id and exists(p, now) and visible(state, identity, p)
    ]
    # Snowflake IDs grow with time, so ID order is newest-first order and cursors stay stable.
    return sorted(posts, key=lambda p: p.id, reverse=True)[:TIMELINE_DEPTH]


def page_meta(page: list[Post], more: bool) -> Payload:
    meta: Payload = {"result_count": len(page)}
    if page:
        meta["newest_id"], meta["oldest_id"] = str(page[0].id), str(page[-1].id)
    if more:
        meta["next_token"] = next_token(page[-1].id)
    return meta


def _not_your_posts(user_id: str) -> tuple[int, Payload]:
    """A protected account's Posts asked for without that account's user context."""
    return 403, {
        "title": "Authorization Error",
        "detail": f"Sorry, you are not authorized to see the Posts of user with id: [{user_id}].",
        "type": PROBLEMS + "not-authorized-for-resource",
        "status": 403,
    }


def _timeline(
    state: SimState, request: SimRequest, identity: auth.Identity, user_id: str
) -> tuple[int, Payload]:
    query = Query(request, TIMELINE_PARAMS)
    if not re.fullmatch(ID_PATTERN, user_id):
        query.bad_value("id", user_id, f"does not match {ID_PATTERN}")
    max_results = query.integer("max_results", 5, 100, default=10)
    query.choices("exclude", frozenset({"retweets", "replies"}))  # every simulated Post is original
    bounds = read_bounds(query)
    fields = read_fields(query)
    if query.errors:
        return invalid(query.errors)
    account = state.universe.account_by_id(user_id)
    if account is None:
        return 200, {"errors": [resource_error("user", "id", user_id, found=False)]}
    own = identity.account is not None and identity.account.user_id == account.user_id
    if account.protected and not own:
        return _not_your_posts(user_id)
    now = state.now()
    matching = [p for p in _reachable(state, identity, account, now) if bounds.admits(p)]
    page = matching[:max_results]
    payload = posts_payload(state, page, fields, now)
    payload["meta"] = page_meta(page, more=len(matching) > max_results)
    return 200, payload


def user_posts(state: SimState, request: SimRequest, user_id: str) -> SimResponse:
    """GET /2/users/<id>/tweets: an account's Posts, newest first, paginated."""
    return serve(
        state, request, "v2_user_posts", lambda who: _timeline(state, request, who, user_id)
    )


# -- GET /2/users/by/username/<name> ------------------------------------------------------------


def _by_username(state: SimState, request: SimRequest, username: str) -> tuple[int, Payload]:
    query = Query(request, USERNAME_PARAMS)
    fields = read_fields(query, USER_EXPANSIONS)
    wanted = username.lower()
    account = next((a for a in state.universe.accounts if a.screen_name.lower() == wanted), None)
    # Universe files may hold handles X would refuse; those still resolve.
    if account is None and not re.fullmatch(USERNAME_PATTERN, username):
        query.bad_value("username", username, f"does not match {USERNAME_PATTERN}")
    if query.errors:
        return invalid(query.errors)
    if account is None:
        return 200, {"errors": [resource_error("user", "username", username, found=False)]}
    return 200, {"data": _user_object(account, fields)}


def user_by_username(state: SimState, request: SimRequest, username: str) -> SimResponse:
    """GET /2/users/by/username/<name>: a handle's user id, or a Not Found error object."""
    return serve(state, request, "v2_username", lambda _who: _by_username(state, request, username))
