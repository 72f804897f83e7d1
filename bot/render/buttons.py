"""The interactive elements the bot puts on its messages and views, and their action ids.

An action id names what a press does; its `value` carries only what the press acts on (a Post
ID, a page number, a channel): never a token. The listeners in bot/slack/interactive/ register
one handler per action id below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    Option,
    OverflowMenuElement,
    PlainTextObject,
    StaticSelectElement,
)

from bot.copy import home as copy
from bot.render.kit import Block, clip
from bot.render.message import Message

# Alert messages.
SNOOZE_2H = "alert_snooze_2h"
SHOW_HOURLY = "alert_show_hourly"
MUTE_POST = "alert_mute_post"
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
TOP_PAGE = 3  # a digest's top Posts per page (bot.render.digest.TOP_POSTS)


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=clip(text, BUTTON_TEXT), emoji=True),
        action_id=action_id,
        value=value,
        style=style,
    )


def alert_actions(post_labels: Sequence[tuple[str, str]]) -> Block:
    """Snooze 2h, and Show hourly and Mute for each firing Post (post ID, plain label), a few
    at most.
    Action ids are unique within a block, so each Post's button has its own suffix."""
    elements = [button(copy.SNOOZE_2H, SNOOZE_2H, str(SNOOZE_HOURS))]
    shown = post_labels[:MAX_HOURLY_BUTTONS]
    for n, (post_id, label) in enumerate(shown):
        elements.append(button(f"{copy.SHOW_HOURLY}: {label}", f"{SHOW_HOURLY}:{n}", post_id))
    for n, (post_id, label) in enumerate(shown):
        text = copy.MUTE_POST if len(shown) == 1 else f"{copy.MUTE}: {label}"
        elements.append(button(text, f"{MUTE_POST}:{n}", post_id))
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


# Boards and totals cards.
BOARD_MORE = "board_more"
BOARD_CSV = "board_csv"
BOARD_PERIOD = "board_period"
TOTALS_REFRESH = "totals_refresh"
PERIODS = ("24h", "7d", "28d", "90d")
MAX_VALUE = 2_000  # Slack's limit for a button's value


def board_value(metric: str, limit: int, period: str, offset: int) -> str:
    """What a board's buttons carry: the board they stand for ("metric|limit|period|offset")."""
    return f"{metric}|{limit}|{period}|{offset}"


def read_board_value(value: str) -> tuple[str, int, str, int] | None:
    """The board a button stands for; None when the value is not one we made."""
    parts = value.split("|")
    if len(parts) != 4 or not parts[1].isdigit() or not parts[3].isdigit():
        return None
    if parts[2] not in PERIODS:
        return None
    return parts[0], int(parts[1]), parts[2], int(parts[3])


def board_actions(metric: str, limit: int, period: str, offset: int, *, more: bool) -> Block:
    """More (the next `limit` rows, when there may be some), CSV (this page's rows as a file)
    and Change period (a select of 24h/7d/28d/90d)."""
    here = board_value(metric, limit, period, offset)
    elements: list[ButtonElement | StaticSelectElement] = []
    if more:
        elements.append(
            button(copy.MORE, BOARD_MORE, board_value(metric, limit, period, offset + limit))
        )
    elements.append(button(copy.CSV, BOARD_CSV, here))
    options = [
        Option(text=copy.period_label(p), value=board_value(metric, limit, p, 0)) for p in PERIODS
    ]
    elements.append(
        StaticSelectElement(
            action_id=BOARD_PERIOD,
            placeholder=PlainTextObject(text=copy.CHANGE_PERIOD),
            options=options,
            initial_option=next(o for o in options if o.value.split("|")[2] == period),
        )
    )
    return ActionsBlock(block_id="board_actions", elements=elements).to_dict()


def refresh_actions(post_ids: Sequence[str]) -> Block | None:
    """A totals card's Refresh; None when its Posts do not fit in a button's value."""
    value = " ".join(post_ids)
    if not value or len(value) > MAX_VALUE:
        return None
    return ActionsBlock(
        block_id="totals_actions", elements=[button(copy.REFRESH, TOTALS_REFRESH, value)]
    ).to_dict()


def with_actions(message: Message, block: Block | None) -> Message:
    """`message` with an actions block after its own blocks (none: unchanged)."""
    if block is None or not message.blocks:
        return message
    return replace(message, blocks=(*message.blocks, block))


# The daily digest (its top Posts: More, CSV; Change period: the channel's board in its thread).
DIGEST_MORE = "digest_more"
DIGEST_CSV = "digest_csv"
DIGEST_PERIOD = "digest_period"


def digest_value(day: date, offset: int) -> str:
    """What a digest's More and CSV carry: its day and the first of the rows ("date|offset")."""
    return f"{day.isoformat()}|{offset}"


def read_digest_value(value: str) -> tuple[date, int] | None:
    """The digest day and offset a button stands for; None when the value is not one we made."""
    day, _, offset = value.partition("|")
    if not offset.isdigit():
        return None
    try:
        return date.fromisoformat(day), int(offset)
    except ValueError:
        return None


def digest_actions(day: date, offset: int, *, more: bool) -> Block:
    """More (the next page of top Posts, when there are more), CSV (the top Posts shown, with
    their numbers) and Change period (the channel's leaderboard over 24h/7d/28d/90d)."""
    elements: list[ButtonElement | StaticSelectElement] = []
    if more:
        elements.append(button(copy.MORE, DIGEST_MORE, digest_value(day, offset + TOP_PAGE)))
    elements.append(button(copy.CSV, DIGEST_CSV, digest_value(day, offset)))
    elements.append(
        StaticSelectElement(
            action_id=DIGEST_PERIOD,
            placeholder=PlainTextObject(text=copy.CHANGE_PERIOD),
            options=[Option(text=copy.period_label(p), value=p) for p in PERIODS],
        )
    )
    return ActionsBlock(block_id="digest_actions", elements=elements).to_dict()
