"""Models to and from the X API's JSON, and error bodies to our exceptions.

Pure: no I/O and no clock (callers pass `now`). The only place that knows the API's field names
(docs/simulator.md); bot.engagement.http_client moves the bytes.

    request   EngagementRequest → JSON body (validated like the API would)
    response  200 body → EngagementResult
    errors    status + body → the specific EngagementAPIError; headers → RateLimitInfo
    v2        X API v2 bodies → Post / User models; the /oauth2/token reply
"""

from bot.engagement.wire.errors import error_for, error_messages, parse_rate_limit
from bot.engagement.wire.request import (
    canonical_post_id,
    encode_request,
    format_hour,
    normalize,
    request_body,
)
from bot.engagement.wire.response import parse_count, parse_instant, parse_response
from bot.engagement.wire.v2 import (
    lookup_params,
    parse_bearer_token,
    parse_post_lookup,
    parse_post_page,
    parse_search_page,
    parse_user_lookup,
)

__all__ = [
    "canonical_post_id",
    "encode_request",
    "error_for",
    "error_messages",
    "format_hour",
    "lookup_params",
    "normalize",
    "parse_bearer_token",
    "parse_count",
    "parse_instant",
    "parse_post_lookup",
    "parse_post_page",
    "parse_search_page",
    "parse_rate_limit",
    "parse_response",
    "parse_user_lookup",
    "request_body",
]
