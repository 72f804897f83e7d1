"""The direct path of aggregate() for plans of /totals calls only: each (Post, metric) then has
exactly one window, so its number is read straight from the [tweet.id, engagement.type] tree X
sent, with no Cell, piece or window index in between.

Same rules, same Report as the general path (tests/engagement/test_direct_totals.py compares
the two over random plans and outcomes); a result it cannot read directly (another grouping
shape) sends the whole plan back to the general path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from datetime import datetime

from bot.engagement.models import PUBLIC_METRICS, Endpoint, EngagementResult, MissingReason
from bot.engagement.query import Plan, PlannedCall, Reason, Report, Value

# What one call said of a Post's metric: its count, or why there is none.
_Piece = int | Reason
_REASONS = {m: Reason(m.value) for m in MissingReason}


def direct_totals(
    plan: Plan,
    post_ids: Iterable[str],
    results: Sequence[tuple[PlannedCall, EngagementResult]],
    *,
    failed: Sequence[PlannedCall],
    timed_out: Sequence[PlannedCall],
    not_owned: AbstractSet[str],
    protected: AbstractSet[str],
    now: datetime,
) -> Report | None:
    """aggregate()'s Report, or None: the plan needs the general path. `post_ids`: the
    query's canonical, distinct Post IDs in order."""
    if any(call.endpoint is not Endpoint.TOTALS for call in plan.calls):
        return None
    pieces = _pieces(results)
    if pieces is None:
        return None
    unanswered = _unanswered(failed, timed_out)
    planned = _planned_metrics(plan.calls)
    gaps = {(gap.post_id, gap.metric): gap.reason for gap in plan.gaps}
    with_gaps = {post_id for post_id, _ in gaps}
    metrics = tuple(dict.fromkeys(plan.query.metrics))
    totals: dict[str, dict[str, Value]] = {}
    missing: dict[tuple[str, str], Reason] = {}
    nothing: Mapping[str, _Piece] = {}
    made: dict[int, Value] = {}  # one Value per distinct count: they are immutable
    covers: dict[frozenset[str], bool] = {}  # a call's metrics: all the query's?
    for post_id in post_ids:
        values: dict[str, Value] = {}
        said = pieces.get(post_id) or nothing
        asked = planned.get(post_id, frozenset())
        dropped = post_id in not_owned
        plain = not dropped and post_id not in protected and post_id not in with_gaps
        if plain and (covers.get(asked) or covers.setdefault(asked, asked.issuperset(metrics))):
            for metric in metrics:  # the common case: each count as X sent it
                piece = said.get(metric)
                if type(piece) is not int:
                    break
                value = made.get(piece)
                if value is None:
                    value = made[piece] = Value(piece)
                values[metric] = value
            else:
                totals[post_id] = values
                continue
            values = {}
        for metric in metrics:
            piece = said.get(metric)
            if piece is None:
                piece = unanswered.get(post_id, nothing).get(metric)
            outcome = _resolve(post_id, metric, piece, asked, dropped, protected, gaps)
            if isinstance(outcome, Reason):
                values[metric] = Value(None, outcome)
                missing[(post_id, metric)] = outcome
            else:
                values[metric] = Value(outcome)
        totals[post_id] = values
    calls_made = len(results) + len(failed) + len(timed_out)
    return Report(plan.query, totals=totals, missing=missing, calls_made=calls_made, fetched_at=now)


def _unanswered(
    failed: Sequence[PlannedCall], timed_out: Sequence[PlannedCall]
) -> dict[str, dict[str, _Piece]]:
    """Why calls left a Post's metric without an answer (read only where no answered call
    said anything)."""
    unanswered: dict[str, dict[str, _Piece]] = {}
    for calls, reason in ((failed, Reason.FAILED), (timed_out, Reason.TIMED_OUT)):
        for call in calls:
            for post_id in call.post_ids:
                reasons = unanswered.setdefault(post_id, {})
                for metric in call.metrics:
                    reasons.setdefault(metric, reason)
    return unanswered


def _pieces(
    results: Sequence[tuple[PlannedCall, EngagementResult]],
) -> dict[str, Mapping[str, _Piece]] | None:
    """Per Post and metric, what the answered calls said (a later call's word wins). The
    dicts may be X's own tree levels: read, never written."""
    pieces: dict[str, Mapping[str, _Piece]] = {}
    for call, result in results:
        tree = result.per_post_tree()
        if tree is None:
            return None
        sent = set(result.request.post_ids)
        flagged = result.not_available_ids
        metrics = frozenset(call.metrics)
        empty: Mapping[str, int] = {}
        for post_id in call.post_ids:
            if post_id not in sent:
                continue  # dropped by the executor (403 or protected): the sets say why
            counts = tree.get(post_id, empty)
            said: Mapping[str, _Piece]
            if post_id not in flagged and counts.keys() == metrics:
                said = counts  # every metric of the call, and no other: as X sent it
            else:
                said = {metric: _piece(result, post_id, metric, counts) for metric in metrics}
            before = pieces.get(post_id)
            pieces[post_id] = said if before is None else {**before, **said}
    return pieces


def _piece(
    result: EngagementResult, post_id: str, metric: str, counts: Mapping[str, int]
) -> _Piece:
    why = result.missing_reason(post_id, metric)
    if why is not None:
        return _REASONS[why]
    # Neither listed as missing nor present: X did not know the Post.
    return counts.get(metric, Reason.UNAVAILABLE)


def _planned_metrics(calls: Sequence[PlannedCall]) -> dict[str, frozenset[str]]:
    planned: dict[str, frozenset[str]] = {}
    for call in calls:
        metrics = frozenset(call.metrics)
        for post_id in call.post_ids:
            before = planned.get(post_id)
            planned[post_id] = metrics if before is None else before | metrics
    return planned


def _resolve(
    post_id: str,
    metric: str,
    piece: _Piece | None,
    asked: AbstractSet[str],
    dropped: bool,
    protected: AbstractSet[str],
    gaps: Mapping[tuple[str, str], Reason],
) -> _Piece:
    """The pair's count or why it has none: the general path's rules (aggregate._resolve) for
    one /totals window."""
    if post_id in protected:
        return Reason.PROTECTED  # X refuses every number of a protected Post, owner or not
    if (post_id, metric) in gaps:
        return gaps[(post_id, metric)]
    if dropped and metric not in PUBLIC_METRICS:
        return Reason.NOT_OWNED
    if metric not in asked:
        return Reason.FAILED  # the plan has no call for it; never silently a zero
    if piece is None:
        return Reason.NOT_OWNED if dropped else Reason.FAILED
    return piece
