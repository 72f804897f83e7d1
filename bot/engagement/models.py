"""The Engagement API's vocabulary: endpoints, metrics, groupings and limits (docs/simulator.md),
and the client's request, result and credential values.

Plain data only (standard library); both the client and the simulator read these tables, and
only bot.engagement.wire knows how they look as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import NamedTuple


class Endpoint(StrEnum):
    TOTALS = "totals"
    HOURLY_28HR = "28hr"
    HISTORICAL = "historical"

    @property
    def path(self) -> str:
        return f"/insights/engagement/{self.value}"

    @property
    def max_posts(self) -> int:
        return 250 if self is Endpoint.TOTALS else 25


# Every metric name the API knows, in the order of docs/simulator.md#metrics.
ALL_METRICS: tuple[str, ...] = (
    "impressions",
    "engagements",
    "favorites",
    "retweets",
    "quote_tweets",
    "replies",
    "video_views",
    "media_views",
    "media_engagements",
    "url_clicks",
    "hashtag_clicks",
    "detail_expands",
    "permalink_clicks",
    "app_install_attempts",
    "app_opens",
    "email_tweet",
    "user_follows",
    "user_profile_clicks",
)

TOTALS_METRICS: frozenset[str] = frozenset(
    {
        "impressions",
        "engagements",
        "favorites",
        "retweets",
        "quote_tweets",
        "replies",
        "video_views",
    }
)
SERIES_METRICS: frozenset[str] = frozenset(ALL_METRICS) - {"quote_tweets"}
# What a person gets when they name no metric: every /totals metric, or the main series ones.
DEFAULT_TOTALS: tuple[str, ...] = tuple(m for m in ALL_METRICS if m in TOTALS_METRICS)
DEFAULT_SERIES: tuple[str, ...] = ("impressions", "engagements", "favorites", "retweets", "replies")
# Readable with app-only auth, on /totals only (docs/simulator.md#who-may-read-what).
PUBLIC_METRICS: frozenset[str] = frozenset(
    {"favorites", "retweets", "quote_tweets", "replies", "video_views"}
)
# Not available on /totals for Posts older than 90 days (docs/simulator.md#age-limits).
AGE_LIMITED_METRICS: frozenset[str] = frozenset({"impressions", "engagements"})


def metrics_for(endpoint: Endpoint) -> frozenset[str]:
    return TOTALS_METRICS if endpoint is Endpoint.TOTALS else SERIES_METRICS


class GroupBy(StrEnum):
    TWEET_ID = "tweet.id"
    ENGAGEMENT_TYPE = "engagement.type"
    ENGAGEMENT_DAY = "engagement.day"
    ENGAGEMENT_HOUR = "engagement.hour"


TIME_GROUP_BYS: frozenset[GroupBy] = frozenset({GroupBy.ENGAGEMENT_DAY, GroupBy.ENGAGEMENT_HOUR})
FOUR_VALUE_ORDERS: tuple[tuple[GroupBy, ...], ...] = (
    (GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE, GroupBy.ENGAGEMENT_DAY, GroupBy.ENGAGEMENT_HOUR),
    (GroupBy.ENGAGEMENT_TYPE, GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_DAY, GroupBy.ENGAGEMENT_HOUR),
)
MAX_GROUPINGS = 3


@dataclass(frozen=True)
class Limits:
    """The API's fixed limits (docs/simulator.md#per-request-limits, #age-limits)."""

    impressions_max_age: timedelta = timedelta(days=90)
    video_views_max_age: timedelta = timedelta(days=1800)
    historical_max_window: timedelta = timedelta(days=28)
    historical_floor: datetime = datetime(2014, 9, 1, tzinfo=UTC)
    # Favorites, replies and retweets are zero in /historical buckets before this instant.
    historical_public_floor: datetime = datetime(2015, 9, 15, tzinfo=UTC)
    recent_window: timedelta = timedelta(hours=28)


LIMITS = Limits()

# Favorites, replies and retweets read zero in /historical buckets before the public floor.
PRE_FLOOR_ZERO_METRICS: frozenset[str] = frozenset({"favorites", "replies", "retweets"})
IMPRESSIONS_METRICS: frozenset[str] = frozenset({"impressions", "engagements"})


# --- Credentials -------------------------------------------------------------------------------
# Secrets are repr=False so that a logged request, result or exception never shows them.


@dataclass(frozen=True)
class AppCredentials:
    """The X app's consumer key and secret (API key and secret)."""

    consumer_key: str
    consumer_secret: str = field(repr=False)


@dataclass(frozen=True)
class UserAuth:
    """OAuth 1.0a user context: the access token of the account that authored the Posts."""

    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)

    @property
    def user_id(self) -> str | None:
        """X prefixes access tokens with the user's ID (`<user_id>-…`); None if this one isn't."""
        head, sep, _ = self.access_token.partition("-")
        return head if sep and head.isdigit() else None


@dataclass(frozen=True)
class AppOnly:
    """App-only auth: a Bearer token from /oauth2/token (public metrics on /totals, v2 reads)."""


APP_ONLY = AppOnly()
Auth = UserAuth | AppOnly


class RequestToken(NamedTuple):
    """Step 1 of the 3-legged flow (docs/simulator.md#request-token); unpacks as (token, secret)."""

    token: str
    secret: str

    def __repr__(self) -> str:
        return "RequestToken(<redacted>)"


class AccessGrant(NamedTuple):
    """Step 3 of the 3-legged flow (docs/simulator.md#access-token).

    Unpacks as `(token, secret, user_id, screen_name)`.
    """

    access_token: str
    access_token_secret: str
    user_id: str
    screen_name: str

    def __repr__(self) -> str:
        return f"AccessGrant(user_id={self.user_id!r}, screen_name={self.screen_name!r})"

    @property
    def auth(self) -> UserAuth:
        return UserAuth(self.access_token, self.access_token_secret)


# --- Requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    """One named grouping; the response nests its counts in `group_by` order."""

    name: str
    group_by: tuple[GroupBy, ...]


PER_POST = Grouping("per_post", (GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE))
DAILY = Grouping("daily", (GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE, GroupBy.ENGAGEMENT_DAY))
HOURLY = Grouping(
    "hourly",
    (GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE, GroupBy.ENGAGEMENT_DAY, GroupBy.ENGAGEMENT_HOUR),
)


@dataclass(frozen=True)
class EngagementRequest:
    """One call to one endpoint. `start`/`end` (aware UTC) are used by /historical only.

    Post IDs are decimal strings; bot.engagement.wire canonicalizes and de-duplicates them,
    drops metrics the endpoint does not serve, and rejects what the API would reject.
    """

    endpoint: Endpoint
    post_ids: tuple[str, ...]
    metrics: tuple[str, ...]
    auth: Auth = APP_ONLY
    groupings: tuple[Grouping, ...] = (PER_POST,)
    start: datetime | None = None
    end: datetime | None = None


# --- Rate limits -------------------------------------------------------------------------------


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


# --- Results -----------------------------------------------------------------------------------


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
        return datetime(self.day.year, self.day.month, self.day.day, self.hour, tzinfo=UTC)


Tree = Mapping[str, "Tree | int"]


@dataclass(frozen=True)
class GroupingResult:
    """A grouping's counts: `tree` nested as the API sent it (ints), `cells` flattened."""

    name: str
    group_by: tuple[GroupBy, ...]
    tree: Tree
    cells: tuple[Cell, ...]

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
        for grouping in self.groupings:
            dims = (GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE)
            if grouping.has(*dims, GroupBy.ENGAGEMENT_DAY, GroupBy.ENGAGEMENT_HOUR):
                cells = grouping.cells_for(post_id, metric)
                return {c.bucket: c.count for c in cells if c.bucket is not None}
        return {}

    def daily(self, post_id: str, metric: str) -> dict[date, int | None]:
        """Day totals from a day grouping, else summed from `hourly`; {} if neither exists."""
        for grouping in self.groupings:
            dims = (GroupBy.TWEET_ID, GroupBy.ENGAGEMENT_TYPE, GroupBy.ENGAGEMENT_DAY)
            if grouping.has(*dims) and GroupBy.ENGAGEMENT_HOUR not in grouping.group_by:
                cells = grouping.cells_for(post_id, metric)
                return {c.day: c.count for c in cells if c.day is not None}
        days: dict[date, int | None] = {}
        for bucket, count in self.hourly(post_id, metric).items():
            day = bucket.date()
            previous = days.get(day)
            days[day] = count if previous is None else previous + (count or 0)
        return days


# --- X API v2: Post discovery and authors (docs/simulator.md#x-api-v2) -------------------------


@dataclass(frozen=True)
class User:
    id: str
    username: str
    name: str = ""
    protected: bool = False  # only others' user context is refused its Posts


@dataclass(frozen=True)
class Post:
    """A Post as v2 describes it; fields not asked for or not sent are None / empty."""

    id: str
    text: str = ""
    author_id: str | None = None
    author_username: str | None = None
    created_at: datetime | None = None
    public_metrics: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PostLookup:
    """GET /2/tweets: the Posts found and, for the others, v2's error title by ID."""

    posts: tuple[Post, ...]
    unavailable: Mapping[str, str]  # ID → "Not Found Error" | "Authorization Error" | …
    rate_limit: RateLimitInfo


@dataclass(frozen=True)
class PostPage:
    """One page of GET /2/users/<id>/tweets, newest first; `next_token` None on the last."""

    posts: tuple[Post, ...]
    result_count: int
    newest_id: str | None
    oldest_id: str | None
    next_token: str | None
    rate_limit: RateLimitInfo


@dataclass(frozen=True)
class UserLookup:
    """GET /2/users/by/username/<name>: `user` None when X knows no such handle."""

    user: User | None
    rate_limit: RateLimitInfo
    suspended: bool = False  # `user` None because X suspended the account, not "no such handle"
