"""The buttons on the daily digest: More (the next page of the day's top Posts, in the digest's
thread), CSV (the top Posts shown, with their numbers, as a file in the thread) and Change
period (the channel's leaderboard over the chosen period, in the thread, with the board's own
buttons). The digest's numbers are gathered again for its day, as `/engagement digest now`
gathers them, under that command's permission rule (reads are open to everyone)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.channels.digest import day_bounds, gather, zone_of
from bot.copy import digest as digest_copy
from bot.render import buttons
from bot.render.digest import DigestData, top_page, top_page_message
from bot.render.message import Message
from bot.render.replies import error_message
from bot.render.tables import digest_csv
from bot.slack.commands import refusal
from bot.slack.interactive.actions import channel_of, message_ts, tell
from bot.slack.interactive.boards import more as board_in_thread
from bot.slack.interactive.context import Interactive, invocation
from bot.slack.listeners import Replies, upload_file
from bot.slack.parse import commands as c

log = logging.getLogger(__name__)


def digest_of(body: Mapping[str, Any], day: date, on: Interactive) -> DigestData | Message:
    """The digest's numbers for `day` in the pressed message's channel, or why not."""
    channel = channel_of(body)
    inv = invocation(body, channel)
    refused = refusal(c.DigestNow(), inv, deps=on.deps)
    if refused is not None:
        return error_message(refused)
    now: datetime = on.clock()
    settings = on.deps.store.channels.settings(inv.team_id, channel)
    zone = zone_of(settings, on.deps)
    if day_bounds(day, zone)[1] > now:
        return error_message(digest_copy.not_over_yet(day, zone.key))
    return gather(settings, day, zone, now=now, deps=on.deps)


def more(
    body: Mapping[str, Any], day: date, offset: int, client: WebClient, on: Interactive
) -> None:
    """The next page of the day's top Posts, in the digest's thread (to the presser if none)."""
    data = digest_of(body, day, on)
    reply = data if isinstance(data, Message) else top_page_message(data, offset)
    thread = message_ts(body)
    if reply.ephemeral or thread is None:
        tell(body, reply)
        return
    client.chat_postMessage(
        channel=channel_of(body),
        thread_ts=thread,
        text=reply.text,
        blocks=list(reply.blocks) or None,
    )


def csv_file(
    body: Mapping[str, Any], day: date, offset: int, client: WebClient, on: Interactive
) -> None:
    """The top Posts the pressed message shows, with their numbers, as a CSV in its thread."""
    data = digest_of(body, day, on)
    if isinstance(data, Message):
        tell(body, data)
        return
    url = body.get("response_url")
    replies = Replies(Respond(response_url=str(url) if url else None), health=on.deps.health)
    upload_file(
        digest_csv(top_page(data, offset), day=day, authors=data.authors, first=offset + 1),
        filename=digest_copy.csv_filename(day, offset + 1),
        title=digest_copy.csv_title(day),
        channel_id=channel_of(body),
        replies=replies,
        client=client,
        thread_ts=message_ts(body),
    )


def register(app: App, on: Interactive) -> None:
    def more_pressed(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        read = buttons.read_digest_value(str(action.get("value") or ""))
        if read is not None:
            on.later(lambda: more(body, *read, client, on), asks_x=True)

    def csv_pressed(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        read = buttons.read_digest_value(str(action.get("value") or ""))
        if read is not None:
            on.later(lambda: csv_file(body, *read, client, on), asks_x=True)

    def period_picked(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        period = str((action.get("selected_option") or {}).get("value") or "")
        if period in buttons.PERIODS:
            board = c.Top(period=period)
            on.later(lambda: board_in_thread(body, board, client, on), asks_x=True)

    app.action(buttons.DIGEST_MORE)(more_pressed)
    app.action(buttons.DIGEST_CSV)(csv_pressed)
    app.action(buttons.DIGEST_PERIOD)(period_picked)
