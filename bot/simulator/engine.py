"""The engagement endpoints as pure functions: request body in, status and JSON object out.

No sockets, authentication or rate limiting here (server.py and auth.py do those); this module
does the rest of docs/simulator.md#processing-order: validation (`parse_request`), the app-only
metric check (`app_only_forbidden_metrics`), and `answer`: Post classification and the 200
body with its groupings, ID lists and age-limit zeroing (docs/simulator.md#per-post-outcomes,
#responses).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.engagement.models import (
    AGE_LIMITED_METRICS,
    LIMITS,
    PUBLIC_METRICS,
    Endpoint,
)
from bot.engagement.snowflake import is_snowflake
from bot.simulator.grouping import Table, bucket_labels, render
from bot.simulator.model import HOUR_S, EngagementModel
from bot.simulator.state import RuntimeOptions
from bot.simulator.universe import Post, Universe
from bot.simulator.validation import ApiError, ValidRequest, parse_request

__all__ = [
    "ApiError",
    "ValidRequest",
    "answer",
    "app_only_forbidden_metrics",
    "parse_request",
]

PROTECTED_MESSAGE = "Tweet ID(s) are unavailable"
IMPRESSIONS_TOO_OLD = (
    "Impressions & engagements for tweets older than 90 days (90 days) are not supported"
)
# Zero on /historical before LIMITS.historical_public_floor (docs/simulator.md#age-limits).
PUBLIC_FLOOR_METRICS = frozenset({"favorites", "replies", "retweets"})


def app_only_forbidden_metrics(req: ValidRequest) -> list[str]:
    """The requested metrics app-only auth may not read, in request order."""
    if req.endpoint is not Endpoint.TOTALS:
        return list(req.metrics)
    return [m for m in req.metrics if m not in PUBLIC_METRICS]


@dataclass
class _Classified:
    """The requested IDs sorted into the classes of docs/simulator.md#classification."""

    unavailable: list[int] = field(default_factory=list)
    protected: list[int] = field(default_factory=list)
    foreign: list[Post] = field(default_factory=list)
    available: list[Post] = field(default_factory=list)


def answer(
    req: ValidRequest,
    *,
    universe: Universe,
    model: EngagementModel,
    now: datetime,
    user_id: str | None,
    options: RuntimeOptions,
) -> tuple[int, dict[str, Any]]:
    """The reply to a validated request; `user_id` None means app-only auth."""
    classes = _classify(req, universe, user_id)
    if classes.protected:
        return 400, {"errors": [PROTECTED_MESSAGE]}
    if classes.foreign:
        return 403, {"errors": _forbidden_messages(classes.foreign, options.forbidden_format)}
    return 200, _ok_body(req, classes, model=model, now=now, options=options)


def _classify(req: ValidRequest, universe: Universe, user_id: str | None) -> _Classified:
    """First match wins: unavailable, protected, foreign (user context only), available."""
    protected_authors = {a.user_id for a in universe.accounts if a.protected}
    posts = universe.posts
    out = _Classified()
    for post_id in req.post_ids:
        post = posts.get(post_id)
        if post is None or post.deleted:
            out.unavailable.append(post_id)
        elif post.protected or post.author in protected_authors:
            out.protected.append(post_id)
        elif user_id is not None and post.author != user_id:
            out.foreign.append(post)
        else:
            out.available.append(post)
    return out


def _forbidden_messages(foreign: list[Post], form: str) -> list[str]:
    """One string with every ID, or (per-author) one per author in order of appearance."""
    if form != "per-author":
        return ["Forbidden to access tweets: " + ", ".join(str(p.id) for p in foreign)]
    by_author: dict[str, list[str]] = {}
    for post in foreign:
        by_author.setdefault(post.author, []).append(str(post.id))
    return [
        f"Forbidden to access tweets for author id {author}: {', '.join(ids)}"
        for author, ids in by_author.items()
    ]


def _older_than(post: Post, limit: timedelta, now: datetime) -> bool:
    """Age rule of docs/simulator.md#age-limits; pre-snowflake IDs are older than every limit."""
    return not is_snowflake(post.id) or now - post.created_at > limit


@dataclass(frozen=True)
class _Zeroing:
    """Which (Post, metric) values read "0" by the age rules, and the lists that say so."""

    impressions: frozenset[int]  # impressions and engagements, /totals, 90 days
    video: frozenset[int]  # video views, 1800 days

    def metrics_of(self, post_id: int, metrics: tuple[str, ...]) -> list[str]:
        """The requested metrics that read "0" for this Post (usually none)."""
        zeroed = AGE_LIMITED_METRICS if post_id in self.impressions else frozenset()
        if post_id in self.video:
            zeroed = zeroed | {"video_views"}
        return [m for m in metrics if m in zeroed] if zeroed else []


def _zeroing(
    req: ValidRequest, posts: list[Post], now: datetime, options: RuntimeOptions
) -> _Zeroing:
    impressions: frozenset[int] = frozenset()
    video: frozenset[int] = frozenset()
    if (
        req.endpoint.value in options.impressions_age_limit_endpoints
        and not AGE_LIMITED_METRICS.isdisjoint(req.metrics)
    ):
        impressions = frozenset(
            p.id for p in posts if _older_than(p, LIMITS.impressions_max_age, now)
        )
    if "video_views" in req.metrics:
        video = frozenset(p.id for p in posts if _older_than(p, LIMITS.video_views_max_age, now))
    return _Zeroing(impressions, video)


def _ok_body(
    req: ValidRequest,
    classes: _Classified,
    *,
    model: EngagementModel,
    now: datetime,
    options: RuntimeOptions,
) -> dict[str, Any]:
    """The 200 body, keys in the order of docs/simulator.md#top-level-keys."""
    zero = _zeroing(req, classes.available, now, options)
    body: dict[str, Any] = {}
    if req.endpoint is not Endpoint.TOTALS:
        body["start"], body["end"] = req.echo_start, req.echo_end
    errors = []
    if classes.unavailable:
        errors.append(f"{len(classes.unavailable)} Tweet ID(s) are unavailable")
    if zero.impressions:
        errors.append(IMPRESSIONS_TOO_OLD)
    if errors:
        body["errors"] = errors
    if classes.unavailable:
        body["unavailable_tweet_ids"] = [str(i) for i in classes.unavailable]
    if zero.impressions:
        body["unsupported_for_impressions_engagements_tweet_ids"] = _in_order(
            classes.available, zero.impressions
        )
    if zero.video:
        body["unsupported_for_video_views_tweet_ids"] = _in_order(classes.available, zero.video)
    if req.endpoint is Endpoint.TOTALS:
        table = _totals_table(req, classes.available, zero, model, now)
    else:
        table = _series_table(req, classes.available, zero, model, now)
    for name, levels in req.groupings.items():
        body[name] = render(levels, table)
    return body


def _in_order(posts: list[Post], ids: frozenset[int]) -> list[str]:
    return [str(p.id) for p in posts if p.id in ids]


def _totals_table(
    req: ValidRequest, posts: list[Post], zero: _Zeroing, model: EngagementModel, now: datetime
) -> Table:
    """Lifetime values: C(now), video views aggregated over the video's Posts."""
    now_s = now.timestamp()
    sums: dict[str, dict[str, int]] = {}
    for post in posts:
        row: dict[str, int] = {}
        for metric in req.metrics:
            if metric == "video_views":
                value = model.totals_video_views_at(post, now_s)
            else:
                value = model.cumulative_at(post, metric, now_s)
            row[metric] = value
        for metric in zero.metrics_of(post.id, req.metrics):
            row[metric] = 0
        sums[str(post.id)] = row
    return Table(tuple(sums), req.metrics, sums, {}, (), ())


def _series_table(
    req: ValidRequest, posts: list[Post], zero: _Zeroing, model: EngagementModel, now: datetime
) -> Table:
    """Hourly buckets of the window [req.start, req.end) for /28hr and /historical."""
    # Both are set for every request but /totals.
    assert req.start is not None
    assert req.end is not None
    count = max(int((req.end - req.start).total_seconds()) // HOUR_S, 0)
    days, hours = bucket_labels(req.start, count)
    start_s, now_s = req.start.timestamp(), now.timestamp()
    # On /historical, buckets before 2015-09-15 read 0 for favorites, replies, retweets.
    blanked = 0
    if req.endpoint is Endpoint.HISTORICAL:
        before = (LIMITS.historical_public_floor - req.start).total_seconds() // HOUR_S
        blanked = min(max(int(before), 0), count)
    buckets: dict[str, dict[str, list[int]]] = {}
    sums: dict[str, dict[str, int]] = {}
    for post in posts:
        key = str(post.id)
        rows: dict[str, list[int]] = {}
        zeroed = zero.metrics_of(post.id, req.metrics)
        for metric in req.metrics:
            if metric in zeroed:
                values = [0] * count
            else:
                values = model.buckets_at(post, metric, start_s, count, now_s)
                if blanked and metric in PUBLIC_FLOOR_METRICS:
                    values[:blanked] = [0] * blanked
            rows[metric] = values
        buckets[key] = rows
        sums[key] = {metric: sum(values) for metric, values in rows.items()}
    return Table(tuple(buckets), req.metrics, sums, buckets, days, hours)
