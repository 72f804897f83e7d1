"""What X answers: a reply's rate-limit state, and an engagement endpoint's 200 parsed
against its request (groupings, cells, and why a value is not available)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import cast

from bot.engagement.models.request import EngagementRequest
from bot.engagement.models.vocabulary import IMPRESSIONS_METRICS, GroupBy


@dataclass(frozen=True)
class RateLimitInfo:
    """A response's rate-limit headers (x-per-minute-* or v2's x-rate-limit-*) and its Date."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: int | None = None  # epoch seconds at which the window ends
    date: datetime | None = None  # the server's clock (the simulator's may be simulated)
    window_seconds: int = 60  # 60 for the Engagement API, 900 for v2

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0

    def seconds_until_reset(self, now: datetime | None = None) -> float:
        """Reset − Date (else − `now`), at least 1 s, at most the window + 5 s; 60 s when the reset
        (or any clock to measure it against) is missing. No jitter here.
        (docs/simulator.md#client-retries)"""
        reference = self.date or now
        if self.reset_at is None or reference is None:
            return 60.0
        wait = self.reset_at - reference.timestamp()
        return min(max(wait, 1.0), float(self.window_seconds + 5))


class MissingReason(StrEnum):
    """Why a count is not available although the grouping shows a placeholder "0".

    See docs/simulator.md#not-available-is-not-zero.
    """

    UNAVAILABLE = "unavailable"  # deleted or unknown Post (unavailable_tweet_ids)
    IMPRESSIONS_TOO_OLD = "impressions_too_old"  # /totals, Post older than 90 days
    VIDEO_VIEWS_TOO_OLD = "video_views_too_old"  # Post older than 1800 days
    NOT_RECORDED = "not_recorded"  # /historical favorites/replies/retweets before 2015-09-15


@dataclass(frozen=True)
class Cell:
    """One innermost count of a grouping, with the path that led to it.

    `post_id` None: summed over the request's Posts. `day` and `hour` None: summed over the
    window (lifetime on /totals). `hour` without `day`: hour of day summed over the window.
    `count` is None exactly when `missing` is set; `partial` marks a sum that leaves out
    Posts or buckets whose values are not available.
    """

    metric: str
    count: int | None
    post_id: str | None = None
    day: date | None = None
    hour: int | None = None
    missing: MissingReason | None = None
    partial: bool = False

    @property
    def bucket(self) -> datetime | None:
        """The start of the hour bucket, when the cell is one hour of one day."""
        if self.day is None or self.hour is None:
            return None
        return _hour_start(self.day, self.hour)


@lru_cache(maxsize=4096)
def _hour_start(day: date, hour: int) -> datetime:
    # A series has a few hundred distinct hours and a hundred thousand cells naming them.
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


class _DayHours(dict[str, datetime]):
    """One engagement.day key's hour keys (checked at parse) as hour buckets, each made once:
    a tree's hours are then read with one C-level lookup per cell (map over __getitem__)."""

    def __init__(self, day: str) -> None:
        super().__init__()
        self._day = day

    def __missing__(self, hour: str) -> datetime:
        bucket = self[hour] = _hour_start(day_key(self._day), int(hour))
        return bucket


@lru_cache(maxsize=1024)
def _hours_of(day: str) -> _DayHours:
    return _DayHours(day)


Tree = Mapping[str, "Tree | int"]
_BY_POST = (GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE)
_BY_DAY = (*_BY_POST, GroupBy.ENGAGEMENT_DAY)
_BY_HOUR = (*_BY_DAY, GroupBy.ENGAGEMENT_HOUR)


@lru_cache(maxsize=4096)
def day_key(key: str) -> date:
    """A grouping's engagement.day key as a date (ValueError if it is not one). Cached: a
    series names the same few days in every cell."""
    return date.fromisoformat(key)


@dataclass(frozen=True)
class GroupingResult:
    """A grouping's counts: `tree` nested as the API sent it (ints), `cells` flattened.

    `cells` may be given as a function that builds them: they are then built on first use only
    (a /totals refresh reads the tree and never needs 7 Cell objects per Post)."""

    name: str
    group_by: tuple[GroupBy, ...]
    tree: Tree
    cells_or_builder: tuple[Cell, ...] | Callable[[], tuple[Cell, ...]] = field(
        default=(), compare=False, repr=False
    )
    # Every cell is the tree's count, None where the result's missing_reason says (no
    # pre-2015 rule applies): readers may take the tree as it is.
    plain: bool = field(default=False, compare=False)

    @cached_property
    def cells(self) -> tuple[Cell, ...]:
        made = self.cells_or_builder
        return made() if callable(made) else made

    def has(self, *dims: GroupBy) -> bool:
        return all(d in self.group_by for d in dims)

    def cells_for(self, post_id: str, metric: str) -> tuple[Cell, ...]:
        return self._by_pair.get((post_id, metric), ())

    @cached_property
    def _by_pair(self) -> Mapping[tuple[str | None, str], tuple[Cell, ...]]:
        # Built once: a 25-Post, 28-day hourly window has hundreds of thousands of cells, and
        # readers ask Post by Post and metric by metric.
        index: dict[tuple[str | None, str], list[Cell]] = {}
        for cell in self.cells:
            index.setdefault((cell.post_id, cell.metric), []).append(cell)
        return {pair: tuple(cells) for pair, cells in index.items()}


@dataclass(frozen=True)
class EngagementResult:
    """A 200 from an engagement endpoint, parsed against the request that produced it.

    `request` is the request as sent (canonical IDs, endpoint's metrics). `start`/`end` are
    the echoed window (/28hr, /historical); `end` may be off the hour (C7). `errors` are the
    partial-result messages; the three ID lists mark values as not available.
    """

    request: EngagementRequest
    groupings: tuple[GroupingResult, ...]
    rate_limit: RateLimitInfo
    start: datetime | None = None
    end: datetime | None = None
    errors: tuple[str, ...] = ()
    unavailable_ids: tuple[str, ...] = ()
    impressions_unsupported_ids: tuple[str, ...] = ()
    video_views_unsupported_ids: tuple[str, ...] = ()

    def grouping(self, name: str) -> GroupingResult:
        for grouping in self.groupings:
            if grouping.name == name:
                return grouping
        raise KeyError(name)

    def missing_reason(self, post_id: str, metric: str) -> MissingReason | None:
        """Why this Post's whole value of `metric` is not available, or None if it is."""
        unavailable, impressions_old, video_old = self._id_sets
        if post_id in unavailable:
            return MissingReason.UNAVAILABLE
        if metric in IMPRESSIONS_METRICS and post_id in impressions_old:
            return MissingReason.IMPRESSIONS_TOO_OLD
        if metric == "video_views" and post_id in video_old:
            return MissingReason.VIDEO_VIEWS_TOO_OLD
        return None

    def per_post_tree(self) -> Mapping[str, Mapping[str, int]] | None:
        """`{post: {metric: count}}` as X sent it, when the result's only per-Post grouping is
        [tweet.id, engagement.type] (what `value` then reads); None otherwise. Counts of IDs
        in `missing_reason` are placeholders."""
        per_post = self._per_post_groupings
        if len(per_post) != 1 or per_post[0].group_by != _BY_POST:
            return None
        return per_post[0].tree  # type: ignore[return-value]  # two levels: ints at the leaves

    @property
    def not_available_ids(self) -> frozenset[str]:
        """Every Post some value of which is not available (`missing_reason` is None for the
        rest)."""
        unavailable, impressions_old, video_old = self._id_sets
        return unavailable | impressions_old | video_old

    @cached_property
    def _id_sets(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        # Asked once per (Post, metric): sets, not 250-long tuple scans.
        return (
            frozenset(self.unavailable_ids),
            frozenset(self.impressions_unsupported_ids),
            frozenset(self.video_views_unsupported_ids),
        )

    @cached_property
    def _per_post_groupings(self) -> tuple[GroupingResult, ...]:
        """Groupings with a value per Post and metric, fewest levels first."""
        candidates = [g for g in self.groupings if g.has(GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE)]
        return tuple(sorted(candidates, key=lambda g: len(g.group_by)))

    def value(self, post_id: str, metric: str) -> int | None:
        """The Post's count over the whole window (lifetime on /totals); None when missing.

        Read from a per-Post grouping, preferring one without time levels; buckets that are not
        available (before 2015-09-15) are left out of the sum.
        """
        for grouping in self._per_post_groupings:
            counts = [c.count for c in grouping.cells_for(post_id, metric)]
            known = [n for n in counts if n is not None]
            if known:
                return sum(known)
            if counts:
                return None
        return None

    def hourly(self, post_id: str, metric: str) -> dict[datetime, int | None]:
        """Hour buckets from a [tweet.id, engagement.type, day, hour] grouping; {} if none."""
        found = self._hour_grouping
        if found is None:
            return {}
        grouping, from_tree = found
        if from_tree:
            return self._hours(grouping.tree, post_id, metric)
        cells = grouping.cells_for(post_id, metric)
        return {b: c.count for c in cells if (b := c.bucket) is not None}

    @cached_property
    def _hour_grouping(self) -> tuple[GroupingResult, bool] | None:
        """The first grouping with hours per Post, and whether `hourly` reads its tree as it
        is (chosen once: `hourly` is asked once per Post and metric)."""
        for grouping in self.groupings:
            if grouping.has(*_BY_HOUR):
                return grouping, grouping.group_by == _BY_HOUR and grouping.plain
        return None

    def _hours(self, tree: Tree, post_id: str, metric: str) -> dict[datetime, int | None]:
        """`hourly` read straight from the tree, without Cells: what the cells would say when
        only "not available" can blank a count (the pre-2015 rule is /historical's)."""
        days = cast(Mapping[str, Mapping[str, Mapping[str, int]]], tree.get(post_id, {})).get(
            metric
        )
        if not days:
            return {}
        buckets: dict[datetime, int | None] = {}
        if self.missing_reason(post_id, metric) is not None:
            for day, hours in days.items():
                buckets.update(dict.fromkeys(map(_hours_of(day).__getitem__, hours)))
        else:
            for day, hours in days.items():
                named = map(_hours_of(day).__getitem__, hours)
                buckets.update(zip(named, hours.values(), strict=True))
        return buckets

    def _days(self, tree: Tree, post_id: str, metric: str) -> dict[date, int | None]:
        """`daily` read straight from a plain tree, without Cells (see `_hours`)."""
        days = cast(Mapping[str, Mapping[str, int]], tree.get(post_id, {})).get(metric)
        if not days:
            return {}
        if self.missing_reason(post_id, metric) is not None:
            return dict.fromkeys(map(day_key, days))
        return dict(zip(map(day_key, days), days.values(), strict=True))

    def daily(self, post_id: str, metric: str) -> dict[date, int | None]:
        """Day totals from a day grouping, else summed from `hourly`; {} if neither exists."""
        for grouping in self.groupings:
            dims = (GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE, GroupBy.ENGAGEMENT_DAY)
            if grouping.has(*dims) and GroupBy.ENGAGEMENT_HOUR not in grouping.group_by:
                if grouping.group_by == _BY_DAY and grouping.plain:
                    return self._days(grouping.tree, post_id, metric)
                cells = grouping.cells_for(post_id, metric)
                return {c.day: c.count for c in cells if c.day is not None}
        days: dict[date, int | None] = {}
        for bucket, count in self.hourly(post_id, metric).items():
            day = bucket.date()
            previous = days.get(day)
            days[day] = count if previous is None else previous + (count or 0)
        return days
