"""Small pure helpers the message builders share: escaping, links, blocks, dates, paging.

Every block is built with `slack_sdk.models.blocks` and turned into a dict with `to_dict()`,
which checks Slack's per-block limits. `paginate` applies the message-level ones (blocks per
message, the undocumented total-text budget) by moving overflow into continuation messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from slack_sdk.models.blocks import (
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.copy import reports, words
from bot.render.excerpt import excerpt
from bot.render.message import Chart, Message

Block = dict[str, Any]


@dataclass(frozen=True)
class PostName:
    """What names a Post in a listing: its author's handle and its text, each if known."""

    handle: str | None = None
    text: str | None = None


# Post ID → its name; a bare string is the author's handle alone (no text known).
Authors = Mapping[str, PostName | str | None]

# What one message may hold. Slack's limits are 50 blocks and (reported) about 12k characters
# of text in all; we pack to lower marks so notes and headers always fit beside the content.
PAGE_BLOCKS = 45
PAGE_TEXT = 8_000
SECTION_TEXT = 2_800  # Slack: 3,000
FIELD_TEXT = 1_900  # Slack: 2,000
HEADER_TEXT = 150
FIELDS_PER_SECTION = 10
FALLBACK_TEXT = 3_000  # Slack truncates at 40,000 and we keep it a one-liner anyway
LABEL_TEXT = 40  # handles and IDs inside labels, so a line stays readable on a phone

_HANDLE = re.compile(r"[A-Za-z0-9_]{1,50}")
_POST_ID = re.compile(r"[0-9]{1,25}")


# --- Text --------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters; nothing else (other entities would show literally)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, with "…" when cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def link(url: str, label: str) -> str:
    """A mrkdwn link; `label` is raw text (escaped here, `|` and `>` removed)."""
    return f"<{url}|{escape(label.replace('|', ' ').replace('>', ' '))}>"


def _name(authors: Authors, post_id: str) -> PostName:
    known = authors.get(post_id)
    return known if isinstance(known, PostName) else PostName(handle=known)


def handle_of(authors: Authors, post_id: str) -> str | None:
    """The author's "@handle" (clipped for display), or None when unknown."""
    handle = _name(authors, post_id).handle
    if not handle or not handle.strip("@ "):
        return None
    return "@" + clip(handle.strip().lstrip("@"), LABEL_TEXT)


def post_url(post_id: str, authors: Authors) -> str | None:
    """https://x.com/<handle>/status/<id>, with `i` when the handle is unknown or odd."""
    if not _POST_ID.fullmatch(post_id):
        return None
    handle = (_name(authors, post_id).handle or "").strip().lstrip("@")
    user = handle if _HANDLE.fullmatch(handle) else "i"
    return f"https://x.com/{quote(user)}/status/{post_id}"


def post_name(post_id: str, authors: Authors) -> str:
    """The one way a Post is named, unescaped: "@alice · “Launch day…”" from its handle and
    the start of its text (made harmless by `excerpt`), the ID standing in for unknown text;
    for plain-text places outside mrkdwn (chart titles)."""
    return words.post_label(
        handle_of(authors, post_id),
        clip(post_id, LABEL_TEXT),
        excerpt(_name(authors, post_id).text),
    )


def post_link(post_id: str, authors: Authors) -> str:
    """The Post's name as a mrkdwn link to it (escaped plain name if it can't link)."""
    url = post_url(post_id, authors)
    label = post_name(post_id, authors)
    return link(url, label) if url else escape(label)


def post_button_label(post_id: str, authors: Authors) -> str:
    """The Post's name for a plain_text field (a button): Slack shows it as typed, but a token
    such as <!channel> must not travel in any payload, so angle brackets become look-alikes."""
    return post_name(post_id, authors).replace("<", "‹").replace(">", "›")


def post_plain(post_id: str, authors: Authors) -> str:
    """The Post's name without a link, escaped for mrkdwn (the `text` fallback)."""
    return escape(post_name(post_id, authors))


def slack_date(when: datetime) -> str:
    """A date token every reader sees in their own timezone, with a UTC fallback."""
    utc = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    fallback = utc.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def code(lines: Iterable[str]) -> str:
    return "```\n" + "\n".join(lines) + "\n```"


def group_lines(lines: Sequence[str], limit: int = SECTION_TEXT) -> list[str]:
    """Lines joined into texts of at most `limit` characters (a long line is clipped)."""
    texts: list[str] = []
    current: list[str] = []
    size = 0
    for line in (clip(raw, limit) for raw in lines):
        if current and size + 1 + len(line) > limit:
            texts.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + (1 if size else 0)
    if current:
        texts.append("\n".join(current))
    return texts


# --- Blocks ------------------------------------------------------------------------------------


def _mrkdwn(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn names into mentions or links on its own.
    return MarkdownTextObject(text=text, verbatim=True)


def header(text: str) -> Block:
    return HeaderBlock(text=PlainTextObject(text=clip(text, HEADER_TEXT), emoji=True)).to_dict()


def section(text: str) -> Block:
    return SectionBlock(text=_mrkdwn(clip(text, SECTION_TEXT))).to_dict()


def sections(lines: Sequence[str]) -> list[Block]:
    return [section(text) for text in group_lines(lines)]


def fields(items: Sequence[str], text: str | None = None) -> list[Block]:
    """Two-column KPI pairs, ten to a section; `text` (a title) heads the first section."""
    objects = [_mrkdwn(clip(item, FIELD_TEXT)) for item in items]
    title = _mrkdwn(clip(text, SECTION_TEXT)) if text else None
    if not objects:
        return [SectionBlock(text=title).to_dict()] if title else []
    return [
        SectionBlock(
            text=title if i == 0 else None, fields=objects[i : i + FIELDS_PER_SECTION]
        ).to_dict()
        for i in range(0, len(objects), FIELDS_PER_SECTION)
    ]


def context(*lines: str) -> Block:
    """Small grey print; one element per line, ten at most (extra lines are merged)."""
    texts = [line for line in lines if line]
    if len(texts) > 10:
        texts = [*texts[:9], "\n".join(texts[9:])]
    return ContextBlock(elements=[_mrkdwn(clip(t, SECTION_TEXT)) for t in texts]).to_dict()


def divider() -> Block:
    return DividerBlock().to_dict()


def text_cost(value: object) -> int:
    """Characters of text in a block (or list of blocks): what Slack's total budget counts."""
    if isinstance(value, dict):
        return sum(
            len(v) if k == "text" and isinstance(v, str) else text_cost(v) for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return sum(text_cost(v) for v in value)
    return 0


# --- Messages ----------------------------------------------------------------------------------


def simple(text: str, blocks: Sequence[Block], *, ephemeral: bool = True) -> Message:
    return Message(text=clip(text, FALLBACK_TEXT), blocks=tuple(blocks), ephemeral=ephemeral)


@dataclass(frozen=True)
class Part:
    """Blocks that stay together on one page; `items` counts the Posts (rows) they show."""

    blocks: tuple[Block, ...]
    items: int = 0


@dataclass(frozen=True)
class Page:
    """What `paginate` lays out: the first message's head and tail around the parts."""

    title: str  # plain, for continuation headings and fallbacks
    text: str  # the first message's fallback
    head: tuple[Block, ...]
    parts: tuple[Part, ...]
    tail: tuple[Block, ...] = ()
    nouns: tuple[str, str] = ("Post", "Posts")


def _fits(blocks: Sequence[Block]) -> bool:
    return len(blocks) <= PAGE_BLOCKS and text_cost(list(blocks)) <= PAGE_TEXT


def _take(parts: Sequence[Part], start: int, fixed: Sequence[Block]) -> int:
    """The end of the run of parts from `start` that fits beside `fixed` (at least one part,
    so paging always ends)."""
    blocks = list(fixed)
    end = start
    while end < len(parts):
        candidate = [*blocks, *parts[end].blocks]
        if end > start and not _fits(candidate):
            break
        blocks = candidate
        end += 1
    return end


def _join(parts: Sequence[Part]) -> list[Block]:
    return [block for part in parts for block in part.blocks]


def paginate(page: Page, *, ephemeral: bool = True, chart: Chart | None = None) -> Message:
    """One message if it fits, else a first message ending "…and N more in the thread" and
    continuation messages, each within Slack's limits. Ephemeral replies have no thread, so
    their note points to the next messages instead."""
    parts = page.parts
    room = [context("x" * 120)]  # stands in for the overflow note or a continuation heading
    ranges = [(0, _take(parts, 0, [*page.head, *page.tail, *room]))]
    while ranges[-1][1] < len(parts):
        start = ranges[-1][1]
        ranges.append((start, _take(parts, start, room)))
    first_end = ranges[0][1]
    blocks = [*page.head, *_join(parts[:first_end])]
    if len(ranges) > 1:
        rest = sum(part.items for part in parts[first_end:])
        one, many = page.nouns
        threaded = not ephemeral
        note = (
            reports.more_below(rest, one, many, threaded=threaded)
            if rest
            else reports.continued_below(threaded=threaded)
        )
        blocks.append(context(note))
    blocks.extend(page.tail)
    continuation = []
    for number, (start, end) in enumerate(ranges[1:], start=2):
        heading = reports.continued(page.title, number, len(ranges))
        page_blocks = [context(escape(heading)), *_join(parts[start:end])]
        continuation.append(simple(heading, page_blocks, ephemeral=ephemeral))
    return Message(
        text=clip(page.text, FALLBACK_TEXT),
        blocks=tuple(blocks),
        ephemeral=ephemeral,
        chart=chart,
        continuation=tuple(continuation),
    )
