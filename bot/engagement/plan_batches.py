"""A large plan cut into batches that are run, merged and saved one after the other, so a
refresh holds X's answers for one batch at a time: peak memory is set by the batch size, not
by the number of Posts.

A batch is a run of the plan's calls in order, closed after at least `max_calls` calls at the
first point where none of its Posts appears in a later call: each Post's calls (its lifetime
windows too) stay together, so each batch's Report is complete for its Posts, and no call is
added (the plan's calls, `calls == lower bound`, are kept as they are).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from bot.engagement.query import Plan, PlannedCall
from bot.engagement.wire.request import canonical_post_ids

# 40 calls: 10,000 Posts of /totals, 1,000 Posts of /28hr series.
BATCH_CALLS = 40


def batches(plan: Plan, max_calls: int = BATCH_CALLS) -> Iterator[Plan]:
    """The plan as batches; one batch (the plan itself) when it is small. Posts with no call
    (only gaps) go with the last batch."""
    if len(plan.calls) <= max_calls:
        yield plan
        return
    last_call = {post_id: i for i, call in enumerate(plan.calls) for post_id in call.post_ids}
    index = {p: n for n, p in enumerate(dict.fromkeys(canonical_post_ids(plan.query.post_ids)))}
    placed: set[str] = set()
    group: list[PlannedCall] = []
    reach = -1
    final = len(plan.calls) - 1
    for i, call in enumerate(plan.calls):
        group.append(call)
        reach = max(reach, max((last_call[p] for p in call.post_ids), default=i))
        if (len(group) >= max_calls and reach == i) or i == final:
            posts = {p for c in group for p in c.post_ids if p in index}
            placed |= posts
            if i == final:
                posts |= index.keys() - placed
            yield _part(plan, group, sorted(posts, key=index.__getitem__))
            group = []


def _part(plan: Plan, calls: list[PlannedCall], post_ids: list[str]) -> Plan:
    posts = set(post_ids)
    return replace(
        plan,
        query=replace(plan.query, post_ids=tuple(post_ids)),
        calls=tuple(calls),
        gaps=tuple(g for g in plan.gaps if g.post_id in posts),
    )
