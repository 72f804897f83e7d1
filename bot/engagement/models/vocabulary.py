"""The Engagement API's vocabulary: endpoints, metrics, groupings and limits
(docs/simulator.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum


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
