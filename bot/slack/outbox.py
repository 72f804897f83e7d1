"""The Slack side of bot.channels.outbox: `post` and `find_posted` made from a slack_sdk
WebClient, and `classify`, which turns Slack's refusals into the Refused a use case acts on.

A 429 never reaches `classify` on its first try: bot.slack.web.build_web_client's
RateLimitErrorRetryHandler sleeps Retry-After and sends the call again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.channels.outbox import (
    Action,
    FindPosted,
    HistoryPage,
    Page,
    PostMessage,
    Refused,
    SlackFailure,
    Throttled,
    Unanswered,
    Window,
)
from bot.copy.digest import PAUSE_REASONS, pause_reason
from bot.render.kit import FALLBACK_TEXT, clip, context, escape
from bot.render.message import Message
from bot.slack.retries import retry_after

log = logging.getLogger(__name__)

HISTORY_PAGE = 200  # a search without a window: the newest messages
# Slack's page cap for conversations.history under the non-Marketplace limits (limit's default
# and maximum are 15 there); within an attempt's window one page is the usual answer anyway.
WINDOW_PAGE = 15
NOTE_TEXT = 500  # a pause note is one context line
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slack_ts(moment: datetime) -> str:
    """A moment as Slack's ts ("seconds.micros"), exactly (a float would round the micros)."""
    micros = (moment - _EPOCH) // timedelta(microseconds=1)
    return f"{micros // 10**6}.{micros % 10**6:06d}"


def classify(error: BaseException) -> SlackFailure:
    """What to do about an exception raised while posting to a channel."""
    if not isinstance(error, SlackApiError):
        return SlackFailure(Action.RETRY, type(error).__name__)
    response = error.response
    code = str(response.get("error") or response.status_code)
    if code in PAUSE_REASONS:
        return SlackFailure(Action.PAUSE, code, pause_reason(code))
    return SlackFailure(Action.RETRY, code, retry_after=retry_after(response.headers))


def with_pause_note(message: Message, note: str | None) -> Message:
    """`message` with `note` (when there is one) as a context line above it (in the fallback
    text too; a message of text alone gets it there only)."""
    if note is None:
        return message
    line = escape(clip(note, NOTE_TEXT))
    text = clip(f"{line}\n{message.text}", FALLBACK_TEXT)
    if not message.blocks:
        return replace(message, text=text)
    return replace(message, text=text, blocks=(context(line), *message.blocks))


def slack_post(client: WebClient) -> PostMessage:
    """chat.postMessage (with the message's metadata), then its chart via files_upload_v2 in
    the message's thread. Raises only when the message itself was not posted: a chart that
    fails after the message is in the channel is logged, so the ts still gets recorded."""

    def post(channel_id: str, message: Message) -> str:
        try:
            reply = client.chat_postMessage(
                channel=channel_id,
                text=message.text,
                blocks=list(message.blocks) or None,
                metadata=dict(message.metadata) if message.metadata else None,
                thread_ts=message.thread_ts,
            )
        except SlackApiError as error:
            raise Refused(classify(error)) from error
        ts = str(reply["ts"])
        if message.chart is not None:
            try:
                client.files_upload_v2(
                    channel=channel_id,
                    file=message.chart.png,
                    filename=message.chart.filename,
                    title=message.chart.title,
                    alt_txt=message.chart.title,
                    thread_ts=ts,
                )
            except Exception:  # the digest is posted; a missing chart must not repost it
                log.exception("digest chart not uploaded to %s", channel_id)
        return ts

    return post


def _marked(messages: Any, marker: str) -> str | None:
    for item in messages or []:
        payload = (item.get("metadata") or {}).get("event_payload") or {}
        if payload.get("marker") == marker:
            return str(item["ts"])
    return None


def without_rate_limit_retries(client: WebClient) -> WebClient:
    """`client` whose 429s reach the caller: its own handler would sleep Retry-After on the
    calling thread (with the real clock), where a paced search waits its turn instead."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=dict(client.headers),
        retry_handlers=[
            h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)
        ],
    )


def history_page(client: WebClient) -> HistoryPage:
    """One conversations.history call over a window (conversations.replies for a window in a
    thread: replies are not in the history): Throttled on a 429 (the client must not retry
    429s itself: see without_rate_limit_retries), Refused on other refusals."""

    def page(channel_id: str, marker: str, window: Window, cursor: str | None) -> Page:
        span: dict[str, Any] = {
            "channel": channel_id,
            "oldest": slack_ts(window.oldest),
            "latest": slack_ts(window.latest),
            "inclusive": True,
            "include_all_metadata": True,
            "limit": WINDOW_PAGE,
            "cursor": cursor,
        }
        try:
            if window.thread_ts is not None:
                reply = client.conversations_replies(ts=window.thread_ts, **span)
            else:
                reply = client.conversations_history(**span)
        except SlackApiError as error:
            if error.response.status_code == 429:
                raise Throttled(retry_after(error.response.headers) or 60.0) from error
            raise Refused(classify(error)) from error
        found = _marked(reply.get("messages"), marker)
        more = reply.get("has_more") and (reply.get("response_metadata") or {}).get("next_cursor")
        return Page(found, str(more) if more and found is None else None)

    return page


def slack_finder(
    client: WebClient,
    *,
    patience: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> FindPosted:
    """conversations.history, there and then: the ts of the message whose metadata carries
    `marker`, in `window` page after page, else among the newest messages. A 429 is waited out
    (Retry-After) while the waits add up to no more than `patience` seconds: a one-shot command
    (`engagement-bot digest`, `alerts check`) holds no one else's thread and may wait its turn
    under Slack's one-call-a-minute history limit; `run` queues its searches instead
    (bot.slack.reconcile). What cannot be told is Unanswered; a channel Slack refuses raises."""
    pages = history_page(client)

    def find_posted(channel_id: str, marker: str, window: Window | None = None) -> str | None:
        if window is None:
            try:
                reply = client.conversations_history(
                    channel=channel_id, include_all_metadata=True, limit=HISTORY_PAGE
                )
            except SlackApiError as error:
                raise Refused(classify(error)) from error
            return _marked(reply.get("messages"), marker)
        cursor: str | None = None
        waited = 0.0
        while True:
            try:
                page = pages(channel_id, marker, window, cursor)
            except Throttled as throttled:
                if waited + throttled.retry_after > patience:
                    raise Unanswered(f"conversations.history in {channel_id}: {throttled}") from (
                        throttled
                    )
                log.warning(
                    "Slack allows conversations.history in %s again in %.0f s: waiting",
                    channel_id,
                    throttled.retry_after,
                )
                sleep(throttled.retry_after)
                waited += throttled.retry_after
                continue
            except Exception as error:
                if isinstance(error, Refused) and error.failure.action is Action.PAUSE:
                    raise  # the channel itself is refused: posting will say so
                raise Unanswered(f"conversations.history in {channel_id}: {error}") from error
            if page.found is not None or page.next_cursor is None:
                return page.found
            cursor = page.next_cursor

    return find_posted
