"""The buttons on a leaderboard (More, CSV, Change period) and a totals card (Refresh). Each
reruns the command the message came from (its value says which), as the presser, through the
same dispatcher; reads are open to everyone, as the typed commands are."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.channels.authors import post_authors
from bot.copy.home import csv_title
from bot.engagement.post_refs import PostRef
from bot.render import buttons
from bot.render.message import Message
from bot.render.tables import leaderboard_csv
from bot.slack.commands import perform
from bot.slack.commands.numbers import board_rows
from bot.slack.interactive.actions import channel_of, message_ts, tell
from bot.slack.interactive.context import Interactive, invocation
from bot.slack.listeners import Replies, upload_file
from bot.slack.parse import commands as c
from bot.slack.retries import response_webhook

log = logging.getLogger(__name__)

_POST_IDS = re.compile(r"\d{1,25}( \d{1,25})*")


def board_of(value: str) -> c.Top | None:
    read = buttons.read_board_value(value)
    if read is None:
        return None
    metric, limit, period, offset = read
    return c.Top(metric=metric, limit=limit, period=period, offset=offset)


def replace_original(body: Mapping[str, Any], message: Message) -> None:
    """The message the button is on, replaced by `message` (Change period, Refresh)."""
    url = body.get("response_url")
    if not url:
        return
    response_webhook(str(url)).send(
        text=message.text,
        blocks=list(message.blocks) or None,
        response_type="ephemeral" if message.ephemeral else "in_channel",
        replace_original=True,
    )


def more(body: Mapping[str, Any], command: c.Top, client: WebClient, on: Interactive) -> None:
    """The board's next page, in the board's thread (only to the presser if it has none)."""
    channel = channel_of(body)
    reply = perform(command, invocation(body, channel), deps=on.deps, now=on.clock())
    thread = message_ts(body)
    if reply.ephemeral or thread is None:
        tell(body, reply)
        return
    client.chat_postMessage(
        channel=channel, thread_ts=thread, text=reply.text, blocks=list(reply.blocks) or None
    )


def csv_file(body: Mapping[str, Any], command: c.Top, client: WebClient, on: Interactive) -> None:
    """The board's page as a CSV file in its thread: the rows it shows, as it ranks them."""
    channel = channel_of(body)
    board = board_rows(command, invocation(body, channel), on.deps, on.clock())
    authors = post_authors(on.deps.store, [r.post_id for r in board.rows])
    data = leaderboard_csv(
        board.rows,
        metric=command.metric,
        period=command.period,
        authors=authors,
        offset=command.offset,
    )
    url = body.get("response_url")
    replies = Replies(Respond(response_url=str(url) if url else None), health=on.deps.health)
    upload_file(
        data,
        filename=f"top-{command.metric}-{command.period}.csv",
        title=csv_title(command.metric, command.period),
        channel_id=channel,
        replies=replies,
        client=client,
        thread_ts=message_ts(body),
    )


def rerun(body: Mapping[str, Any], command: object, on: Interactive) -> None:
    inv = invocation(body, channel_of(body))
    replace_original(body, perform(command, inv, deps=on.deps, now=on.clock()))


def register(app: App, on: Interactive) -> None:
    def more_pressed(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        command = board_of(str(action.get("value") or ""))
        if command is not None:
            on.later(lambda: more(body, command, client, on), asks_x=True)

    def csv_pressed(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        command = board_of(str(action.get("value") or ""))
        if command is not None:
            on.later(lambda: csv_file(body, command, client, on), asks_x=True)

    def period_picked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        option = action.get("selected_option") or {}
        command = board_of(str(option.get("value") or ""))
        if command is not None:
            on.later(lambda: rerun(body, command, on), asks_x=True)

    def refresh_pressed(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        value = str(action.get("value") or "")
        if _POST_IDS.fullmatch(value):
            command = c.Totals(tuple(PostRef(p) for p in value.split()))
            on.later(lambda: rerun(body, command, on), asks_x=True)

    app.action(buttons.BOARD_MORE)(more_pressed)
    app.action(buttons.BOARD_CSV)(csv_pressed)
    app.action(buttons.BOARD_PERIOD)(period_picked)
    app.action(buttons.TOTALS_REFRESH)(refresh_pressed)
