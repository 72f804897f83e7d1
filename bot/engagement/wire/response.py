"""200 bodies of the engagement endpoints as results (docs/simulator.md#responses)."""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from bot.engagement.models import (
    LIMITS,
    PRE_FLOOR_ZERO_METRICS,
    Cell,
    Endpoint,
    EngagementRequest,
    EngagementResult,
    GroupBy,
    Grouping,
    GroupingResult,
    MissingReason,
    RateLimitInfo,
    Tree,
)
from bot.engagement.models.results import day_key
from bot.engagement.wire.errors import error_messages
from bot.engagement.wire.request import (
    IMPRESSIONS_UNSUPPORTED_IDS,
    UNAVAILABLE_IDS,
    VIDEO_VIEWS_UNSUPPORTED_IDS,
    normalize,
)
from bot.errors import UnexpectedResponse

_COUNT = re.compile(r"-?[0-9]+")
_HOUR = re.compile(r"[0-9]{1,2}")
_MAX_COUNT = 2**63 - 1
# What a message quotes of a value X sent: a few levels and characters, however big it was.
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist = 2, 3, 3
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 40


def short_repr(value: object) -> str:
    """`repr(value)`, bounded in depth and length (error messages stay one short line)."""
    return _SHORT.repr(value)


def parse_response(
    request: EngagementRequest, body: object, rate_limit: RateLimitInfo
) -> EngagementResult:
    """A 200 body as a result, walking each grouping by the request's own group_by order.

    Counts may be strings or integers (negative ones tolerated); unknown top-level keys and any
    key order are fine. Raises UnexpectedResponse when a requested grouping is missing or
    nested differently from its group_by.
    """
    sent = normalize(request)
    if not isinstance(body, dict):
        raise _unexpected(sent, "the response is not a JSON object")
    shell = EngagementResult(
        request=sent,
        groupings=(),
        rate_limit=rate_limit,
        start=parse_instant(body.get("start")),
        end=parse_instant(body.get("end")),
        errors=tuple(error_messages(body)[0]),
        unavailable_ids=_id_list(body.get(UNAVAILABLE_IDS)),
        impressions_unsupported_ids=_id_list(body.get(IMPRESSIONS_UNSUPPORTED_IDS)),
        video_views_unsupported_ids=_id_list(body.get(VIDEO_VIEWS_UNSUPPORTED_IDS)),
    )
    groupings = tuple(_parse_grouping(shell, g, body.get(g.name)) for g in sent.groupings)
    return replace(shell, groupings=groupings)


def parse_instant(value: object) -> datetime | None:
    """An echoed `start`/`end`, leniently: any ISO 8601 date or instant (C7); None otherwise."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset that leaves year 1..9999
        return None


def _id_list(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    ids = (str(v) for v in value if isinstance(v, str | int) and not isinstance(v, bool))
    return tuple(dict.fromkeys(ids))


def _parse_grouping(shell: EngagementResult, grouping: Grouping, node: object) -> GroupingResult:
    if not isinstance(node, dict):
        raise _unexpected(shell.request, f"grouping {grouping.name!r} is missing from the response")
    dims = grouping.group_by
    try:
        tree = _tree(node, len(dims))
        assert isinstance(tree, Mapping)
        if shell.request.endpoint is not Endpoint.HISTORICAL or _after_floor(tree, dims):
            # Outside /historical's pre-2015 rule a cell can only fail on a day or hour key:
            # check those, and make the cells only when a reader asks for them (each cell is
            # then X's count, blanked only where missing_reason says: `plain`).
            _check_time_keys(tree, dims)
            cells_later = lambda: _cells(shell, tree, dims)  # noqa: E731
            return GroupingResult(grouping.name, dims, tree, cells_later, plain=True)
        cells = _cells(shell, tree, dims)
    except (ValueError, OverflowError) as problem:  # OverflowError: a day near year 9999
        raise _unexpected(shell.request, f"grouping {grouping.name!r}: {problem}") from None
    return GroupingResult(grouping.name, dims, tree, cells)


def _after_floor(tree: Tree, dims: tuple[GroupBy, ...]) -> bool:
    """Whether no cell of this /historical grouping can fall under the pre-2015 rule: it has
    days, and every day key is a date from the public floor on (before the last date, whose
    end would not be a datetime). A /historical window after 2015 has only such days."""
    if GroupBy.ENGAGEMENT_DAY not in dims:
        return False
    nodes: list[Tree | int] = [tree]
    for _ in range(dims.index(GroupBy.ENGAGEMENT_DAY)):
        nodes = [child for node in nodes if not isinstance(node, int) for child in node.values()]
    keys = {key for node in nodes if not isinstance(node, int) for key in node}
    floor = LIMITS.historical_public_floor
    try:
        days = [day_key(key) for key in keys]
    except ValueError:
        return False  # the eager path names the bad key
    return all(floor <= datetime(d.year, d.month, d.day, tzinfo=UTC) and d < date.max for d in days)


def _check_time_keys(node: Tree | int, dims: tuple[GroupBy, ...]) -> None:
    """ValueError unless every engagement.day key is a date and every engagement.hour key
    an hour, as _cell would find them."""
    if isinstance(node, int) or not _DAY_OR_HOUR.keys() & set(dims):
        return
    check = _DAY_OR_HOUR.get(dims[0])
    if check is _hour and len(dims) == 1 and node.keys() <= _HOURS:
        return  # counts by hour: every key an hour, by one set test rather than one per key
    for key, child in node.items():
        if check is not None:
            check(key)
        if not isinstance(child, int):
            _check_time_keys(child, dims[1:])


def _cells(shell: EngagementResult, tree: Tree, dims: tuple[GroupBy, ...]) -> tuple[Cell, ...]:
    return tuple(_cell(shell, path, count) for path, count in _leaves(tree, dims))


def _tree(node: object, depth: int) -> Tree | int:
    if depth == 0:
        return parse_count(node)
    if not isinstance(node, dict):
        raise ValueError(f"expected {depth} more level(s) of objects, found {short_repr(node)}")
    if depth == 1:
        return _counts(node)
    return {str(key): _tree(child, depth - 1) for key, child in node.items()}


def _counts(node: dict[object, object]) -> dict[str, int]:
    """The innermost level, where nearly every count of a refresh is: plain digits and
    in-range integers go straight through; anything else gets parse_count's full rule."""
    counts: dict[str, int] = {}
    for key, value in node.items():
        # 18 digits are below 2**63 whatever they are; bool is an int subclass, not a count.
        if isinstance(value, str) and len(value) < 19 and value.isascii() and value.isdigit():
            counts[str(key)] = int(value)
        elif type(value) is int and -_MAX_COUNT <= value <= _MAX_COUNT:
            counts[str(key)] = value
        else:
            counts[str(key)] = parse_count(value)
    return counts


def parse_count(value: object) -> int:
    """A count sent as a string or an integer, within 64 bits (what the store holds)."""
    count: int | None = None
    if isinstance(value, str) and len(value) < 40 and _COUNT.fullmatch(value.strip()):
        count = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        count = value
    if count is not None and -_MAX_COUNT <= count <= _MAX_COUNT:  # what SQLite can store
        return count
    raise ValueError(f"{short_repr(value)} is not a count")


def _leaves(
    node: Tree | int, dims: tuple[GroupBy, ...], path: tuple[str, ...] = ()
) -> Iterator[tuple[dict[GroupBy, str], int]]:
    if isinstance(node, int):
        yield dict(zip(dims, path, strict=True)), node
        return
    for key, child in node.items():
        yield from _leaves(child, dims, (*path, key))


def _cell(shell: EngagementResult, path: dict[GroupBy, str], count: int) -> Cell:
    metric = path[GroupBy.ENGAGEMENT_TYPE]
    post_id = path.get(GroupBy.TWEET_ID)
    day = _day(path.get(GroupBy.ENGAGEMENT_DAY))
    hour = _hour(path.get(GroupBy.ENGAGEMENT_HOUR))
    missing, partial = None, False
    if post_id is not None:
        missing = shell.missing_reason(post_id, metric)
    else:
        partial = any(shell.missing_reason(p, metric) for p in shell.request.post_ids)
    if missing is None and _pre_floor_rule_applies(shell, metric):
        span = _span(shell, day, hour)
        floor = LIMITS.historical_public_floor
        if span is not None and span[1] <= floor:
            missing = MissingReason.NOT_RECORDED
        elif span is not None and span[0] < floor:
            partial = True
    return Cell(
        metric=metric,
        count=None if missing else count,
        post_id=post_id,
        day=day,
        hour=hour,
        missing=missing,
        partial=partial and missing is None,
    )


def _pre_floor_rule_applies(shell: EngagementResult, metric: str) -> bool:
    return shell.request.endpoint is Endpoint.HISTORICAL and metric in PRE_FLOOR_ZERO_METRICS


def _span(
    shell: EngagementResult, day: date | None, hour: int | None
) -> tuple[datetime, datetime] | None:
    """The time a cell covers, as far as the floor rule needs it."""
    if day is not None:
        midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if hour is None:
            return midnight, midnight + timedelta(days=1)
        return midnight + timedelta(hours=hour), midnight + timedelta(hours=hour + 1)
    start = shell.start or shell.request.start
    end = shell.end or shell.request.end
    return (start, end) if start is not None and end is not None else None


def _day(key: str | None) -> date | None:
    return None if key is None else day_key(key)


# Parses the same few keys over and over (an hour key per cell): cached.


@lru_cache(maxsize=64)
def _hour(key: str | None) -> int | None:
    if key is None:
        return None
    if not _HOUR.fullmatch(key) or int(key) > 23:
        raise ValueError(f"{short_repr(key)} is not an hour")
    return int(key)


# Every key _hour accepts.
_HOURS = frozenset({str(h) for h in range(10)} | {f"{h:02d}" for h in range(24)})

_DAY_OR_HOUR: dict[GroupBy, Callable[[str], object]] = {
    GroupBy.ENGAGEMENT_DAY: _day,
    GroupBy.ENGAGEMENT_HOUR: _hour,
}


def _unexpected(request: EngagementRequest, problem: str) -> UnexpectedResponse:
    return UnexpectedResponse(
        f"/{request.endpoint}: {problem}", status=200, endpoint=str(request.endpoint)
    )
