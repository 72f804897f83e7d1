"""The Engagement API's vocabulary (docs/simulator.md) and the client's request, result and
credential values, one module each:

    vocabulary   endpoints, metrics, groupings and the API's fixed limits
    credentials  the app's keys, a user's access token, app-only auth, 3-legged tokens
    request      one call to an engagement endpoint and its named groupings
    results      a reply's rate-limit state; an engagement 200 parsed against its request
    v2           Posts and users as X API v2 describes them

Plain data only (standard library); both the client and the simulator read these tables, and
only bot.engagement.wire knows how they look as JSON. Callers import from here; the modules only
divide the definitions.
"""

from bot.engagement.models.credentials import (
    APP_ONLY,
    AccessGrant,
    AppCredentials,
    AppOnly,
    Auth,
    RequestToken,
    UserAuth,
)
from bot.engagement.models.request import (
    DAILY,
    HOURLY,
    PER_POST,
    EngagementRequest,
    Grouping,
)
from bot.engagement.models.results import (
    Cell,
    EngagementResult,
    GroupingResult,
    MissingReason,
    RateLimitInfo,
    Tree,
)
from bot.engagement.models.v2 import (
    Post,
    PostLookup,
    PostPage,
    SearchResult,
    User,
    UserLookup,
)
from bot.engagement.models.vocabulary import (
    AGE_LIMITED_METRICS,
    ALL_METRICS,
    DEFAULT_SERIES,
    DEFAULT_TOTALS,
    FOUR_VALUE_ORDERS,
    IMPRESSIONS_METRICS,
    LIMITS,
    MAX_GROUPINGS,
    PRE_FLOOR_ZERO_METRICS,
    PUBLIC_METRICS,
    SERIES_METRICS,
    TIME_GROUP_BYS,
    TOTALS_METRICS,
    Endpoint,
    GroupBy,
    Limits,
    metrics_for,
)

__all__ = [
    "AGE_LIMITED_METRICS",
    "ALL_METRICS",
    "APP_ONLY",
    "AccessGrant",
    "AppCredentials",
    "AppOnly",
    "Auth",
    "Cell",
    "DAILY",
    "DEFAULT_SERIES",
    "DEFAULT_TOTALS",
    "Endpoint",
    "EngagementRequest",
    "EngagementResult",
    "FOUR_VALUE_ORDERS",
    "GroupBy",
    "Grouping",
    "GroupingResult",
    "HOURLY",
    "IMPRESSIONS_METRICS",
    "LIMITS",
    "Limits",
    "MAX_GROUPINGS",
    "MissingReason",
    "PER_POST",
    "PRE_FLOOR_ZERO_METRICS",
    "PUBLIC_METRICS",
    "Post",
    "PostLookup",
    "PostPage",
    "SearchResult",
    "RateLimitInfo",
    "RequestToken",
    "SERIES_METRICS",
    "TIME_GROUP_BYS",
    "TOTALS_METRICS",
    "Tree",
    "User",
    "UserAuth",
    "UserLookup",
    "metrics_for",
]
