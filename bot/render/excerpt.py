"""A Post's own words as a short label that cannot do anything in Slack.

X text is written by anyone, so before it is shown: only the first `SOURCE_TEXT` characters are
read at all, line breaks and control characters become spaces, invisible format characters
(bidi overrides and isolates, LRM/RLM, which would flip the rest of the line) are dropped,
links become a placeholder (a Post's t.co link would otherwise preview or phish), Slack's
special mentions and mrkdwn markers are swapped for look-alikes that Slack does not act on, and
the result is clipped to `EXCERPT` characters. Escaping `&`, `<` and `>` is left to the link
builder (`kit.link`, `kit.escape`), as for every other label; after it, `<!channel>` and
`<@U…>` are plain text.
"""

from __future__ import annotations

import re
import unicodedata

from bot.copy import words

EXCERPT = 60
SOURCE_TEXT = 500

_KEEP_FORMAT = frozenset("\u200d")  # the zero-width joiner holds emoji sequences together
_SPACES = re.compile(r"\s+")
_LINK = re.compile(r"\b(?:[a-z][a-z0-9+.-]*://|www\.)\S*", re.IGNORECASE)
_SPECIAL = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
# mrkdwn's bold, italic, strike and code markers → look-alikes (∗ ˍ ∼ ˋ).
_MARKERS = str.maketrans({"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"})


def excerpt(text: str | None, limit: int = EXCERPT) -> str | None:
    """The first `limit` characters of the Post's text, made harmless (None if it has none)."""
    if not text:
        return None
    kept = "".join(_character(ch) for ch in text[:SOURCE_TEXT])
    plain = _SPACES.sub(" ", _LINK.sub(words.LINK_IN_TEXT, kept)).strip()
    if not plain:
        return None
    cut = plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"
    return _SPECIAL.sub("@\u2060", cut.translate(_MARKERS))


def _character(ch: str) -> str:
    kind = unicodedata.category(ch)
    if kind == "Cf" and ch not in _KEEP_FORMAT:
        return ""
    if kind in ("Cc", "Zl", "Zp"):
        return " "
    return "" if kind == "Cs" else ch  # a lone surrogate could not even be sent
