"""What our Slack clients retry: connection errors, 429s and 5xx, twice each, through slack_sdk's
retry handlers. Shared by the Web API client and the response_url webhook, so a reply is not
lost to one busy moment of Slack's.

A 429 is retried only when its Retry-After is at most RETRY_AFTER_CAP_S: the retry sleeps on
the thread that made the call, which is a command's (or a job's), and a Slack asking for 20 s
would hold it, and everyone queued behind it, that long. Past the cap the 429 is the answer:
the caller reports it (bot.slack.permissions: "Slack is busy, try again in about 20 s").

With a `health` record (bot.engagement.health), every Web API attempt's outcome is noted there too.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Mapping
from typing import Any

from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.engagement.health import SLACK, CallHealth
from bot.engagement.log_filters import drop_debug_records

TIMEOUT_S = 30
RETRY_AFTER_CAP_S = 5.0
# Sent when a 429 names no wait (Slack always does; a proxy may not).
DEFAULT_RETRY_AFTER_S = 1.0
# Loggers that print request URLs and bodies at DEBUG: response_urls, connect links. Bolt's
# Socket Mode client logs every payload (response_url included) through the app's logger.
_CHATTY_LOGGERS = (
    "slack_sdk.webhook.client",
    "slack_sdk.web.base_client",
    "slack_sdk.socket_mode.builtin.client",
    "slack_bolt.App",
)


def retry_handlers(health: CallHealth | None = None) -> list[RetryHandler]:
    """Every Slack client we build takes these: also the moment to quiet slack_sdk's debug logs,
    before its first request."""
    drop_debug_records(_CHATTY_LOGGERS)
    handlers: list[RetryHandler] = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        CappedRateLimitRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    # First, so it sees every attempt before a retry handler takes it.
    return [HealthRecorder(health), *handlers] if health is not None else handlers


def retry_after(headers: Mapping[str, Any]) -> float | None:
    """Seconds a Slack 429 asks to wait (None: no Retry-After, or not a sane number). Takes
    slack_sdk's header maps of either shape: lists of values (retry handlers) or single values
    (an error's response)."""
    for name, value in headers.items():
        if name.lower() != "retry-after":
            continue
        text = str(value[0] if isinstance(value, list | tuple) and value else value).strip()
        try:
            seconds = float(text)
        except ValueError:
            return None
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    return None


class CappedRateLimitRetryHandler(RateLimitErrorRetryHandler):
    """slack_sdk's RateLimitErrorRetryHandler, but a 429 asking for more than
    RETRY_AFTER_CAP_S is not retried (nor slept on). A subclass, so code that takes 429s into
    its own hands (bot.channels.outbox.without_rate_limit_retries) finds it by that type."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response.headers)
        return wait is None or wait <= RETRY_AFTER_CAP_S

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = retry_after(response.headers) if response is not None else None
        state.next_attempt_requested = True
        # Jitter spreads the retries of threads that hit the same limit together.
        time.sleep(min(wait or DEFAULT_RETRY_AFTER_S, RETRY_AFTER_CAP_S) + random.random())  # noqa: S311
        state.increment_current_attempt()


class HealthRecorder(RetryHandler):
    """Retries nothing: notes each Web API attempt's outcome in `health` (slack_sdk asks the
    handlers about every response, 200s included, and every connection error)."""

    def __init__(self, health: CallHealth) -> None:
        super().__init__(max_retry_count=1 << 30)
        self._health = health

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        status = response.status_code if response is not None else None
        self._health.record(SLACK, problem_of(status, error))
        return False


def problem_of(status: int | None, error: BaseException | None) -> str | None:
    """A Slack call's outcome as bot.engagement.health counts it (None: Slack answered)."""
    if status is not None:
        return f"HTTP {status} answers" if status == 429 or status >= 500 else None
    if isinstance(error, TimeoutError):
        return "timeouts"
    return "connection errors" if error is not None else None


def response_webhook(response_url: str) -> WebhookClient:
    """A client for one command's response_url that retries like the Web API client."""
    return WebhookClient(response_url, timeout=TIMEOUT_S, retry_handlers=retry_handlers())
