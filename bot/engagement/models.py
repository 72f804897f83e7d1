"""The Engagement API's vocabulary: endpoints, metrics, groupings and limits (CONTRACT §1, §5, §6).

Plain data only; both the client and the simulator read these tables.
"""

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


# Every metric name the API knows, in the order of CONTRACT §6.
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
    {"impressions", "engagements", "favorites", "retweets", "quote_tweets", "replies", "video_views"}
)
SERIES_METRICS: frozenset[str] = frozenset(ALL_METRICS) - {"quote_tweets"}
# Readable with app-only auth, on /totals only (CONTRACT §3.2).
PUBLIC_METRICS: frozenset[str] = frozenset(
    {"favorites", "retweets", "quote_tweets", "replies", "video_views"}
)
# Not available on /totals for Posts older than 90 days (CONTRACT §8.5).
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
    """The API's fixed limits (CONTRACT §9.1, §8.5, §8.6, §5.4)."""

    impressions_max_age: timedelta = timedelta(days=90)
    video_views_max_age: timedelta = timedelta(days=1800)
    historical_max_window: timedelta = timedelta(days=28)
    historical_floor: datetime = datetime(2014, 9, 1, tzinfo=UTC)
    # Favorites, replies and retweets are zero in /historical buckets before this instant (§8.7).
    historical_public_floor: datetime = datetime(2015, 9, 15, tzinfo=UTC)
    recent_window: timedelta = timedelta(hours=28)


LIMITS = Limits()
