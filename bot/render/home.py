"""The App Home tab: a workspace's X accounts and usage, its channels' digests and alerts (each
with a menu to change them), the latest alerts and a short how-to, as one `home` view.

Slack allows a view 100 blocks; a channel takes one block, so the channels come in pages of
CHANNELS_PER_PAGE with previous/next buttons, and a channel's rules are summarised to a few.
Everything shown is escaped or built from IDs; nothing here reads the store (bot/channels/
home.py gathers HomeData).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.copy import home as copy
from bot.copy.words import metric_noun
from bot.render.buttons import channel_menu, page_buttons, settings_buttons
from bot.render.kit import (
    SECTION_TEXT,
    Authors,
    Block,
    clip,
    context,
    divider,
    escape,
    header,
    post_link,
    section,
    simple,
    slack_date,
)
from bot.render.lists import rule_text
from bot.render.message import Message
from bot.render.numbers import exact
from bot.store.alert_log import Firing
from bot.store.channels import AlertRule, ChannelSettings, Coverage

CHANNELS_PER_PAGE = 20
MAX_ACCOUNTS = 10
RULES_SHOWN = 3
RECENT_ALERTS = 5
RULE_TEXT = 160  # one rule's words in a channel's row


@dataclass(frozen=True)
class AccountState:
    handle: str
    readable: bool  # its tokens decrypt with the current key
    last_fetch: datetime | None


@dataclass(frozen=True)
class ChannelRow:
    settings: ChannelSettings
    rules: tuple[AlertRule, ...]
    coverage: Coverage
    zone: str  # the channel's zone, or the deployment's default
    authors: Authors = field(default_factory=dict)


@dataclass(frozen=True)
class RecentAlert:
    channel_id: str
    firing: Firing
    authors: Authors


@dataclass(frozen=True)
class HomeData:
    accounts: tuple[AccountState, ...]
    month: str
    calls: int
    owners: int
    channels: tuple[ChannelRow, ...]
    recent: tuple[RecentAlert, ...]
    may_change: bool
    now: datetime


def home_view(data: HomeData, *, page: int = 0) -> dict[str, Any]:
    """The `home` view for views.publish (a dict as slack_sdk's View makes it)."""
    blocks = [
        header(copy.HOME_TITLE),
        *_accounts(data),
        divider(),
        *_channels(data, page),
        divider(),
        header(copy.RECENT_TITLE),
        _recent(data),
        divider(),
        header(copy.HOWTO_TITLE),
        section(copy.HOWTO),
    ]
    if not data.may_change:
        blocks.append(context(copy.NOT_ADMIN_NOTE))
    return View(type="home", blocks=blocks).to_dict()


def _accounts(data: HomeData) -> list[Block]:
    usage = copy.usage_line(data.month, data.calls, data.owners)
    if not data.accounts:
        return [section(f"*{copy.ACCOUNTS_TITLE}*\n{copy.NO_ACCOUNTS}"), context(usage)]
    shown = data.accounts[:MAX_ACCOUNTS]
    lines = [
        copy.account_state(
            escape(a.handle), a.readable, slack_date(a.last_fetch) if a.last_fetch else None
        )
        for a in shown
    ]
    if len(data.accounts) > len(shown):
        lines.append(copy.more_accounts(len(data.accounts) - len(shown)))
    return [section(f"*{copy.ACCOUNTS_TITLE}*\n" + "\n".join(lines)), context(usage)]


def pages_of(count: int) -> int:
    return max(1, -(-count // CHANNELS_PER_PAGE))


def _channels(data: HomeData, page: int) -> list[Block]:
    blocks = [header(copy.CHANNELS_TITLE)]
    if not data.channels:
        return [*blocks, section(copy.NO_CHANNELS)]
    pages = pages_of(len(data.channels))
    page = min(max(page, 0), pages - 1)
    first = page * CHANNELS_PER_PAGE
    rows = data.channels[first : first + CHANNELS_PER_PAGE]
    if pages > 1:
        blocks.append(context(copy.channels_page(first + 1, first + len(rows), len(data.channels))))
    blocks.extend(channel_block(row, now=data.now, menu=data.may_change) for row in rows)
    more = page_buttons(page, pages)
    return [*blocks, more] if more else blocks


def channel_lines(row: ChannelRow, *, now: datetime) -> list[str]:
    """A channel's settings in words: digest, alerts, quiet hours, snooze, pause."""
    s = row.settings
    lines = [
        copy.digest_state(s.digest_time, row.zone) if s.digest_enabled else copy.DIGEST_OFF_STATE
    ]
    shown = [
        escape(clip(rule_text(r, row.authors, row.coverage, linked=False), RULE_TEXT))
        for r in row.rules[:RULES_SHOWN]
    ]
    lines.append(copy.rules_state(len(row.rules), shown))
    if s.quiet_start and s.quiet_end:
        lines.append(copy.quiet_state(s.quiet_start, s.quiet_end, row.zone))
    if s.snoozed_until is not None and s.snoozed_until > now:
        lines.append(copy.snooze_state(s.snoozed_until))
    if s.paused_reason:
        lines.append(copy.PAUSED_STATE)
    return lines


def channel_block(row: ChannelRow, *, now: datetime, menu: bool) -> Block:
    text = "\n".join([copy.channel_line(row.settings.channel_id), *channel_lines(row, now=now)])
    snoozed = row.settings.snoozed_until is not None and row.settings.snoozed_until > now
    accessory = channel_menu(row.settings.channel_id, snoozed=snoozed) if menu else None
    return SectionBlock(
        text=MarkdownTextObject(text=clip(text, SECTION_TEXT), verbatim=True),
        accessory=accessory,
    ).to_dict()


def _recent(data: HomeData) -> Block:
    if not data.recent:
        return section(copy.NO_RECENT)
    lines = [_recent_line(r) for r in data.recent[:RECENT_ALERTS]]
    return section("\n".join(lines))


def _recent_line(alert: RecentAlert) -> str:
    f = alert.firing
    return copy.recent_line(
        slack_date(f.fired_at),
        alert.channel_id,
        post_link(f.post_id, alert.authors),
        exact(f.value),
        metric_noun(f.metric, f.value),
    )


def settings_message(row: ChannelRow, *, now: datetime) -> Message:
    """`/engagement settings`: the channel's settings as text, and a button per modal."""
    lines = [copy.settings_title(row.settings.channel_id), *channel_lines(row, now=now)]
    if row.coverage.empty:
        lines.append(copy.covers_nothing())
    blocks = [section("\n".join(lines)), settings_buttons(row.settings.channel_id)]
    return simple(" · ".join(lines), blocks)
