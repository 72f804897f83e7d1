"""What the bot says: a Slack message as plain data (text fallback + Block Kit blocks)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Chart:
    """A PNG to upload beside the message when the bot can post in the channel."""

    filename: str
    png: bytes = field(repr=False)
    title: str


@dataclass(frozen=True)
class Message:
    """`text` is the notification and screen-reader fallback; `blocks` the Block Kit layout
        (dicts as slack_sdk's `to_dict()` makes them). `ephemeral` replies are seen by the asker
        only. `continuation` holds overflow that did not fit Slack's limits, to post in a thread.
    `thread_ts`: posted as a reply in that thread of the channel rather than in the channel."""

    text: str
    blocks: tuple[dict[str, Any], ...] = ()
    ephemeral: bool = True
    chart: Chart | None = None
    continuation: tuple[Message, ...] = ()
    metadata: Mapping[str, Any] | None = None
    thread_ts: str | None = None
