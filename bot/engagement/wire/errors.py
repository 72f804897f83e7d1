"""Error bodies and rate-limit headers as our exceptions (docs/simulator.md#errors)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from bot.engagement.models import RateLimitInfo
from bot.errors import (
    AuthError,
    BadRequest,
    EngagementAPIError,
    ErrorDetails,
    Forbidden,
    ForbiddenMetrics,
    ForbiddenPosts,
    GzipRequired,
    NotFound,
    ProtectedPosts,
    RateLimited,
    ServerError,
    UnexpectedResponse,
)

PROTECTED_MESSAGE = "Tweet ID(s) are unavailable"
FORBIDDEN_POSTS_PREFIX = "forbidden to access tweets"
FORBIDDEN_METRICS_PREFIX = "forbidden to access metrics"
_INT = re.compile(r"-?[0-9]+")
MAX_ERROR_TEXT = 300  # of X's own words in an exception's message; the rest stays in `messages`


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimitInfo:
    """x-per-minute-* (Engagement API) or x-rate-limit-* (v2), plus Date."""
    lower = {k.lower(): v for k, v in headers.items()}
    date_header = _http_date(lower.get("date"))
    for prefix, window in (("x-per-minute-", 60), ("x-rate-limit-", 900)):
        values = [_int(lower.get(prefix + name)) for name in ("limit", "remaining", "reset")]
        if any(v is not None for v in values):
            limit, remaining, reset_at = values
            return RateLimitInfo(limit, remaining, reset_at, date_header, window)
    return RateLimitInfo(date=date_header)


def _int(value: str | None) -> int | None:
    if value is None or not _INT.fullmatch(value.strip()):
        return None
    return int(value)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def error_messages(body: object) -> tuple[list[str], list[int]]:
    """The `errors` strings and codes of any error shape we know.

    Engagement endpoints send strings; OAuth routes `{code, message}` objects; v2 problem
    objects (`title`/`detail`), either in `errors` or as the body itself. A trailing ';' (X's FAQ
    copies them so; C14 in tests/fixtures/x_api/README.md) is stripped.
    """
    if not isinstance(body, dict):
        return [], []
    raw = body.get("errors")
    items: list[object] = raw if isinstance(raw, list) else [] if raw is None else [raw]
    if not items and ("detail" in body or "title" in body):
        items = [body]
    messages: list[str] = []
    codes: list[int] = []
    for item in items:
        if isinstance(item, dict):
            code = item.get("code")
            if isinstance(code, int) and not isinstance(code, bool):
                codes.append(code)
            item = item.get("message") or item.get("detail") or item.get("title")
        if isinstance(item, str):
            messages.append(item.strip().rstrip(";").rstrip())
    return messages, codes


def error_for(
    status: int,
    body: object,
    *,
    endpoint: str,
    rate_limit: RateLimitInfo | None,
    now: datetime | None = None,
) -> EngagementAPIError | None:
    """The exception for a response, or None when it carries data.

    `body` is the decoded JSON (None when it was not JSON). A 2xx is an error only when an
    `errors` string mentions the rate limit; `now` stands in for a missing Date header.
    """
    messages, codes = error_messages(body)
    details: ErrorDetails = {
        "status": status,
        "messages": messages,
        "codes": codes,
        "endpoint": endpoint,
        "rate_limit": rate_limit,
    }
    said = "; ".join(messages)
    if len(said) > MAX_ERROR_TEXT:
        said = said[: MAX_ERROR_TEXT - 1] + "…"
    text = f"{endpoint}: HTTP {status}" + (f": {said}" if messages else "")
    if status == 429 or any("rate limit" in m.lower() for m in messages):
        info = rate_limit or RateLimitInfo()
        wait = info.seconds_until_reset(now)
        return RateLimited(text, reset_at=info.reset_at, retry_after=wait, **details)
    if 200 <= status < 300:
        return None
    if status >= 500:
        return ServerError(text, **details)
    if status == 401 or (status == 403 and 99 in codes):
        # 99: /oauth2/token could not verify the app's key and secret.
        return AuthError(text, reason=_auth_reason(messages), **details)
    if status == 403:
        return _forbidden(text, messages, details)
    if status == 400:
        protected = PROTECTED_MESSAGE in messages  # without a count: not the 200 message
        return (ProtectedPosts if protected else BadRequest)(text, **details)
    if status in (404, 405):
        return NotFound(text, **details)
    if status == 406:
        return GzipRequired(text, **details)
    return UnexpectedResponse(text, **details)


def _auth_reason(messages: list[str]) -> str:
    for message in messages:
        _, sep, reason = message.partition("Reason: ")
        if sep:
            return reason.strip()
    return messages[0] if messages else ""


def _forbidden(text: str, messages: list[str], details: ErrorDetails) -> Forbidden:
    posts = [m for m in messages if m.lower().startswith(FORBIDDEN_POSTS_PREFIX)]
    if posts:
        ids = dict.fromkeys(i for m in posts for i in _listed_after_last_colon(m))
        return ForbiddenPosts(text, post_ids=list(ids), **details)
    metrics = [m for m in messages if m.lower().startswith(FORBIDDEN_METRICS_PREFIX)]
    if metrics:
        names = dict.fromkeys(n for m in metrics for n in _listed_after_last_colon(m))
        return ForbiddenMetrics(text, metrics=list(names), **details)
    return Forbidden(text, **details)


def _listed_after_last_colon(message: str) -> list[str]:
    """'Forbidden to access tweets for author id 1: 2, 3' → ['2', '3'].

    Both forms of docs/simulator.md#posts-not-owned: the IDs follow the last colon.
    """
    _, sep, tail = message.rpartition(":")
    if not sep:
        return []
    return [item.strip() for item in tail.rstrip(";").split(",") if item.strip()]
