"""A large plan cut into batches that are merged and saved one after the other while the next
one's calls are in flight (bot.engagement.fetch), so a refresh holds X's answers for two batches
at most: peak memory is set by the batch size, not by the number of Posts.

A batch is a run of the plan's calls in order, closed after at least `max_calls` calls at the
first point where none of its Posts appears in a later call: each Post's calls (its lifetime
windows too) stay together, so each batch's Report is complete for its Posts, and no call is
added (the plan's calls, `calls == lower bound`, are kept as they are).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from bot.engagement.query import Gap, Plan, PlannedCall
from bot.engagement.wire.request import canonical_post_ids

# At most 40 calls a batch (memory: 10,000 Posts of /totals, 1,000 Posts of /28hr series),
# and for smaller plans about a quarter of the calls, at least MIN_BATCH_CALLS: the fetcher
# saves one batch while the next one's calls are in flight, so a 5,000-Post query is saved
# mostly while X is still answering instead of all after.
BATCH_CALLS = 40
MIN_BATCH_CALLS = 2
_PIPELINE_BATCHES = 4


def batch_calls(calls: int) -> int:
    """How many calls a batch of a plan of `calls` calls holds."""
    return max(MIN_BATCH_CALLS, min(BATCH_CALLS, math.ceil(calls / _PIPELINE_BATCHES)))


def batches(plan: Plan, max_calls: int | None = None) -> Iterator[Plan]:
    """The plan as batches of about `max_calls` calls (default: batch_calls); one batch (the
    plan itself) when it is small. Posts with no call (only gaps) go with the last batch."""
    if max_calls is None:
        max_calls = batch_calls(len(plan.calls))
    if len(plan.calls) <= max_calls:
        yield plan
        return
    last_call = {post_id: i for i, call in enumerate(plan.calls) for post_id in call.post_ids}
    ends = _ends(plan.calls, last_call, max_calls)
    group_of_call = [g for g, (first, end) in enumerate(_spans(ends)) for _ in range(first, end)]
    # Each Post goes with its calls' batch (its last call's: they are all in one), in query
    # order: one pass over the Posts, whatever the number of batches.
    final = len(ends) - 1
    members: list[list[str]] = [[] for _ in ends]
    group_of: dict[str, int] = {}
    for post_id in dict.fromkeys(canonical_post_ids(plan.query.post_ids)):
        call = last_call.get(post_id)
        group = final if call is None else group_of_call[call]
        members[group].append(post_id)
        group_of[post_id] = group
    gaps: list[list[Gap]] = [[] for _ in ends]
    for gap in plan.gaps:
        if (batch := group_of.get(gap.post_id)) is not None:
            gaps[batch].append(gap)
    for group, (first, end) in enumerate(_spans(ends)):
        yield replace(
            plan,
            query=replace(plan.query, post_ids=tuple(members[group])),
            calls=plan.calls[first:end],
            gaps=tuple(gaps[group]),
        )


def _ends(calls: Sequence[PlannedCall], last_call: Mapping[str, int], max_calls: int) -> list[int]:
    """Where each batch ends (the index after its last call): after at least `max_calls`
    calls, at the first call after which none of the batch's Posts has another call."""
    # The common case (/totals): each Post in one call, so no call reaches past itself.
    once = sum(len(call.post_ids) for call in calls) == len(last_call)
    ends: list[int] = []
    first = 0
    reach = -1
    for i, call in enumerate(calls):
        if not once:
            reach = max(reach, max((last_call[p] for p in call.post_ids), default=i))
        if (i + 1 - first >= max_calls and (once or reach == i)) or i == len(calls) - 1:
            ends.append(i + 1)
            first = i + 1
    return ends


def _spans(ends: list[int]) -> list[tuple[int, int]]:
    return list(zip([0, *ends[:-1]], ends, strict=True))
