"""Which calls answer a query, and which numbers no call can give
(docs/simulator.md#choosing-an-endpoint).

Pure: the Posts' authors and creation times, the connected accounts and `now` are passed in.
The plan asks each endpoint only for what it serves, with the auth it accepts, in as few calls
as the batch and window limits allow:

    TOTAL       /totals (app-only pools every Post that needs only public metrics; an owner's
                token for impressions/engagements ≤ 90 days), and for owned metrics /totals
                cannot give, lifetime sums of /28hr or of /historical windows on a shared grid
    HOUR, DAY   /28hr when the range lies in its window, else consecutive ≤ 28-day /historical
                windows; a Post joins only the windows that end after it was created
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from itertools import chain

from bot.engagement.models import (
    ALL_METRICS,
    DAILY,
    HOURLY,
    LIMITS,
    PER_POST,
    PUBLIC_METRICS,
    SERIES_METRICS,
    TOTALS_METRICS,
    Endpoint,
    Grouping,
    Limits,
)
from bot.engagement.plan_text import describe
from bot.engagement.query import (
    EngagementQuery,
    Gap,
    Granularity,
    Plan,
    PlannedCall,
    PostInfo,
    Reason,
)
from bot.engagement.windows import (
    Window,
    backward_grid,
    ceil_hour,
    chunks,
    floor_day,
    floor_hour,
    forward_windows,
    older_than,
    recent_window,
    series_range,
    windows_needed,
)
from bot.engagement.wire.request import canonical_post_ids

__all__ = ["Route", "describe", "joined_at", "plan", "series_refusal", "total_route"]

# Pairs for which X only ever has the public numbers; everything else needs the owner.
PRIVATE_TOTALS_METRICS = TOTALS_METRICS - PUBLIC_METRICS


class Route(Enum):
    """Where a (Post, metric) of a TOTAL query comes from."""

    TOTALS = "totals"
    RECENT = "28hr"  # lifetime = the /28hr window, the Post being younger than it
    HISTORY = "historical"  # lifetime = sum of /historical windows since creation


@dataclass(frozen=True)
class _Context:
    posts: tuple[PostInfo, ...]  # canonical IDs, distinct, in query order
    metrics: tuple[str, ...]
    owners: AbstractSet[str]
    now: datetime
    limits: Limits
    max_lifetime_windows: int
    unknown_authors: AbstractSet[str] = frozenset()

    def owner(self, info: PostInfo) -> str | None:
        return info.author_id if info.author_id in self.owners else None

    def refusal(self, info: PostInfo, reason: Reason) -> Reason:
        """NOT_OWNED is a verdict on the author: for a Post whose author X would not name
        this time, it is only "unknown" (its connected author may well exist)."""
        unknown = reason is Reason.NOT_OWNED and info.post_id in self.unknown_authors
        return Reason.AUTHOR_UNKNOWN if unknown else reason

    def owner_order(self) -> list[str]:
        return list(dict.fromkeys(o for o in map(self.owner, self.posts) if o is not None))


def plan(
    query: EngagementQuery,
    *,
    posts: Mapping[str, PostInfo],
    owners: AbstractSet[str],
    now: datetime,
    limits: Limits = LIMITS,
    max_lifetime_windows: int = 14,
    unknown_authors: AbstractSet[str] = frozenset(),
) -> Plan:
    """The calls and gaps for `query`. `posts` must describe every Post (by canonical ID) and
    `owners` holds the user IDs of the connected accounts; `unknown_authors` are Posts whose
    author could not be learnt (what needs the owner is AUTHOR_UNKNOWN for them, never
    NOT_OWNED). ValueError for an unknown metric, an undescribed Post or an empty series
    range."""
    ctx = _Context(
        posts=_post_infos(query.post_ids, posts),
        metrics=_checked_metrics(query.metrics),
        owners=owners,
        now=now,
        limits=limits,
        max_lifetime_windows=max_lifetime_windows,
        unknown_authors=frozenset(canonical_post_ids(unknown_authors)),
    )
    if query.granularity is Granularity.TOTAL:
        calls, gaps = _plan_total(ctx)
        return Plan(query, calls, gaps)
    start, end = series_range(query.granularity, query.start, query.end, now=now, limits=limits)
    calls, gaps = _plan_series(ctx, query.granularity, (start, end))
    return Plan(query, calls, gaps, start, end)


def _post_infos(post_ids: Iterable[str], posts: Mapping[str, PostInfo]) -> tuple[PostInfo, ...]:
    ids = list(dict.fromkeys(canonical_post_ids(post_ids)))
    unknown = [i for i in ids if i not in posts]
    if unknown:
        raise ValueError(f"no PostInfo for Post(s) {', '.join(unknown)}")
    # Calls carry the canonical ID whatever spelling the PostInfo was built with.
    return tuple(_spelled(posts[i], i) for i in ids)


def _spelled(info: PostInfo, post_id: str) -> PostInfo:
    return info if info.post_id == post_id else replace(info, post_id=post_id)


def _checked_metrics(metrics: Iterable[str]) -> tuple[str, ...]:
    distinct = tuple(dict.fromkeys(metrics))
    unknown = [m for m in distinct if m not in ALL_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s): {', '.join(unknown)}")
    return distinct


# --- TOTAL ---------------------------------------------------------------------------------------


def total_route(
    info: PostInfo,
    metric: str,
    *,
    owned: bool,
    now: datetime,
    limits: Limits = LIMITS,
    max_lifetime_windows: int = 14,
) -> Route | Reason:
    """Where the lifetime total of `metric` for this Post comes from, or why it can't."""
    if metric == "video_views" and older_than(info.created_at, limits.video_views_max_age, now):
        return Reason.VIDEO_VIEWS_TOO_OLD
    if metric in PUBLIC_METRICS:
        return Route.TOTALS
    if not owned:
        return Reason.NOT_OWNED
    if metric in TOTALS_METRICS and not older_than(
        info.created_at, limits.impressions_max_age, now
    ):
        return Route.TOTALS
    return _lifetime_route(info.created_at, now, limits, max_lifetime_windows)


def _lifetime_route(
    created: datetime | None, now: datetime, limits: Limits, max_windows: int
) -> Route | Reason:
    # /historical starts at the floor: a sum from there would silently leave out the early part.
    if created is None or created < limits.historical_floor:
        return Reason.BEFORE_FLOOR
    if created >= recent_window(now, limits)[0]:
        return Route.RECENT
    step = limits.historical_max_window
    if windows_needed(floor_hour(created), ceil_hour(now), step) > max_windows:
        return Reason.TOO_LONG
    return Route.HISTORY


def _plan_total(ctx: _Context) -> tuple[tuple[PlannedCall, ...], tuple[Gap, ...]]:
    routes: dict[Route, dict[str, list[str]]] = {route: defaultdict(list) for route in Route}
    gaps: list[Gap] = []
    # The common case in one test per Post: an owned Post young enough for /totals to serve
    # every metric asked (what total_route would say metric by metric).
    on_totals = routes[Route.TOTALS]
    every_on_totals = all(m in PUBLIC_METRICS or m in TOTALS_METRICS for m in ctx.metrics)
    young = min(ctx.limits.impressions_max_age, ctx.limits.video_views_max_age)
    for info in ctx.posts:
        owned = ctx.owner(info) is not None
        created = info.created_at
        if every_on_totals and owned and created is not None and ctx.now - created <= young:
            on_totals[info.post_id] = list(ctx.metrics)
            continue
        for metric in ctx.metrics:
            route = total_route(
                info,
                metric,
                owned=owned,
                now=ctx.now,
                limits=ctx.limits,
                max_lifetime_windows=ctx.max_lifetime_windows,
            )
            if isinstance(route, Reason):
                gaps.append(Gap(info.post_id, metric, ctx.refusal(info, route)))
            else:
                routes[route][info.post_id].append(metric)
    app, by_owner = _totals_calls(ctx, routes[Route.TOTALS])
    _recent_lifetime_calls(ctx, routes[Route.RECENT], by_owner)
    _historical_lifetime_calls(ctx, routes[Route.HISTORY], by_owner)
    return _ordered(ctx, app, by_owner), tuple(gaps)


def _totals_calls(
    ctx: _Context, needs: Mapping[str, Sequence[str]]
) -> tuple[list[PlannedCall], dict[str, list[PlannedCall]]]:
    """The owner's token only where a private metric needs it; app-only pools all the rest."""
    by_owner: dict[str, list[PlannedCall]] = defaultdict(list)
    private: set[str] = set()
    for owner, infos in _by_owner(ctx, (i for i in ctx.posts if i.post_id in needs)).items():
        ids = [i.post_id for i in infos if not PRIVATE_TOTALS_METRICS.isdisjoint(needs[i.post_id])]
        private.update(ids)
        by_owner[owner] += _batches(ctx, Endpoint.TOTALS, owner, ids, needs, PER_POST)
    app_ids = [i.post_id for i in ctx.posts if i.post_id in needs and i.post_id not in private]
    app = _batches(ctx, Endpoint.TOTALS, None, app_ids, needs, PER_POST)
    return app, by_owner


def _recent_lifetime_calls(
    ctx: _Context, needs: Mapping[str, Sequence[str]], by_owner: dict[str, list[PlannedCall]]
) -> None:
    for owner, infos in _by_owner(ctx, (i for i in ctx.posts if i.post_id in needs)).items():
        ids = [i.post_id for i in infos]
        calls = _batches(ctx, Endpoint.HOURLY_28HR, owner, ids, needs, PER_POST, lifetime=True)
        by_owner[owner] += calls


def _historical_lifetime_calls(
    ctx: _Context, needs: Mapping[str, Sequence[str]], by_owner: dict[str, list[PlannedCall]]
) -> None:
    """Every Post's life [floor_hour(created), E) on one grid of 28-day windows ending at E."""
    infos = [i for i in ctx.posts if i.post_id in needs]
    born = {i.post_id: floor_hour(i.created_at) for i in infos if i.created_at is not None}
    end, step = ceil_hour(ctx.now), ctx.limits.historical_max_window
    count = max((windows_needed(b, end, step) for b in born.values()), default=0)
    groups = _by_owner(ctx, infos)
    for window in backward_grid(end, step, count):
        for owner, members in groups.items():
            alive = [i.post_id for i in members if born[i.post_id] < window[1]]
            for batch in chunks(alive, Endpoint.HISTORICAL.max_posts):
                # No Post of the batch existed before its earliest creation hour.
                start = max(window[0], min(born[p] for p in batch))
                call = _call(ctx, Endpoint.HISTORICAL, owner, batch, needs, PER_POST)
                by_owner[owner].append(_windowed(call, (start, window[1]), lifetime=True))


# --- HOUR and DAY --------------------------------------------------------------------------------


def series_refusal(
    info: PostInfo, metric: str, *, owned: bool, now: datetime, limits: Limits = LIMITS
) -> Reason | None:
    """Why no endpoint gives this Post's series of `metric`, or None when one does."""
    if metric not in SERIES_METRICS:
        return Reason.NOT_SERVED  # quote_tweets: connecting the author would not help
    if not owned:
        return Reason.NOT_OWNED
    if metric == "video_views" and older_than(info.created_at, limits.video_views_max_age, now):
        return Reason.VIDEO_VIEWS_TOO_OLD
    return None


def joined_at(info: PostInfo, granularity: Granularity) -> datetime | None:
    """The first bucket that can hold the Post's engagement; None (pre-snowflake) = any."""
    if info.created_at is None:
        return None
    return (
        floor_day(info.created_at)
        if granularity is Granularity.DAY
        else floor_hour(info.created_at)
    )


def _plan_series(
    ctx: _Context, granularity: Granularity, window: Window
) -> tuple[tuple[PlannedCall, ...], tuple[Gap, ...]]:
    needs: dict[str, list[str]] = defaultdict(list)
    gaps: list[Gap] = []
    for info in ctx.posts:
        owned = ctx.owner(info) is not None
        for metric in ctx.metrics:
            reason = series_refusal(info, metric, owned=owned, now=ctx.now, limits=ctx.limits)
            if reason is None:
                needs[info.post_id].append(metric)
            else:
                gaps.append(Gap(info.post_id, metric, ctx.refusal(info, reason)))
    grouping = HOURLY if granularity is Granularity.HOUR else DAILY
    recent = window[0] >= recent_window(ctx.now, ctx.limits)[0]
    endpoint = Endpoint.HOURLY_28HR if recent else Endpoint.HISTORICAL
    windows = [window] if recent else forward_windows(*window, ctx.limits.historical_max_window)
    infos = [i for i in ctx.posts if i.post_id in needs]
    by_owner: dict[str, list[PlannedCall]] = defaultdict(list)
    groups = _by_owner(ctx, infos)
    for start, end in windows:
        for owner, members in groups.items():
            # A window that ends before the Post existed holds only zeros for it.
            alive = [i.post_id for i in members if _alive_before(i, granularity, end)]
            for batch in chunks(alive, endpoint.max_posts):
                call = _call(ctx, endpoint, owner, batch, needs, grouping)
                # /28hr takes no start/end: its window is fixed, and the aggregate slices it.
                by_owner[owner].append(call if recent else _windowed(call, (start, end)))
    return _ordered(ctx, [], by_owner), tuple(gaps)


def _alive_before(info: PostInfo, granularity: Granularity, end: datetime) -> bool:
    joined = joined_at(info, granularity)
    return joined is None or joined < end


# --- Shared --------------------------------------------------------------------------------------


def _by_owner(ctx: _Context, infos: Iterable[PostInfo]) -> dict[str, list[PostInfo]]:
    """Owned Posts grouped by their owner; never mix owners in one user-context call."""
    groups: dict[str, list[PostInfo]] = defaultdict(list)
    for info in infos:
        owner = ctx.owner(info)
        if owner is not None:
            groups[owner].append(info)
    return groups


def _batches(
    ctx: _Context,
    endpoint: Endpoint,
    owner: str | None,
    post_ids: Sequence[str],
    needs: Mapping[str, Sequence[str]],
    grouping: Grouping,
    *,
    lifetime: bool = False,
) -> list[PlannedCall]:
    return [
        _call(ctx, endpoint, owner, batch, needs, grouping, lifetime=lifetime)
        for batch in chunks(post_ids, endpoint.max_posts)
    ]


def _call(
    ctx: _Context,
    endpoint: Endpoint,
    owner: str | None,
    batch: tuple[str, ...],
    needs: Mapping[str, Sequence[str]],
    grouping: Grouping,
    *,
    lifetime: bool = False,
) -> PlannedCall:
    """One call asking for every metric some Post of the batch needs, in query order."""
    wanted = set(chain.from_iterable(map(needs.__getitem__, batch)))
    metrics = tuple(m for m in ctx.metrics if m in wanted)
    return PlannedCall(endpoint, owner, batch, metrics, grouping, lifetime=lifetime)


def _windowed(call: PlannedCall, window: Window, *, lifetime: bool = False) -> PlannedCall:
    return replace(call, start=window[0], end=window[1], lifetime=lifetime)


def _ordered(
    ctx: _Context, app: list[PlannedCall], by_owner: Mapping[str, list[PlannedCall]]
) -> tuple[PlannedCall, ...]:
    """App-only first, then each owner in order of first appearance in the query."""
    return (*app, *(call for owner in ctx.owner_order() for call in by_owner.get(owner, [])))
