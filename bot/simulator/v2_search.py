"""GET /2/tweets/search/recent (docs/simulator.md#recent-search): the last 7 days' Posts matching
a query, newest first, paginated with `next_token`, under its own rate limit.

The query language is bot.simulator.search_query; parameters and problem bodies follow the
other v2 routes (v2_query). `matching` is also the admin truth view's list.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.engagement import snowflake
from bot.simulator import auth
from bot.simulator.http import SimRequest, SimResponse
from bot.simulator.search_query import Node, QueryError, Subject, matches, parse
from bot.simulator.state import SimState
from bot.simulator.texts import post_text
from bot.simulator.universe import Post
from bot.simulator.v2 import exists, page_meta, posts_payload, serve, visible
from bot.simulator.v2_query import (
    LOOKUP_PARAMS,
    Bounds,
    Payload,
    Query,
    invalid,
    read_bounds,
    read_fields,
)

WINDOW = timedelta(days=7)
END_TIME_MARGIN = timedelta(seconds=10)  # end_time must be at least this far in the past
MAX_QUERY_CHARS = 512
SEARCH_PARAMS = LOOKUP_PARAMS - {"ids"} | {
    "query",
    "max_results",
    "next_token",
    "pagination_token",
    "start_time",
    "end_time",
    "since_id",
    "until_id",
    "sort_order",
}


def _minute(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%MZ")


def window_start(now: datetime) -> datetime:
    """The oldest instant recent search reaches."""
    return now - WINDOW


def _read_query(query: Query) -> Node | None:
    raw = query.get("query")
    if not raw or not raw.strip():
        query.fail("query", "The `query` query parameter can not be empty")
        return None
    if len(raw) > MAX_QUERY_CHARS:
        query.bad_value("query", raw, f"is not between 1 and {MAX_QUERY_CHARS} characters long")
        return None
    try:
        return parse(raw)
    except QueryError as error:
        query.fail("query", str(error))
        return None


def _check_window(query: Query, bounds: Bounds, now: datetime) -> None:
    """X's 7-day window: start_time and since_id inside it, end_time 10 s in the past."""
    floor = window_start(now)
    if bounds.start is not None and bounds.start < floor:
        raw = query.get("start_time")
        query.fail(
            "start_time",
            f"Invalid 'start_time':'{raw}'. 'start_time' must be on or after {_minute(floor)}",
        )
    if bounds.end is not None and bounds.end > now - END_TIME_MARGIN:
        raw = query.get("end_time")
        query.fail(
            "end_time",
            f"Invalid 'end_time':'{raw}'. 'end_time' must be a minimum of 10 seconds prior to "
            "the request time.",
        )
    if bounds.since_id is not None:
        created = snowflake.created_at(bounds.since_id)
        if created is None or created < floor:
            query.fail(
                "since_id",
                f"Invalid 'since_id':'{bounds.since_id}'. 'since_id' must be a tweet id created "
                f"after {_minute(floor)}",
            )


def matching(
    state: SimState, tree: Node, bounds: Bounds, now: datetime, identity: auth.Identity | None
) -> list[Post]:
    """The Posts a search shows, newest first: created in the window, not deleted, visible to
    the caller (app-only when `identity` is None), within `bounds`, matching `tree`."""
    floor = window_start(now)
    universe = state.universe
    handles = {a.user_id: a.screen_name for a in universe.accounts}
    found = []
    for post in universe.posts.values():
        if post.created_at < floor or not exists(post, now) or not bounds.admits(post):
            continue
        if identity is None and universe.is_protected(post):
            continue
        if identity is not None and not visible(state, identity, post):
            continue
        text = post_text(universe.seed, post)
        if matches(tree, Subject(text, handles.get(post.author, ""), post.author)):
            found.append(post)
    # Snowflake IDs grow with time: ID order is newest-first order, and cursors stay stable.
    return sorted(found, key=lambda p: p.id, reverse=True)


def _search(state: SimState, request: SimRequest, identity: auth.Identity) -> tuple[int, Payload]:
    query = Query(request, SEARCH_PARAMS)
    tree = _read_query(query)
    max_results = query.integer("max_results", 10, 100, default=10)
    query.choices("sort_order", frozenset({"recency", "relevancy"}))  # both: newest first
    bounds = read_bounds(query)
    token = query.cursor("next_token")
    if token is not None:
        bounds = Bounds(bounds.start, bounds.end, bounds.since_id, bounds.until_id, token)
    fields = read_fields(query)
    now = state.now()
    _check_window(query, bounds, now)
    if query.errors or tree is None:
        return invalid(query.errors)
    found = matching(state, tree, bounds, now, identity)
    page = found[:max_results]
    payload = posts_payload(state, page, fields, now)
    payload["meta"] = page_meta(page, more=len(found) > max_results)
    return 200, payload


def search_recent(state: SimState, request: SimRequest) -> SimResponse:
    """GET /2/tweets/search/recent: matching Posts of the last 7 days, newest first."""
    return serve(
        state,
        request,
        "v2_search",
        lambda who: _search(state, request, who),
        user_bucket="v2_search_user",
    )
