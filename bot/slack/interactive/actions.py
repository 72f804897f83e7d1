"""The buttons: on an alert (Snooze 2h, Show hourly), in the App Home (a channel's menu:
digest settings, new alert, quiet hours, snooze or resume; previous/next channels) and under
`/engagement settings` (the same three modals). Each acks at once; the change it stands for
runs through that command, permission checked, after the ack."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.engagement.post_refs import PostRef
from bot.render import buttons
from bot.render.message import Message
from bot.slack.commands import perform
from bot.slack.interactive import home, modals
from bot.slack.interactive.context import Interactive, invocation, team_of, user_of
from bot.slack.listeners import Replies, upload_chart
from bot.slack.parse import commands as c
from bot.slack.retries import response_webhook

log = logging.getLogger(__name__)


def tell(body: Mapping[str, Any], message: Message) -> None:
    """Only to the presser, as a new ephemeral message (the original stays as it is)."""
    url = body.get("response_url")
    if not url:
        log.info("no response_url to answer a press with")
        return
    response_webhook(str(url)).send(
        text=message.text,
        blocks=list(message.blocks) or None,
        response_type="ephemeral",
        replace_original=False,
    )


def channel_of(body: Mapping[str, Any]) -> str:
    channel = body.get("channel")
    return str(channel.get("id") or "") if isinstance(channel, Mapping) else ""


def message_ts(body: Mapping[str, Any]) -> str | None:
    container = body.get("container") or {}
    ts = container.get("thread_ts") or container.get("message_ts")
    return str(ts) if ts else None


def snooze_alerts(body: Mapping[str, Any], on: Interactive) -> None:
    """Snooze 2h on an alert: `/engagement snooze 2h` in that channel, by the presser."""
    inv = invocation(body, channel_of(body))
    command = c.Snooze(timedelta(hours=buttons.SNOOZE_HOURS))
    tell(body, perform(command, inv, deps=on.deps, now=on.clock()))


def show_hourly(body: Mapping[str, Any], post_id: str, client: WebClient, on: Interactive) -> None:
    """Show hourly on an alert: `/engagement hourly <Post>`, posted in the alert's thread."""
    channel = channel_of(body)
    inv = invocation(body, channel)
    reply = perform(c.Hourly(PostRef(post_id)), inv, deps=on.deps, now=on.clock())
    thread = message_ts(body)
    if reply.ephemeral or thread is None:  # an error, or nowhere to thread it: to the presser
        tell(body, reply)
        return
    client.chat_postMessage(
        channel=channel, thread_ts=thread, text=reply.text, blocks=list(reply.blocks) or None
    )
    if reply.chart is not None:
        url = body.get("response_url")
        replies = Replies(Respond(response_url=str(url) if url else None), health=on.deps.health)
        upload_chart(
            reply.chart, channel_id=channel, replies=replies, client=client, thread_ts=thread
        )


def channel_menu(
    body: Mapping[str, Any], action: Mapping[str, Any], client: WebClient, on: Interactive
) -> None:
    """A channel's menu in the App Home, or a button under `/engagement settings`."""
    option = action.get("selected_option")
    if isinstance(option, Mapping):
        what, _, channel = str(option.get("value") or "").partition(":")
    else:
        what = str(action.get("action_id") or "").partition(":")[2]
        channel = str(action.get("value") or "")
    if not channel:
        return
    if what in (buttons.SNOOZE, buttons.RESUME):
        hours = buttons.SNOOZE_HOURS if what == buttons.SNOOZE else 0
        inv = invocation(body, channel)
        perform(c.Snooze(timedelta(hours=hours)), inv, deps=on.deps, now=on.clock())
        home.publish(client, on, team_of(body), user_of(body))
        return
    modals.open_modal(what, channel, body, client, on)


def register(app: App, on: Interactive) -> None:
    def snooze(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        on.later(lambda: snooze_alerts(body, on))

    def hourly(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        post_id = str(action.get("value") or "")
        on.later(lambda: show_hourly(body, post_id, client, on), asks_x=True)

    def menu(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        # views.open needs the trigger_id within 3 s of the press: not queued behind X work.
        on.later(lambda: channel_menu(body, action, client, on))

    def page(ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient) -> None:
        ack()
        number = int(str(action.get("value") or "0")) if str(action.get("value")).isdigit() else 0
        on.later(lambda: home.publish(client, on, team_of(body), user_of(body), number))

    def mute(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        post_id = str(action.get("value") or "")
        if post_id.isdigit():
            inv = invocation(body, channel_of(body))
            command = c.Mute(PostRef(post_id))
            on.later(lambda: tell(body, perform(command, inv, deps=on.deps, now=on.clock())))

    app.action(buttons.SNOOZE_2H)(snooze)
    app.action(re.compile(rf"^{buttons.MUTE_POST}(:\d+)?$"))(mute)
    app.action(re.compile(rf"^{buttons.SHOW_HOURLY}(:\d+)?$"))(hourly)
    app.action(re.compile(rf"^{buttons.CHANNEL_MENU}(:\w+)?$"))(menu)
    app.action(re.compile(rf"^{buttons.HOME_PAGE}:\w+$"))(page)
