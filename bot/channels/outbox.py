"""What a use case needs to post to a channel without knowing Slack: the `post` and
`find_posted` callables it is handed (bot.slack.outbox makes them from a WebClient), how a
refusal is classified, and what a channel paused by Slack looks like.

    find_posted(channel, marker, window)  ─ the ts of the message carrying `marker` in `window`
                     (the newest messages when None); None: not there; Unanswered: Slack could
                     not be asked (throttled, down): the caller must not take that as "not posted"
    failure_of(error) ─ PAUSE: no retry fixes it (archived, bot removed, token revoked …)
                      ─ RETRY: try at the next run (rate limited after the client's own
                        retries, Slack down, the network, anything unknown)
    pause_channel / resume / pause_note  ─ ChannelSettings.paused_reason and paused_at
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.copy.digest import paused_note, search_throttled
from bot.render.message import Message
from bot.store import Store
from bot.store.channels import ChannelSettings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]  # now, as the caller's clock tells it
PostMessage = Callable[[str, Message], str]  # (channel, message) → ts; raises when not posted

# An attempt's message has a ts from SLACK_CLOCK_SKEW before the attempt (Slack's clock against
# ours) to POST_SPAN after it: chat.postMessage's 30 s timeout, tried 3 times, plus the
# Retry-After waits of the client's 429 retries.
SLACK_CLOCK_SKEW = timedelta(minutes=1)
POST_SPAN = timedelta(minutes=5)


@dataclass(frozen=True)
class Window:
    """Where in a channel a message may be: [oldest, latest], inclusive; in the replies of the
    thread `thread_ts` when set (a reply is not in the channel's history)."""

    oldest: datetime
    latest: datetime
    thread_ts: str | None = None


def attempt_window(attempted_at: datetime, thread_ts: str | None = None) -> Window:
    """Where the message of a post attempted at `attempted_at` (in thread `thread_ts`, when
    it was a reply) can have landed."""
    return Window(attempted_at - SLACK_CLOCK_SKEW, attempted_at + POST_SPAN, thread_ts)


class Unanswered(Exception):  # noqa: N818 - it is an answer: "cannot tell yet"
    """Whether the message was posted cannot be told now (Slack throttled the search, or
    failed): ask again later; never take it for "not posted"."""


class Throttled(Exception):  # noqa: N818 - Slack's 429
    """conversations.history answered 429: ask again `retry_after` seconds later."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(search_throttled(retry_after))
        self.retry_after = retry_after


@dataclass(frozen=True)
class Page:
    found: str | None  # the ts of the message carrying the marker, when on this page
    next_cursor: str | None  # more of the window to read


class FindPosted(Protocol):
    def __call__(self, channel_id: str, marker: str, window: Window | None = None) -> str | None:
        """The ts of the message carrying `marker` (in `window`; the newest messages when
        None); None when it is not there; raises Unanswered when Slack cannot tell now."""
        ...


HistoryPage = Callable[[str, str, Window, str | None], Page]  # channel, marker, window, cursor


class Action(StrEnum):
    PAUSE = "pause"  # stop posting in the channel until someone resumes it
    RETRY = "retry"  # a later run may succeed


@dataclass(frozen=True)
class SlackFailure:
    action: Action
    code: str  # Slack's error code, the HTTP status, or the exception's class name
    reason: str | None = None  # for PAUSE: what the channel is told
    retry_after: float | None = None  # seconds Slack asked for (429)


class Refused(Exception):  # noqa: N818 - Slack's answer, already classified
    """Slack refused a call about a channel; the Slack edge (bot.slack.outbox) says what to do
    about it before it reaches a use case."""

    def __init__(self, failure: SlackFailure, message: str | None = None) -> None:
        super().__init__(message or failure.code)
        self.failure = failure


def failure_of(error: BaseException) -> SlackFailure:
    """What to do about an exception raised while posting to (or searching) a channel: Slack's
    classified refusal, else retry (the network, anything unknown)."""
    if isinstance(error, Refused):
        return error.failure
    return SlackFailure(Action.RETRY, type(error).__name__)


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
