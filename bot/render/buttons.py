"""The interactive elements the bot puts on its messages and views, and their action ids.

An action id names what a press does; its `value` carries only what the press acts on (a Post
ID, a page number, a channel): never a token. The listeners in bot/slack/interactive/ register
one handler per action id below.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    Option,
    OverflowMenuElement,
    PlainTextObject,
)

from bot.copy import home as copy
from bot.render.kit import Block, clip

# Alert messages.
SNOOZE_2H = "alert_snooze_2h"
SHOW_HOURLY = "alert_show_hourly"
# The App Home.
CHANNEL_MENU = "home_channel_menu"
HOME_PAGE = "home_page"
# What a channel's menu offers (an overflow option's value is "<what>:<channel id>").
OPEN_DIGEST = "digest"
OPEN_QUIET = "quiet"
OPEN_ALERT = "alert"
SNOOZE = "snooze"
RESUME = "resume"

BUTTON_TEXT = 75  # Slack's limit for a button's label
MAX_HOURLY_BUTTONS = 4  # more firing Posts than this in one alert: `/engagement hourly <id>`
SNOOZE_HOURS = 2


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=clip(text, BUTTON_TEXT), emoji=True),
        action_id=action_id,
        value=value,
        style=style,
    )


def alert_actions(post_labels: Sequence[tuple[str, str]]) -> Block:
    """Snooze 2h, and Show hourly for each firing Post (post ID, plain label), a few at most.
    Action ids are unique within a block, so each Post's button has its own suffix."""
    elements = [button(copy.SNOOZE_2H, SNOOZE_2H, str(SNOOZE_HOURS))]
    for n, (post_id, label) in enumerate(post_labels[:MAX_HOURLY_BUTTONS]):
        elements.append(button(f"{copy.SHOW_HOURLY}: {label}", f"{SHOW_HOURLY}:{n}", post_id))
    return ActionsBlock(block_id="alert_actions", elements=elements).to_dict()


def channel_menu(channel_id: str, *, snoozed: bool) -> OverflowMenuElement:
    """The one accessory a channel's row in the App Home has: its settings and a snooze."""
    choices = [
        (copy.DIGEST_SETTINGS, OPEN_DIGEST),
        (copy.NEW_ALERT, OPEN_ALERT),
        (copy.QUIET_HOURS, OPEN_QUIET),
        (copy.RESUME, RESUME) if snoozed else (copy.SNOOZE_2H, SNOOZE),
    ]
    return OverflowMenuElement(
        action_id=CHANNEL_MENU,
        options=[Option(text=text, value=f"{what}:{channel_id}") for text, what in choices],
    )


def page_buttons(page: int, pages: int) -> Block | None:
    """Previous / next page of the App Home's channels; None when they all fit on one."""
    elements = []
    if page > 0:
        elements.append(button(copy.PREVIOUS, f"{HOME_PAGE}:prev", str(page - 1)))
    if page + 1 < pages:
        elements.append(button(copy.NEXT, f"{HOME_PAGE}:next", str(page + 1)))
    return ActionsBlock(block_id="home_pages", elements=elements).to_dict() if elements else None


def settings_buttons(channel_id: str) -> Block:
    """The buttons under `/engagement settings`: each opens its modal for this channel."""
    return ActionsBlock(
        block_id="settings_actions",
        elements=[
            button(copy.DIGEST_SETTINGS, f"{CHANNEL_MENU}:{OPEN_DIGEST}", channel_id),
            button(copy.NEW_ALERT, f"{CHANNEL_MENU}:{OPEN_ALERT}", channel_id),
            button(copy.QUIET_HOURS, f"{CHANNEL_MENU}:{OPEN_QUIET}", channel_id),
        ],
    ).to_dict()
