"""What a caller asks the engagement service, what the planner makes of it, and what comes back.

    EngagementQuery ──plan()──▶ Plan (PlannedCalls + Gaps known up front)
                                  │ Executor.run()
                                  ▼
                             Report (per Post, per metric: a number, or None with a Reason)

Plain frozen data; no I/O. A plan names owners by user ID, never by token, so it can be printed
(`engagement-bot query --explain`) without leaking a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.engagement.models import Endpoint, Grouping


class Granularity(StrEnum):
    TOTAL = "total"  # lifetime totals now
    HOUR = "hour"  # one value per UTC hour bucket
    DAY = "day"  # one value per UTC day


@dataclass(frozen=True)
class EngagementQuery:
    """What someone wants to know. `start`/`end` bound a series ([start, end), UTC); for HOUR
    they default to the last 28 hours, for DAY to the last 28 days."""

    post_ids: tuple[str, ...]
    metrics: tuple[str, ...]
    granularity: Granularity = Granularity.TOTAL
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class PostInfo:
    """What we know of a Post before calling the Engagement API.

    `author_id` None: not known yet (the service looks it up in batches first).
    `created_at` None: a pre-snowflake ID, older than every age limit.
    """

    post_id: str
    author_id: str | None
    created_at: datetime | None


class Reason(StrEnum):
    """Why a number is missing. Each has a sentence in `explain()`."""

    NOT_OWNED = "not_owned"  # private metric or series of a Post no connected account wrote
    UNAVAILABLE = "unavailable"  # deleted, or unknown to X
    PROTECTED = "protected"  # a protected Post or account
    IMPRESSIONS_TOO_OLD = "impressions_too_old"  # /totals serves them for 90 days only
    VIDEO_VIEWS_TOO_OLD = "video_views_too_old"  # not served for Posts over 1800 days
    NOT_RECORDED = "not_recorded"  # favorites/replies/retweets before 2015-09-15
    NOT_SERVED = "not_served"  # no endpoint serves this metric at this granularity
    BEFORE_FLOOR = "before_floor"  # /historical starts at 2014-09-01
    TOO_LONG = "too_long"  # the lifetime would need more /historical windows than allowed
    FAILED = "failed"  # X kept failing after every retry
    # Some account is connected, but X would not say who wrote the Post this time (its lookup
    # was rate limited or failed): "not owned" would be a guess, and maybe a wrong one.
    AUTHOR_UNKNOWN = "author_unknown"
    TIMED_OUT = "timed_out"  # X had not answered when the answer was due (too slow)


REASON_TEXT: Mapping[Reason, str] = {
    Reason.NOT_OWNED: "needs the author's connected X account",
    Reason.UNAVAILABLE: "the Post is deleted or unknown to X",
    Reason.PROTECTED: "the Post or its account is protected",
    Reason.IMPRESSIONS_TOO_OLD: "X keeps lifetime impressions and engagements for 90 days",
    Reason.VIDEO_VIEWS_TOO_OLD: "X keeps video views for 1800 days",
    Reason.NOT_RECORDED: "X has no favorites, replies or retweets series before 2015-09-15",
    Reason.NOT_SERVED: "X does not serve this metric at this granularity",
    Reason.BEFORE_FLOOR: "X's history starts on 2014-09-01",
    Reason.TOO_LONG: "the Post's lifetime spans more history than one query may fetch",
    Reason.FAILED: "X did not answer after several retries",
    Reason.AUTHOR_UNKNOWN: "author unknown right now — try again",
    Reason.TIMED_OUT: "X had not answered when the answer was due",
}
# Missing for a passing reason: worth asking again (never cached, counted as failures).
TRANSIENT: frozenset[Reason] = frozenset({Reason.FAILED, Reason.TIMED_OUT, Reason.AUTHOR_UNKNOWN})


def explain(reason: Reason) -> str:
    return REASON_TEXT[reason]


class AccountProblem(StrEnum):
    """Why a tracked account's Posts could not be listed; the channel goes on without them."""

    PROTECTED = "protected"  # X shows its Posts only to the account itself
    SUSPENDED = "suspended"
    NOT_FOUND = "not_found"  # no such handle on X (any more)
    X_FAILING = "x_failing"  # X did not answer this time: the next try may work


@dataclass(frozen=True)
class AccountPosts:
    """A tracked account's recent Posts, or (empty) the problem that kept them out."""

    handle: str
    post_ids: tuple[str, ...] = ()
    problem: AccountProblem | None = None


@dataclass(frozen=True)
class Gap:
    """A (Post, metric) the plan will not fetch, and why."""

    post_id: str
    metric: str
    reason: Reason


@dataclass(frozen=True)
class PlannedCall:
    """One API request: endpoint, whose auth (`owner` user ID, None = app-only Bearer), a batch
    of IDs, metrics, one grouping and, on /historical, the hour-aligned window [start, end).

    `lifetime` marks /historical or /28hr windows whose sums make up lifetime totals
    (docs/simulator.md#choosing-an-endpoint) rather than a series the caller asked for.
    """

    endpoint: Endpoint
    owner: str | None
    post_ids: tuple[str, ...]
    metrics: tuple[str, ...]
    grouping: Grouping
    start: datetime | None = None
    end: datetime | None = None
    lifetime: bool = False


@dataclass(frozen=True)
class Plan:
    query: EngagementQuery
    calls: tuple[PlannedCall, ...]
    gaps: tuple[Gap, ...] = ()
    # The series' bucket range after defaults and rounding (None for totals).
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Value:
    """A number, or None with the reason it is missing. `partial` marks a sum that leaves out
    buckets X does not serve (e.g. before 2015-09-15)."""

    count: int | None
    reason: Reason | None = None
    partial: bool = False


@dataclass(frozen=True)
class Report:
    """The answer to a query. For TOTAL, `totals[post][metric]`; for HOUR and DAY,
    `series[post][metric][bucket]` (bucket = hour start datetime or date), every bucket of the
    range present. A (Post, metric) that is missing entirely is in `missing` with its reason."""

    query: EngagementQuery
    totals: Mapping[str, Mapping[str, Value]] = field(default_factory=dict)
    series: Mapping[str, Mapping[str, Mapping[datetime | date, int | None]]] = field(
        default_factory=dict
    )
    missing: Mapping[tuple[str, str], Reason] = field(default_factory=dict)
    calls_made: int = 0
    fetched_at: datetime | None = None
