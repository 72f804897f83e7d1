"""Request-body validation of the three engagement endpoints (docs/simulator.md#request-bodies).

`parse_request` turns a decompressed body into a `ValidRequest` or raises `ApiError` carrying the
first failure in the order of docs/simulator.md#validation-order, with the texts listed there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.engagement.models import (
    ALL_METRICS,
    FOUR_VALUE_ORDERS,
    LIMITS,
    MAX_GROUPINGS,
    TIME_GROUP_BYS,
    Endpoint,
    GroupBy,
    metrics_for,
)
from bot.engagement.snowflake import MAX_POST_ID
from bot.simulator.universe import ceil_hour, floor_hour, iso

MAX_BODY_BYTES = 1024 * 1024  # larger bodies are refused as invalid
REQUIRED_FIELDS = ("tweet_ids", "engagement_types", "groupings")
# Top-level response keys a grouping name must not shadow.
RESERVED_NAMES = frozenset(
    {
        "start",
        "end",
        "errors",
        "unavailable_tweet_ids",
        "unsupported_for_impressions_engagements_tweet_ids",
        "unsupported_for_video_views_tweet_ids",
    }
)
INVALID_BODY = "Invalid or missing JSON request body"
GROUP_BY_SHAPE = "group_by must be a non-empty list of distinct values"
TYPE_REQUIRED = "engagement.type is required"
FOUR_VALUE_ORDER = (
    "a 4-value group_by must be [tweet.id, engagement.type, engagement.day, engagement.hour] "
    "or [engagement.type, tweet.id, engagement.day, engagement.hour]"
)
ONE_FOUR_VALUE = "Only one grouping with 4 group_by values is allowed per request"

_DIGITS = re.compile(r"[0-9]{1,19}")
# YYYY-MM-DD, YYYY-MM-DDTHH:MMZ, YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DDTHH:MM:SS.ffffffZ
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?Z)?"
)


class ApiError(Exception):
    """A whole-request failure of an engagement endpoint: `{"errors": messages}` with `status`.

    Raised by `parse_request` (malformed requests); `answer` returns the same shape for protected
    and foreign Posts.
    """

    def __init__(self, status: int, messages: str | Iterable[str]) -> None:
        self.status = status
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__(f"{status}: {'; '.join(self.messages)}")

    @property
    def body(self) -> dict[str, Any]:
        return {"errors": list(self.messages)}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


@dataclass(frozen=True)
class ValidRequest:
    """A valid request: canonical IDs and names, and the bucket window it covers."""

    endpoint: Endpoint
    post_ids: tuple[int, ...]  # distinct, request order
    metrics: tuple[str, ...]  # distinct, request order
    groupings: Mapping[str, tuple[GroupBy, ...]]  # request order; values in the given order
    start: datetime | None  # bucket window [start, end); None on /totals
    end: datetime | None
    echo_start: str | None  # the `start`/`end` strings of the reply; None on /totals
    echo_end: str | None


class _JsonFloat(float):
    """A JSON number with a fraction or exponent, remembering its text for error messages."""

    raw: str


def _parse_float(text: str) -> _JsonFloat:
    number = _JsonFloat(text)
    number.raw = text
    return number


def _reject_constant(text: str) -> None:
    # NaN and Infinity are not JSON, though Python's parser accepts them by default.
    raise ValueError(f"not JSON: {text}")


def as_sent(value: object) -> str:
    """A JSON value as the caller wrote it, for `Invalid …: <value>` messages."""
    if isinstance(value, str):
        return value
    if isinstance(value, _JsonFloat):
        return value.raw
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def parse_request(
    endpoint: Endpoint, body: bytes, *, now: datetime, floor: datetime
) -> ValidRequest:
    """Validate a request body (already decompressed); raises ApiError(400) on the first failure."""
    doc = _json_object(body)
    for name in REQUIRED_FIELDS:
        if name not in doc:
            raise bad_request(f"Missing required field: {name}")
    post_ids = _tweet_ids(endpoint, doc["tweet_ids"])
    metrics = _engagement_types(endpoint, doc["engagement_types"])
    groupings = _groupings(endpoint, doc["groupings"])
    start, end, echo_start, echo_end = _window(endpoint, doc, now=now, floor=floor)
    return ValidRequest(endpoint, post_ids, metrics, groupings, start, end, echo_start, echo_end)


def _json_object(body: bytes) -> dict[str, Any]:
    if not body or len(body) > MAX_BODY_BYTES:
        raise bad_request(INVALID_BODY)
    try:
        doc = json.loads(body, parse_float=_parse_float, parse_constant=_reject_constant)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise bad_request(INVALID_BODY) from None
    if not isinstance(doc, dict):
        raise bad_request(INVALID_BODY)
    return doc


def _tweet_ids(endpoint: Endpoint, value: object) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise bad_request("Invalid value for field: tweet_ids")
    if len(value) > endpoint.max_posts:
        raise bad_request(
            f"Too many Tweet IDs: {len(value)} "
            f"(maximum {endpoint.max_posts} per request to /{endpoint.value})"
        )
    ids: dict[int, None] = {}  # an ordered set: first occurrence keeps its place
    for item in value:
        post_id = canonical_post_id(item)
        if post_id is None:
            raise bad_request(f"Invalid Tweet ID: {as_sent(item)}")
        ids[post_id] = None
    return tuple(ids)


def canonical_post_id(value: object) -> int | None:
    """1–19 ASCII digits or a JSON integer (not a boolean), within 1 … 2^63−1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_POST_ID else None


def _engagement_types(endpoint: Endpoint, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise bad_request("Invalid value for field: engagement_types")
    names = tuple(dict.fromkeys(value))  # matching is exact: no trimming, no case folding
    unknown = [n for n in names if n not in ALL_METRICS]
    if unknown:
        raise bad_request(f"Unknown engagement type(s): {', '.join(unknown)}")
    served = metrics_for(endpoint)
    unsupported = [n for n in names if n not in served]
    if unsupported:
        raise bad_request(
            f"Engagement type(s) not supported by the /{endpoint.value} endpoint: "
            + ", ".join(unsupported)
        )
    return names


def _groupings(endpoint: Endpoint, value: object) -> dict[str, tuple[GroupBy, ...]]:
    if not isinstance(value, dict) or not value:
        raise bad_request("Invalid value for field: groupings")
    if len(value) > MAX_GROUPINGS:
        raise bad_request(f"Too many groupings: {len(value)} (maximum {MAX_GROUPINGS})")
    groupings: dict[str, tuple[GroupBy, ...]] = {}
    four_value = 0
    for name, spec in value.items():
        levels = _grouping(endpoint, name, spec)
        if len(levels) == 4:
            four_value += 1
            if four_value > 1:
                raise bad_request(ONE_FOUR_VALUE)
        groupings[name] = levels
    return groupings


def _grouping(endpoint: Endpoint, name: str, spec: object) -> tuple[GroupBy, ...]:
    if name == "":
        raise _bad_grouping(name, "the name must not be empty")
    if name in RESERVED_NAMES:
        raise _bad_grouping(name, "the name is reserved for a top-level response key")
    values = spec.get("group_by") if isinstance(spec, dict) else None
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise _bad_grouping(name, GROUP_BY_SHAPE)
    lowered = [v.lower() for v in values]  # values match case-insensitively
    if len(set(lowered)) != len(lowered):
        raise _bad_grouping(name, GROUP_BY_SHAPE)
    allowed = {
        g.value for g in GroupBy if endpoint is not Endpoint.TOTALS or g not in TIME_GROUP_BYS
    }
    unsupported = [sent for sent, low in zip(values, lowered, strict=True) if low not in allowed]
    if unsupported:
        raise bad_request(
            "One or more of the groupBys you have specified are not supported: "
            f"({', '.join(unsupported)}). Please adjust your request and try again."
        )
    levels = tuple(GroupBy(low) for low in lowered)
    if GroupBy.ENGAGEMENT_TYPE not in levels:
        raise _bad_grouping(name, TYPE_REQUIRED)
    if len(levels) == 4 and levels not in FOUR_VALUE_ORDERS:
        raise _bad_grouping(name, FOUR_VALUE_ORDER)
    return levels


def _bad_grouping(name: str, reason: str) -> ApiError:
    return bad_request(f"Invalid grouping '{name}': {reason}")


def _window(
    endpoint: Endpoint, doc: Mapping[str, Any], *, now: datetime, floor: datetime
) -> tuple[datetime | None, datetime | None, str | None, str | None]:
    """The bucket window and the echoed strings (docs/simulator.md#windows); start/end are read
    on /historical only."""
    if endpoint is Endpoint.TOTALS:
        return None, None, None, None
    if endpoint is Endpoint.HOURLY_28HR:
        start = floor_hour(now - LIMITS.recent_window)
        end = ceil_hour(now)
        return start, end, iso(start), iso(end)
    if "start" not in doc and "end" not in doc:
        end = ceil_hour(now)
        # Raised to the floor silently; ceil_hour keeps the buckets on whole hours.
        start = max(end - LIMITS.historical_max_window, ceil_hour(floor))
        return start, end, iso(start), iso(now)
    start_sent = _instant("start", doc["start"]) if "start" in doc else None
    end_sent = _instant("end", doc["end"]) if "end" in doc else None
    if start_sent is None or end_sent is None:
        raise bad_request("start and end must be given together")
    start, end = floor_hour(start_sent), ceil_hour(end_sent)
    _check_window(start, end, now=now, floor=floor)
    return start, end, iso(start), iso(end)


def _check_window(start: datetime, end: datetime, *, now: datetime, floor: datetime) -> None:
    """The four window rules of docs/simulator.md#start-and-end, in order, on the rounded window."""
    if end <= start:
        raise bad_request("end must be after start")
    if end - start > LIMITS.historical_max_window:
        raise bad_request("The time range must not exceed 28 days")
    if start < floor:
        raise bad_request(f"start must not be before {iso(floor)}")
    if end > ceil_hour(now):
        raise bad_request("end must not be in the future")


def _instant(field: str, value: object) -> datetime:
    """A start/end timestamp as an aware UTC datetime, or ApiError `Invalid <field>: <value>`."""
    match = _INSTANT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise bad_request(f"Invalid {field}: {as_sent(value)}")
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError:
        raise bad_request(f"Invalid {field}: {as_sent(value)}") from None
    micros = int((fraction or "0").ljust(6, "0"))
    return parsed + timedelta(microseconds=micros)
