"""The `post` and `find_posted` callables jobs take, made from a slack_sdk WebClient, and what
a job does when Slack refuses a channel.

    classify(error)  ─ PAUSE: no retry fixes it (archived, bot removed, token revoked …)
                     ─ RETRY: try at the next run (rate limited after the client's own retries,
                       Slack down, the network, anything unknown)
    pause_channel / resume / pause_note  ─ ChannelSettings.paused_reason and paused_at

A 429 never reaches `classify` on its first try: bot.slack.app.build_web_client's
RateLimitErrorRetryHandler sleeps Retry-After and sends the call again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.digest_messages import PAUSE_REASONS, pause_reason, paused_note
from bot.slack.blocks_kit import FALLBACK_TEXT, clip, context, escape
from bot.slack.message import Message
from bot.store import Store
from bot.store.channels import ChannelSettings

log = logging.getLogger(__name__)

Post = Callable[[str, Message], str]  # (channel, message) → ts; raises when not posted
FindPosted = Callable[[str, str], str | None]  # (channel, marker) → ts of a posted message

HISTORY_PAGE = 200
NOTE_TEXT = 500  # a pause note is one context line


class Action(StrEnum):
    PAUSE = "pause"  # stop posting in the channel until someone resumes it
    RETRY = "retry"  # a later run may succeed


@dataclass(frozen=True)
class SlackFailure:
    action: Action
    code: str  # Slack's error code, the HTTP status, or the exception's class name
    reason: str | None = None  # for PAUSE: what the channel is told
    retry_after: float | None = None  # seconds Slack asked for (429)


def classify(error: BaseException) -> SlackFailure:
    """What to do about an exception raised while posting to a channel."""
    if not isinstance(error, SlackApiError):
        return SlackFailure(Action.RETRY, type(error).__name__)
    response = error.response
    code = str(response.get("error") or response.status_code)
    if code in PAUSE_REASONS:
        return SlackFailure(Action.PAUSE, code, pause_reason(code))
    return SlackFailure(Action.RETRY, code, retry_after=_retry_after(response.headers))


def _retry_after(headers: Mapping[str, Any]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            text = str(value[0] if isinstance(value, list) and value else value).strip()
            return float(text) if text.isdigit() else None
    return None


def pause_channel(
    store: Store, team_id: str, channel_id: str, reason: str, now: datetime
) -> ChannelSettings:
    """Stop digests and alerts in the channel, remembering why and since when. A channel
    already paused keeps its first reason and time."""
    settings = store.channels.settings(team_id, channel_id)
    if settings.paused_reason is not None:
        return settings
    paused = replace(settings, paused_reason=reason, paused_at=now)
    store.channels.save_settings(paused, now=now)
    log.warning("paused %s %s: %s", team_id, channel_id, reason)
    return paused


def resume(store: Store, team_id: str, channel_id: str, *, now: datetime) -> bool:
    """Clear a pause; False when the channel was not paused."""
    settings = store.channels.settings(team_id, channel_id)
    if settings.paused_reason is None:
        return False
    store.channels.save_settings(replace(settings, paused_reason=None, paused_at=None), now=now)
    return True


def pause_note(settings: ChannelSettings) -> str | None:
    """The sentence a person sees at their next `/engagement` in a paused channel."""
    if settings.paused_reason is None:
        return None
    return paused_note(settings.paused_at, settings.paused_reason)


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


def slack_post(client: WebClient) -> Post:
    """chat.postMessage (with the message's metadata), then its chart via files_upload_v2 in
    the message's thread. Raises only when the message itself was not posted: a chart that
    fails after the message is in the channel is logged, so the ts still gets recorded."""

    def post(channel_id: str, message: Message) -> str:
        reply = client.chat_postMessage(
            channel=channel_id,
            text=message.text,
            blocks=list(message.blocks) or None,
            metadata=dict(message.metadata) if message.metadata else None,
        )
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


def slack_finder(client: WebClient) -> FindPosted:
    """conversations.history: the ts of the newest message whose metadata carries `marker`."""

    def find_posted(channel_id: str, marker: str) -> str | None:
        reply = client.conversations_history(
            channel=channel_id, include_all_metadata=True, limit=HISTORY_PAGE
        )
        for item in reply.get("messages") or []:
            payload = (item.get("metadata") or {}).get("event_payload") or {}
            if payload.get("marker") == marker:
                return str(item["ts"])
        return None

    return find_posted
