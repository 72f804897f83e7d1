"""Slack Web API clients: the scopes the bot asks for, a client that retries what is worth
retrying, and the membership check behind `Deps.can_post`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.engagement.health import CallHealth
from bot.slack.retries import retry_handlers

log = logging.getLogger(__name__)

# Every bot scope app_manifest.yaml asks for, and the code that needs it (tests compare them).
SCOPES: Mapping[str, str] = {
    "commands": "the /engagement slash command",
    "chat:write": "digests and alerts posted with chat.postMessage",
    "files:write": "chart uploads with files_upload_v2",
    "channels:read": "can_post(): conversations.info on public channels",
    "groups:read": "can_post(): conversations.info on private channels",
    "channels:history": "digest reconcile: conversations.history on public channels",
    "groups:history": "digest reconcile: conversations.history on private channels",
    "users:read": "may_change(): users.info is_admin / is_owner of whoever changes settings",
}
WEB_API_TIMEOUT_S = 30


def build_web_client(
    settings: Settings, *, token: str | None = None, health: CallHealth | None = None
) -> WebClient:
    """A Web API client for `settings.slack_api_url` that retries what is worth retrying
    (noting each attempt's outcome in `health` when given)."""
    return WebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=WEB_API_TIMEOUT_S,
        retry_handlers=retry_handlers(health),
    )


def channel_membership(client: WebClient) -> Callable[[str], bool]:
    """`Deps.can_post`: whether the bot is a member of a channel (so it may upload there),
    asked of conversations.info. Any error (a private channel it cannot see, a DM) means no."""

    def can_post(channel_id: str) -> bool:
        try:
            reply = client.conversations_info(channel=channel_id)
        except SlackApiError as error:
            log.info("conversations.info %s: %s", channel_id, error.response.get("error"))
            return False
        channel = reply.get("channel") or {}
        return bool(channel.get("is_member"))

    return can_post
