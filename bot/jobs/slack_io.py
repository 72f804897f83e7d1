"""The `post` and `find_posted` callables jobs take, made from a slack_sdk WebClient."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.jobs.digest import FindPosted, Post
from bot.slack.message import Message

log = logging.getLogger(__name__)

HISTORY_PAGE = 200


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
