"""A plan in words, for `engagement-bot query --explain`: what each call asks, and what no call
will fetch and why. Pure; reads only the plan, so it prints no secret (owners are user IDs)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from bot.engagement.models import Endpoint
from bot.engagement.query import Plan, PlannedCall, Reason, explain

_SHOWN_IDS = 3
_SHOWN_POSTS = 5


def describe(plan: Plan) -> list[str]:
    """The plan for people: one line per call, then the gaps by reason, then the call count."""
    lines = [_describe_call(call) for call in plan.calls]
    by_reason: dict[Reason, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for gap in plan.gaps:
        by_reason[gap.reason][gap.post_id].append(gap.metric)
    for reason in Reason:
        if reason in by_reason:
            lines.append(_describe_gaps(reason, by_reason[reason]))
    count = len(plan.calls)
    lines.append(f"{count} call{'' if count == 1 else 's'}")
    return lines


def _describe_call(call: PlannedCall) -> str:
    auth = "app-only" if call.owner is None else f"owner {call.owner}"
    ids = ", ".join(call.post_ids[:_SHOWN_IDS])
    if len(call.post_ids) > _SHOWN_IDS:
        ids += ", …"
    count = len(call.post_ids)
    parts = [
        f"POST {call.endpoint.path}",
        auth,
        f"{count} Post{'' if count == 1 else 's'} ({ids})",
        ", ".join(call.metrics),
        call.grouping.name,
    ]
    if call.start is not None and call.end is not None:
        parts.append(f"{call.start:%Y-%m-%d %H:%M} → {call.end:%Y-%m-%d %H:%M} UTC")
    elif call.endpoint is Endpoint.HOURLY_28HR:
        parts.append("last 28 hours")
    if call.lifetime:
        parts.append("summed into lifetime totals")
    return " | ".join(parts)


def _describe_gaps(reason: Reason, metrics_by_post: Mapping[str, list[str]]) -> str:
    pairs = sum(len(metrics) for metrics in metrics_by_post.values())
    posts = list(metrics_by_post.items())
    shown = "; ".join(f"{post_id}: {', '.join(ms)}" for post_id, ms in posts[:_SHOWN_POSTS])
    if len(posts) > _SHOWN_POSTS:
        shown += f"; … {len(posts) - _SHOWN_POSTS} more Posts"
    return f"not fetched ({pairs}), {explain(reason)} [{reason}]: {shown}"
