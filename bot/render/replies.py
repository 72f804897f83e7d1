"""Short replies: help, errors, failures, confirmations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.copy import messages
from bot.copy.usage import DESCRIPTIONS, EXAMPLES, NEEDS, USAGE
from bot.render.kit import (
    Page,
    Part,
    clip,
    context,
    escape,
    header,
    paginate,
    section,
    sections,
    simple,
)
from bot.render.message import Message

ERROR_TEXT = 700  # an error is a few sentences (or the list of valid choices), never a dump
COMMAND_TEXT = 300  # a usage line or example longer than this is a bug, but must not break help
HELP_EXAMPLES = 5  # examples under the full list; one subcommand's help shows all of its own


def help_reply(topic: str | None = None) -> Message:
    """What `/engagement help [topic]` answers, from bot.copy.usage's one table: every
    subcommand's grammar and what it does; for one subcommand also what it needs, and its
    example."""
    if topic is None:
        return help_message(USAGE, EXAMPLES, descriptions=DESCRIPTIONS)
    usage = {topic: USAGE[topic]}
    return help_message(usage, EXAMPLES, descriptions=DESCRIPTIONS, needs=NEEDS)


def help_message(
    usage_lines: Mapping[str, str],
    examples: Sequence[str] | Mapping[str, str],
    *,
    descriptions: Mapping[str, str] | None = None,
    needs: Mapping[str, str] | None = None,
) -> Message:
    """Usage, one entry per subcommand, then a few examples (all of them for one subcommand).

    `usage_lines` maps a subcommand word to its grammar line ("top" → "/engagement top
    [metric] [n] [7d]"); `descriptions` maps the same words to what they do, `needs` to what
    they rely on; `examples` is a list, or a mapping by word (then only the shown words'
    examples are used).
    """
    lines = []
    for word, syntax in usage_lines.items():
        entry = [_command(syntax)]
        if what := (descriptions or {}).get(word):
            entry.append(escape(what))
        if need := (needs or {}).get(word):
            entry.append(messages.help_needs(escape(need)))
        lines.append("\n".join(entry))
    if isinstance(examples, Mapping):
        examples = [examples[word] for word in usage_lines if word in examples]
    shown = [e for e in examples if e not in usage_lines.values()] or list(examples)
    if len(usage_lines) > 1:
        shown = shown[:HELP_EXAMPLES]
    parts = [Part((block,), items=1) for block in sections(lines)]
    if shown:
        examples_text = [messages.HELP_EXAMPLES, *(_command(e) for e in shown)]
        parts += [Part((block,)) for block in sections(examples_text)]
    page = Page(
        title=messages.HELP_TITLE,
        text=messages.HELP_FALLBACK,
        head=(header(messages.HELP_TITLE),),
        parts=tuple(parts),
        tail=(context(messages.HELP_POSTS),),
        nouns=("part", "parts"),
    )
    return paginate(page)


def _command(syntax: str) -> str:
    text = clip(syntax.strip().strip("`"), COMMAND_TEXT)
    if not text.startswith("/"):
        text = f"/engagement {text}".strip()
    return f"`{escape(text)}`"


def error_message(text: str, usage_line: str | None = None) -> Message:
    """What was wrong with what someone typed, and the usage that would work (ephemeral)."""
    lines = [messages.error(escape(clip(text, ERROR_TEXT)))]
    if usage_line:
        lines.append(messages.usage_hint(escape(clip(usage_line.strip("`"), ERROR_TEXT))))
    body = "\n".join(lines)
    return simple(body, [section(body)])


def failure_message(reference: str) -> Message:
    """Our own crash, said politely with a reference the logs can be searched for."""
    text = messages.failure(escape(clip(reference, 40)))
    return simple(text, [section(text)])


def confirmation(text: str, *, in_channel: bool = False) -> Message:
    """A done-that reply ("Tracking 3 Posts in this channel.")."""
    body = messages.confirmed(escape(clip(text, ERROR_TEXT * 2)))
    return simple(body, [section(body)], ephemeral=not in_channel)


def ack_text(subject: str | None = None) -> str:
    """The immediate acknowledgement, plain text ("Fetching…")."""
    return messages.ack_text(subject)
