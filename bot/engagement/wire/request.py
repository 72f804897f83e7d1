"""Requests as the JSON the engagement endpoints take (docs/simulator.md#request-bodies)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from bot.engagement.models import (
    ALL_METRICS,
    FOUR_VALUE_ORDERS,
    LIMITS,
    MAX_GROUPINGS,
    TIME_GROUP_BYS,
    Endpoint,
    EngagementRequest,
    GroupBy,
    Grouping,
    metrics_for,
)
from bot.engagement.snowflake import MAX_POST_ID

UNAVAILABLE_IDS = "unavailable_tweet_ids"
IMPRESSIONS_UNSUPPORTED_IDS = "unsupported_for_impressions_engagements_tweet_ids"
VIDEO_VIEWS_UNSUPPORTED_IDS = "unsupported_for_video_views_tweet_ids"
# Top-level response keys a grouping name may not take.
RESERVED_KEYS = frozenset(
    {
        "start",
        "end",
        "errors",
        UNAVAILABLE_IDS,
        IMPRESSIONS_UNSUPPORTED_IDS,
        VIDEO_VIEWS_UNSUPPORTED_IDS,
    }
)
_DIGITS = re.compile(r"[0-9]{1,19}")
_MAX_TEXT = str(MAX_POST_ID)


def canonical_post_id(value: str | int) -> str:
    """A Post ID as canonical decimal (no leading zeros); ValueError if it is not one."""
    if isinstance(value, str) and plainly_canonical(value):
        return value
    if isinstance(value, bool):  # bool is an int, and never a Post ID
        raise ValueError(f"invalid Post ID: {value!r}")
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        raise ValueError(f"invalid Post ID: {value!r}")
    if not 1 <= number <= MAX_POST_ID:
        raise ValueError(f"invalid Post ID: {value!r}")
    return str(number)


def canonical_post_ids(values: Iterable[str | int]) -> list[str]:
    """canonical_post_id of each, in order. A refresh passes 100,000 IDs several times, nearly
    always canonical already: that is checked with a few operations over them all, and only
    otherwise ID by ID."""
    given = list(values)
    strings = cast(list[str], given)  # checked by the join: it takes nothing else
    try:
        joined = "\n".join(strings)
    except TypeError:
        joined = ""
    if joined and _all_plainly_canonical(strings, joined):
        return strings
    return [canonical_post_id(v) for v in given]


def _all_plainly_canonical(ids: list[str], joined: str) -> bool:
    """plainly_canonical for every one of `ids` (`joined`: them joined by line breaks), as a
    few string operations over them all."""
    digits = joined.replace("\n", "")
    lines = f"\n{joined}\n"
    return (
        digits.isascii()
        and digits.isdigit()
        and len(digits) + len(ids) - 1 == len(joined)  # no ID holds a line break
        and "\n\n" not in lines  # none is empty
        and "\n0" not in lines  # none starts with 0
        and max(map(len, ids)) <= 19
        # Text order is number order among 19-digit IDs, and the greatest text is at least the
        # greatest 19-digit one: within range if it is (else the caller checks ID by ID).
        and max(ids) <= _MAX_TEXT
    )


def plainly_canonical(value: str) -> bool:
    """Nearly every ID already is canonical (this runs per Post, several times a refresh): up
    to 19 ASCII digits with no leading zero, and within range, is as it stands. Today's IDs
    have 19 digits; at that length text order is number order."""
    size = len(value)
    return (
        (0 < size < 19 or (size == 19 and value <= _MAX_TEXT))
        and value[0] != "0"
        and value.isascii()
        and value.isdigit()
    )


def normalize(request: EngagementRequest) -> EngagementRequest:
    """The request as it will be sent; ValueError for anything the API would reject as a 400.

    IDs become canonical and distinct (first occurrence keeps its place); metrics are checked
    against the known names and those the endpoint does not serve are dropped; groupings follow
    docs/simulator.md#groupings; /historical's window is widened to whole hours the way the API
    rounds it.
    """
    post_ids = tuple(dict.fromkeys(canonical_post_id(i) for i in request.post_ids))
    if not post_ids:
        raise ValueError("a request needs at least one Post ID")
    if len(post_ids) > request.endpoint.max_posts:
        raise ValueError(
            f"{len(post_ids)} Post IDs; /{request.endpoint} takes at most "
            f"{request.endpoint.max_posts} per request"
        )
    start, end = _window(request)
    return replace(
        request,
        post_ids=post_ids,
        metrics=_endpoint_metrics(request.endpoint, request.metrics),
        groupings=_checked_groupings(request.endpoint, request.groupings),
        start=start,
        end=end,
    )


def request_body(request: EngagementRequest) -> dict[str, Any]:
    """The JSON object to POST (before json.dumps); `request` need not be normalized."""
    sent = normalize(request)
    body: dict[str, Any] = {
        "tweet_ids": list(sent.post_ids),
        "engagement_types": list(sent.metrics),
        "groupings": {g.name: {"group_by": [str(v) for v in g.group_by]} for g in sent.groupings},
    }
    if sent.start is not None and sent.end is not None:
        body["start"] = format_hour(sent.start)
        body["end"] = format_hour(sent.end)
    return body


def encode_request(request: EngagementRequest) -> bytes:
    return json.dumps(request_body(request), separators=(",", ":")).encode("utf-8")


def format_hour(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:00:00Z")


def _endpoint_metrics(endpoint: Endpoint, metrics: Iterable[str]) -> tuple[str, ...]:
    distinct = tuple(dict.fromkeys(metrics))
    unknown = [m for m in distinct if m not in ALL_METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s): {', '.join(unknown)}")
    served = tuple(m for m in distinct if m in metrics_for(endpoint))
    if not served:
        raise ValueError(f"none of {', '.join(distinct) or 'no metrics'} is served by /{endpoint}")
    return served


def _checked_groupings(endpoint: Endpoint, groupings: tuple[Grouping, ...]) -> tuple[Grouping, ...]:
    if not 1 <= len(groupings) <= MAX_GROUPINGS:
        raise ValueError(f"{len(groupings)} groupings; between 1 and {MAX_GROUPINGS} allowed")
    names = [g.name for g in groupings]
    if len(set(names)) != len(names):
        raise ValueError("grouping names must be distinct")
    if sum(len(g.group_by) == 4 for g in groupings) > 1:
        raise ValueError("only one grouping with 4 group_by values is allowed per request")
    for grouping in groupings:
        _check_grouping(endpoint, grouping)
    return groupings


def _check_grouping(endpoint: Endpoint, grouping: Grouping) -> None:
    problem = ""
    values = grouping.group_by
    if not grouping.name or grouping.name in RESERVED_KEYS:
        problem = "the name is empty or a reserved response key"
    elif not values or len(set(values)) != len(values):
        problem = "group_by must be a non-empty list of distinct values"
    elif GroupBy.ENGAGEMENT_TYPE not in values:
        problem = "engagement.type is required"
    elif endpoint is Endpoint.TOTALS and TIME_GROUP_BYS & set(values):
        problem = "/totals cannot group by day or hour"
    elif len(values) == 4 and values not in FOUR_VALUE_ORDERS:
        problem = "a 4-value group_by must be one of the two documented orders"
    if problem:
        raise ValueError(f"invalid grouping {grouping.name!r}: {problem}")


def _window(request: EngagementRequest) -> tuple[datetime | None, datetime | None]:
    start, end = request.start, request.end
    if start is None and end is None:
        return None, None
    if request.endpoint is not Endpoint.HISTORICAL:
        raise ValueError(f"start/end are only sent to /historical, not /{request.endpoint}")
    if start is None or end is None:
        raise ValueError("start and end must be given together")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = _floor_hour(start), _ceil_hour(end)
    if end <= start:
        raise ValueError("end must be after start")
    if end - start > LIMITS.historical_max_window:
        raise ValueError("a /historical window must not exceed 28 days")
    return start, end


def _floor_hour(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(when: datetime) -> datetime:
    floored = _floor_hour(when)
    return floored if floored == when else floored + timedelta(hours=1)
