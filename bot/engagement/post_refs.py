"""Post references as people paste them: an ID, or a Post URL (x.com or twitter.com)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.engagement.snowflake import MAX_POST_ID, is_decimal_id

_URL = re.compile(
    r"""^(?:https?://)?(?:www\.|mobile\.|m\.)?(?:x|twitter)\.com/
        (?P<handle>[A-Za-z0-9_]{1,15}|i(?:/web)?)/status(?:es)?/(?P<id>[0-9]{1,19})
        (?:[/?#].*)?$""",
    re.VERBOSE | re.IGNORECASE,
)
_SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")


class PostRefError(ValueError):
    """Raised for text that is neither a Post ID nor a Post URL; the message says which part."""


@dataclass(frozen=True)
class PostRef:
    post_id: str  # canonical decimal
    handle: str | None = None  # the author's handle when the URL names one


def parse_post_ref(text: str) -> PostRef:
    """A Post ID or URL; Slack's `<https://…|label>` wrapping is removed first."""
    raw = text.strip()
    if match := _SLACK_LINK.match(raw):
        raw = match.group(1)
    if is_decimal_id(raw):
        return PostRef(_checked_id(raw, text))
    match = _URL.match(raw)
    if match is None:
        raise PostRefError(
            f"{text!r} is not a Post ID or a Post URL (https://x.com/<handle>/status/<id>)"
        )
    handle = match.group("handle")
    named = None if handle.lower() in ("i", "i/web") else handle  # x.com/i/… names nobody
    return PostRef(_checked_id(match.group("id"), text), named)


def _checked_id(digits: str, text: str) -> str:
    value = int(digits)
    if not 1 <= value <= MAX_POST_ID:
        raise PostRefError(f"{text!r} is not a valid Post ID")
    return str(value)
