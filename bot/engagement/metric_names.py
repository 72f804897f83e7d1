"""Metric names as people type them: API names, spaced or dashed, and common aliases."""

from __future__ import annotations

from collections.abc import Iterable

from bot.engagement.models import ALL_METRICS

ALIASES = {
    "likes": "favorites",
    "like": "favorites",
    "favs": "favorites",
    "favourites": "favorites",
    "reposts": "retweets",
    "repost": "retweets",
    "rts": "retweets",
    "quotes": "quote_tweets",
    "quote_posts": "quote_tweets",
    "comments": "replies",
    "reply": "replies",
    "views": "impressions",
    "clicks": "url_clicks",
    "link_clicks": "url_clicks",
    "profile_clicks": "user_profile_clicks",
    "follows": "user_follows",
    "video_view": "video_views",
}


class UnknownMetric(ValueError):
    """Raised for a metric name we cannot place; the message lists the names we know."""


def resolve_metric(name: str) -> str:
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in ALL_METRICS:
        return key
    if key in ALIASES:
        return ALIASES[key]
    close = [m for m in ALL_METRICS if key and (key in m or m.startswith(key[:4]))]
    hint = f" Did you mean {' or '.join(close[:2])}?" if close else ""
    raise UnknownMetric(f"unknown metric {name!r}.{hint} Known: {', '.join(ALL_METRICS)}")


def resolve_metrics(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(resolve_metric(n) for n in names if n.strip()))
