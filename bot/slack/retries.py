"""What our Slack clients retry: connection errors, 429s (after Retry-After) and 5xx, twice
each, through slack_sdk's own retry handlers. Shared by the Web API client and the
response_url webhook, so a reply is not lost to one busy moment of Slack's."""

from __future__ import annotations

from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.webhook import WebhookClient

from bot.log_filters import drop_debug_records

TIMEOUT_S = 30
# Loggers that print request URLs and bodies at DEBUG: response_urls, connect links. Bolt's
# Socket Mode client logs every payload (response_url included) through the app's logger.
_CHATTY_LOGGERS = (
    "slack_sdk.webhook.client",
    "slack_sdk.web.base_client",
    "slack_sdk.socket_mode.builtin.client",
    "slack_bolt.App",
)


def retry_handlers() -> list[RetryHandler]:
    """Every Slack client we build takes these: also the moment to quiet slack_sdk's debug logs,
    before its first request."""
    drop_debug_records(_CHATTY_LOGGERS)
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=2),  # sleeps Retry-After (+ <1 s jitter)
        ServerErrorRetryHandler(max_retry_count=2),
    ]


def response_webhook(response_url: str) -> WebhookClient:
    """A client for one command's response_url that retries like the Web API client."""
    return WebhookClient(response_url, timeout=TIMEOUT_S, retry_handlers=retry_handlers())
