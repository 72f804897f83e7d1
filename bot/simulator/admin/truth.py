"""The ground truth: a Post's hourly buckets and lifetime counts straight from the engagement
model, and the Posts a recent search matches, for tests to check the API's answers against."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.engagement.models import ALL_METRICS
from bot.simulator.admin.routing import AdminError
from bot.simulator.http import SimRequest
from bot.simulator.search_query import QueryError, parse
from bot.simulator.state import SimState
from bot.simulator.universe import ceil_hour, floor_hour, iso, parse_time
from bot.simulator.v2_query import Bounds
from bot.simulator.v2_search import matching

# The most bucket values one request may ask for (hours × metrics).
MAX_SERIES_VALUES = 500_000


def series(state: SimState, request: SimRequest, _: list[str]) -> Any:
    raw_id = request.query_value("tweet_id") or ""
    post = state.universe.posts.get(int(raw_id)) if raw_id.isdigit() else None
    if post is None:
        raise AdminError(404, f"no Post {raw_id!r}")
    now = state.now()
    metrics = [m for m in (request.query_value("metrics") or "").split(",") if m] or list(
        ALL_METRICS
    )
    unknown = [m for m in metrics if m not in ALL_METRICS]
    if unknown:
        raise AdminError(400, f"unknown metric(s): {', '.join(unknown)}")
    start = _time_arg(request, "start", floor_hour(post.created_at))
    end = min(_time_arg(request, "end", ceil_hour(now)), ceil_hour(now))
    start, end = floor_hour(start), ceil_hour(end)
    hours = max(int((end - start) / timedelta(hours=1)), 0)
    if hours * len(metrics) > MAX_SERIES_VALUES:
        raise AdminError(400, "range too long: narrow start/end or metrics")
    model = state.model
    buckets: dict[str, dict[str, int]] = {}
    for metric in metrics:
        series = buckets[metric] = {}
        for i in range(hours):
            hour = start + timedelta(hours=i)
            if hour < now:
                series[iso(hour)] = model.bucket(post, metric, hour, now)
    lifetime = {m: model.lifetime(post, m, now) for m in metrics}
    return {"tweet_id": str(post.id), "buckets": buckets, "lifetime": lifetime}


def _time_arg(request: SimRequest, name: str, default: datetime) -> datetime:
    value = request.query_value(name)
    if not value:
        return default
    return parse_time(value if "T" in value else value + "T00:00:00Z", name)


def search(state: SimState, request: SimRequest, _: list[str]) -> Any:
    """The Posts recent search would show an app-only caller for `query` (optionally after
    `since_id`), newest first, straight from the universe: the list tests compare a client's
    search with."""
    text = request.query_value("query") or ""
    try:
        tree = parse(text)
    except QueryError as error:
        raise AdminError(400, str(error)) from None
    since = request.query_value("since_id") or ""
    if since and not since.isdigit():
        raise AdminError(400, f"since_id must be digits, got {since!r}")
    bounds = Bounds(since_id=int(since) if since else None)
    posts = matching(state, tree, bounds, state.now(), None)
    return {"query": text, "post_ids": [str(p.id) for p in posts]}
