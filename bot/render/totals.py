"""`/engagement totals`: a card per Post for a few Posts, one compact row per Post for many."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.copy import messages
from bot.engagement.query import Report, Value
from bot.render.kit import (
    Authors,
    Block,
    Page,
    Part,
    context,
    divider,
    fields,
    header,
    paginate,
    post_link,
    post_plain,
    section,
)
from bot.render.message import Message
from bot.render.numbers import NA, exact, human
from bot.render.report import (
    Notes,
    as_of_line,
    metric_order,
    post_order,
    post_status,
    rate_of,
    value_of,
)

CARDS_UP_TO = 5  # Posts shown as cards; more get one compact row each
FALLBACK_METRICS = 4


def totals_message(report: Report, *, authors: Authors, now: datetime) -> Message:
    """Lifetime totals per Post, with what is missing and why said once for all Posts."""
    posts = post_order(report)
    metrics = metric_order(report)
    notes = Notes(posts=len(posts))
    compact = len(posts) > CARDS_UP_TO
    parts = []
    for index, post in enumerate(posts):
        values = {metric: value_of(report, post, metric) for metric in metrics}
        render = _row if compact else _card
        blocks = render(index, post, values, authors, notes)
        parts.append(Part(tuple(blocks), items=1))
    head = (header(messages.totals_title(len(posts))), context(as_of_line(report, now)))
    if not posts:
        parts.append(Part((section(messages.NO_NUMBERS),)))
    page = Page(
        title=messages.totals_title(len(posts)),
        text=_fallback(report, posts, metrics, authors),
        head=head,
        parts=tuple(parts),
        tail=tuple(notes.block()),
    )
    return paginate(page, ephemeral=True)


def _figures(
    post: str, values: dict[str, Value], notes: Notes, number: Callable[[int | None], str]
) -> tuple[list[tuple[str, str]], str | None]:
    """(metric, shown value) pairs for known numbers, noting the missing ones; or a status
    when the Post has no number at all for one reason."""
    known = [(m, v) for m, v in values.items() if v.count is not None]
    status = post_status((v.reason for v in values.values() if v.count is None), len(known))
    if status is not None:
        return [], messages.post_status(status)
    shown = []
    for metric, value in values.items():
        if value.count is None and value.reason is not None:
            notes.add(post, metric, value.reason)
            continue
        notes.partial = notes.partial or value.partial
        prefix = "≥" if value.partial else ""
        shown.append((metric, prefix + number(value.count) if value.count is not None else NA))
    return shown, None


def _card(
    index: int, post: str, values: dict[str, Value], authors: Authors, notes: Notes
) -> list[Block]:
    shown, status = _figures(post, values, notes, exact)
    title = f"*{post_link(post, authors)}*"
    items = [f"*{messages.metric_label(m)}*\n{text}" for m, text in shown]
    if (rate := rate_of(values)) is not None:
        items.append(f"*{messages.RATE_LABEL}*\n{rate}")
    blocks = [divider()] if index else []
    return [*blocks, *fields(items, f"{title}\n{status}" if status else title)]


def _row(
    index: int, post: str, values: dict[str, Value], authors: Authors, notes: Notes
) -> list[Block]:
    shown, status = _figures(post, values, notes, human)
    counts = {m: v.count for m, v in values.items()}
    figures = [f"{text} {messages.metric_noun(m, counts[m])}" for m, text in shown]
    if (rate := rate_of(values)) is not None and "engagements" in dict(shown):
        at = [m for m, _ in shown].index("engagements")
        figures[at] += f" {messages.rate_inline(rate)}"
    line = status or " · ".join(figures) or NA
    return [section(f"*{index + 1}.* {post_link(post, authors)}\n{line}")]


def _fallback(report: Report, posts: list[str], metrics: list[str], authors: Authors) -> str:
    """One line: one Post's numbers, or sums over several ("≥" when some Posts lack one)."""
    figures = []
    for metric in metrics:
        counts = [value_of(report, post, metric).count for post in posts]
        known = [c for c in counts if c is not None]
        if known:
            total = sum(known)
            number = exact(total) if len(posts) == 1 else human(total)
            prefix = "" if len(known) == len(counts) else "≥"
            figures.append(f"{prefix}{number} {messages.metric_noun(metric, total)}")
    label = post_plain(posts[0], authors) if posts else None
    subject = messages.totals_subject(label, len(posts))
    return messages.totals_fallback(subject, figures[:FALLBACK_METRICS])
