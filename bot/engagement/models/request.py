"""One call to an engagement endpoint and the named groupings it asks for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.engagement.models.credentials import APP_ONLY, Auth
from bot.engagement.models.vocabulary import Endpoint, GroupBy


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
