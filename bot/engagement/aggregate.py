"""Results of a plan's calls merged into one Report (docs/simulator.md#not-available-is-not-zero,
#long-windows).

Pure: the plan, the results paired with the calls that produced them, and what the executor
learnt on the way (failed calls, Posts X refused as not owned or protected) go in; a Report
comes out. Every (Post, metric) of the query ends up with a number or a Reason:

    /totals              the Post's value
    lifetime windows     the sum of its PER_POST values over every window of the plan
    series windows       the buckets of every window, concatenated and sliced to plan.start/end;
                         buckets no window asked for lie before the Post existed, so they are 0

Pieces are matched to the plan by window (endpoint, start, end, lifetime) rather than by call,
so an executor may re-batch or drop IDs; a window the plan needs that nobody answered is FAILED.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import cast

from bot.engagement.direct_totals import direct_totals
from bot.engagement.models import PUBLIC_METRICS, Endpoint, EngagementResult
from bot.engagement.query import (
    TRANSIENT,
    Granularity,
    Plan,
    PlannedCall,
    Reason,
    Report,
    Value,
)
from bot.engagement.windows import (
    DAY,
    creation,
    day_buckets,
    ended_before,
    hour_buckets,
    midnight,
)
from bot.engagement.wire.request import canonical_post_ids

Bucket = datetime | date
Pair = tuple[str, str]  # (post ID, metric)
WindowKey = tuple[Endpoint, datetime | None, datetime | None, bool]


@dataclass(frozen=True)
class _Piece:
    """What one window said about one (Post, metric): a count, buckets, or why neither."""

    count: int | None = None
    buckets: Mapping[Bucket, int | None] | None = None
    reason: Reason | None = None


def window_key(call: PlannedCall) -> WindowKey:
    return call.endpoint, call.start, call.end, call.lifetime


def aggregate(
    plan: Plan,
    results: Sequence[tuple[PlannedCall, EngagementResult]],
    *,
    failed: Sequence[PlannedCall] = (),
    timed_out: Sequence[PlannedCall] = (),
    not_owned: AbstractSet[str] = frozenset(),
    protected: AbstractSet[str] = frozenset(),
    now: datetime,
) -> Report:
    """The Report for `plan` from its calls' results (and the calls that failed after retries,
    or that X had not answered by the deadline: `timed_out`).

    `not_owned`: Posts X refused under their supposed owner's token (403); `protected`: Posts X
    refused as protected. `now` is when the results were fetched.
    """
    if plan.query.granularity is Granularity.TOTAL:
        post_ids = dict.fromkeys(canonical_post_ids(plan.query.post_ids))
        direct = direct_totals(
            plan,
            post_ids,
            results,
            failed=failed,
            timed_out=timed_out,
            not_owned=not_owned,
            protected=protected,
            now=now,
        )
        if direct is not None:
            return direct
    return aggregate_general(
        plan,
        results,
        failed=failed,
        timed_out=timed_out,
        not_owned=not_owned,
        protected=protected,
        now=now,
    )


def aggregate_general(
    plan: Plan,
    results: Sequence[tuple[PlannedCall, EngagementResult]],
    *,
    failed: Sequence[PlannedCall] = (),
    timed_out: Sequence[PlannedCall] = (),
    not_owned: AbstractSet[str] = frozenset(),
    protected: AbstractSet[str] = frozenset(),
    now: datetime,
) -> Report:
    """aggregate() for any plan, by window: what a plan of /totals calls only gets from
    bot.engagement.direct_totals in one pass."""
    granularity = plan.query.granularity
    pieces = _pieces(granularity, results, failed, timed_out)
    needed = _needed_windows(plan)
    gaps = {(gap.post_id, gap.metric): gap.reason for gap in plan.gaps}
    found: dict[Pair, list[tuple[WindowKey, _Piece]]] = {}
    missing: dict[Pair, Reason] = {}
    for pair in query_pairs(plan):
        keys = needed.get(pair, [])
        outcome = _resolve(pair, keys, pieces, gaps, granularity, not_owned, protected)
        if isinstance(outcome, Reason):
            missing[pair] = outcome
        else:
            found[pair] = outcome
    calls_made = len(results) + len(failed) + len(timed_out)
    if granularity is Granularity.TOTAL:
        totals = _totals(plan, found, missing)
        return Report(
            plan.query, totals=totals, missing=missing, calls_made=calls_made, fetched_at=now
        )
    series = _series(plan, found)
    for pair in found:
        if pair[1] not in series.get(pair[0], {}):
            missing[pair] = Reason.NOT_RECORDED
    missing = {pair: missing[pair] for pair in query_pairs(plan) if pair in missing}
    return Report(plan.query, series=series, missing=missing, calls_made=calls_made, fetched_at=now)


def query_pairs(plan: Plan) -> list[Pair]:
    """Every (Post, metric) the query asks for: canonical IDs and metrics, distinct, in order."""
    post_ids = dict.fromkeys(canonical_post_ids(plan.query.post_ids))
    metrics = dict.fromkeys(plan.query.metrics)
    return [(post_id, metric) for post_id in post_ids for metric in metrics]


def _needed_windows(plan: Plan) -> dict[Pair, list[WindowKey]]:
    """The windows each pair's number comes from.

    A call asks every metric some Post of it needs, so a pair may ride along in a call that is
    not its source: a Post whose impressions come from /totals can share lifetime windows with
    one whose impressions must be summed. /totals, where present, is the source.
    """
    needed: dict[Pair, list[WindowKey]] = defaultdict(list)
    for call in plan.calls:
        key = window_key(call)
        for post_id in call.post_ids:
            for metric in call.metrics:
                if key not in needed[(post_id, metric)]:
                    needed[(post_id, metric)].append(key)
    for pair, keys in needed.items():
        on_totals = [key for key in keys if key[0] is Endpoint.TOTALS]
        if on_totals:
            needed[pair] = on_totals
    return needed


def _pieces(
    granularity: Granularity,
    results: Sequence[tuple[PlannedCall, EngagementResult]],
    failed: Sequence[PlannedCall],
    timed_out: Sequence[PlannedCall] = (),
) -> dict[tuple[str, str, WindowKey], _Piece]:
    pieces: dict[tuple[str, str, WindowKey], _Piece] = {}
    for call, result in results:
        key = window_key(call)
        sent = set(result.request.post_ids)
        for post_id in call.post_ids:
            if post_id not in sent:
                continue  # dropped by the executor (403 or protected): the sets say why
            for metric in call.metrics:
                pieces[(post_id, metric, key)] = _piece(granularity, result, post_id, metric)
    for calls, reason in ((failed, Reason.FAILED), (timed_out, Reason.TIMED_OUT)):
        for call in calls:
            key = window_key(call)
            for post_id in call.post_ids:
                for metric in call.metrics:
                    pieces.setdefault((post_id, metric, key), _Piece(reason=reason))
    return pieces


def _piece(granularity: Granularity, result: EngagementResult, post_id: str, metric: str) -> _Piece:
    missing = result.missing_reason(post_id, metric)
    if missing is not None:
        return _Piece(reason=Reason(missing.value))
    if granularity is not Granularity.TOTAL:
        read = result.hourly if granularity is Granularity.HOUR else result.daily
        # A new dict each call: kept as it is, not copied.
        return _Piece(buckets=cast(Mapping[Bucket, int | None], read(post_id, metric)))
    count = result.value(post_id, metric)
    # Neither listed as missing nor present: X did not know the Post.
    return _Piece(count=count) if count is not None else _Piece(reason=Reason.UNAVAILABLE)


def _resolve(
    pair: Pair,
    keys: list[WindowKey],
    pieces: Mapping[tuple[str, str, WindowKey], _Piece],
    gaps: Mapping[Pair, Reason],
    granularity: Granularity,
    not_owned: AbstractSet[str],
    protected: AbstractSet[str],
) -> Reason | list[tuple[WindowKey, _Piece]]:
    post_id, metric = pair
    if post_id in protected:
        return Reason.PROTECTED  # X refuses every number of a protected Post, owner or not
    if pair in gaps:
        return gaps[pair]
    dropped = post_id in not_owned
    if dropped and (granularity is not Granularity.TOTAL or metric not in PUBLIC_METRICS):
        return Reason.NOT_OWNED
    if granularity is Granularity.TOTAL and not keys:
        return Reason.FAILED  # the plan has no call for it; never silently a zero
    found = [(key, pieces.get((post_id, metric, key))) for key in keys]
    if any(piece is None for _, piece in found):
        return Reason.NOT_OWNED if dropped else Reason.FAILED
    reasons = [piece.reason for _, piece in found if piece is not None and piece.reason]
    if reasons:
        # A reason X gave (e.g. unavailable) says more than one of our failures.
        return min(reasons, key=lambda r: r in TRANSIENT)
    return [(key, piece) for key, piece in found if piece is not None]


def _totals(
    plan: Plan, found: Mapping[Pair, list[tuple[WindowKey, _Piece]]], missing: Mapping[Pair, Reason]
) -> dict[str, dict[str, Value]]:
    totals: dict[str, dict[str, Value]] = {}
    for pair in query_pairs(plan):
        if pair in missing:
            value = Value(None, missing[pair])
        else:  # one /totals piece, or one piece per lifetime window to add up
            value = Value(sum(piece.count or 0 for _, piece in found[pair]))
        totals.setdefault(pair[0], {})[pair[1]] = value
    return totals


def _series(
    plan: Plan, found: Mapping[Pair, list[tuple[WindowKey, _Piece]]]
) -> dict[str, dict[str, dict[Bucket, int | None]]]:
    """Every bucket of plan.start..plan.end for each pair found; a pair whose every bucket X
    reports as not recorded is left out (the caller lists it as missing)."""
    assert plan.start is not None, "a series plan has a range"
    assert plan.end is not None, "a series plan has a range"
    expected: list[Bucket]
    if plan.query.granularity is Granularity.HOUR:
        expected = [*hour_buckets(plan.start, plan.end)]
    else:
        expected = [*day_buckets(plan.start, plan.end)]
    coverage: dict[WindowKey, list[Bucket]] = {}
    series: dict[str, dict[str, dict[Bucket, int | None]]] = {}
    for (post_id, metric), pieces in found.items():
        for key, _ in pieces:
            if key not in coverage:
                coverage[key] = [b for b in expected if _covers(key, b)]
        values = _merged(pieces, expected, coverage)
        if not values or any(v is not None for v in values.values()):
            series.setdefault(post_id, {})[metric] = values
    return series


def _covers(key: WindowKey, bucket: Bucket) -> bool:
    endpoint, start, end, _ = key
    if endpoint is Endpoint.HOURLY_28HR:
        return True  # the plan chose /28hr because its window holds the whole range
    if start is None or end is None:
        return False
    if isinstance(bucket, datetime):
        return start <= bucket < end
    return midnight(bucket) < end and midnight(bucket) + DAY > start


def _merged(
    pieces: list[tuple[WindowKey, _Piece]],
    expected: list[Bucket],
    coverage: Mapping[WindowKey, list[Bucket]],
) -> dict[Bucket, int | None]:
    if len(pieces) == 1 and len(coverage[pieces[0][0]]) == len(expected):
        buckets = pieces[0][1].buckets or {}  # one window over the whole range: as X sent it
        if len(buckets) == len(expected) and list(buckets) == expected:
            return dict(buckets)  # every bucket, in order (the usual /28hr answer)
        return {bucket: buckets.get(bucket) for bucket in expected}
    covered = [bucket for key, _ in pieces for bucket in coverage[key]]
    if len(covered) == len(set(covered)):  # no bucket in two windows: nothing to add up
        joined: dict[Bucket, int | None] = dict.fromkeys(expected, 0)  # 0: see below
        for key, piece in pieces:
            buckets, cover = piece.buckets or {}, coverage[key]
            joined.update(zip(cover, map(buckets.get, cover), strict=True))
        return joined
    parts: dict[Bucket, list[int | None]] = defaultdict(list)
    for key, piece in pieces:
        buckets = piece.buckets or {}
        for bucket in coverage[key]:
            parts[bucket].append(buckets.get(bucket))
    merged: dict[Bucket, int | None] = {}
    for bucket in expected:
        if bucket not in parts:
            merged[bucket] = 0  # the plan skips only windows that end before the Post existed
            continue
        # A day split across two windows adds up; None = X says it has no number.
        known = [v for v in parts[bucket] if v is not None]
        merged[bucket] = sum(known) if known else None
    return merged


def blank_unborn(report: Report) -> Report:
    """`report` with every bucket that ended before its Post was created set to None: the Post
    didn't exist, so tables, CSV and charts show nothing there rather than a zero. (Applied to
    what a person reads, not to what is stored: stored zeros keep settled hours complete.)"""
    if not report.series:
        return report
    series = {post: _blanked(metrics, creation(post)) for post, metrics in report.series.items()}
    return replace(report, series=series)


def _blanked(
    metrics: Mapping[str, Mapping[Bucket, int | None]], created: datetime | None
) -> dict[str, Mapping[Bucket, int | None]]:
    if created is None:  # a pre-snowflake Post: nothing to blank
        return dict(metrics)
    unborn = _Unborn(created)  # the Post's metrics share their buckets: each asked once
    return {
        metric: buckets
        if not buckets or not unborn[min(buckets)]  # the usual case: all born
        else {b: None if unborn[b] else v for b, v in buckets.items()}
        for metric, buckets in metrics.items()
    }


class _Unborn(dict[Bucket, bool]):
    """Whether each bucket ended before `created` (windows.ended_before), found once."""

    def __init__(self, created: datetime) -> None:
        super().__init__()
        self._created = created

    def __missing__(self, bucket: Bucket) -> bool:
        unborn = self[bucket] = ended_before(bucket, self._created)
        return unborn
