"""The words and values of `/engagement` text: tokens, Posts, handles, metrics, times, zones.

Pure helpers for bot.slack.parse.grammar, which owns the grammar. Each value parser either returns
the value, returns None for "not this kind of word", or raises UsageError through `fail`, whose
text names the offending word and shows the subcommand's usage line.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Collection, Sequence
from datetime import date, time, timedelta
from fractions import Fraction
from functools import cache
from typing import NoReturn
from zoneinfo import ZoneInfo, available_timezones

from bot.copy import parse as say
from bot.copy.usage import explain
from bot.copy.words import metric_word
from bot.engagement.metric_names import ALIASES, UnknownMetric, resolve_metric
from bot.engagement.models import ALL_METRICS
from bot.engagement.post_refs import PostRef, parse_post_ref
from bot.errors import UsageError

# What phones, Slack and copy-paste turn plain ASCII into.
_CHARS = str.maketrans(
    {
        **dict.fromkeys("‐‑‒–—―−", "-"),
        **dict.fromkeys("‘’‚‛“”„‟«»", "'"),
        **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff", ""),
        "≥": ">=",
        "⩾": ">=",
    }
)
_QUOTES = "'\"`"
_SLACK_ANGLE = re.compile(r"<([^<>|\s]*)(?:\|[^<>]*)?>")
_UNIT_WORDS = frozenset(
    {"d", "day", "days", "h", "hr", "hrs", "hour", "hours", "m", "min", "mins", "minute"}
    | {"minutes", "w", "wk", "week", "weeks", "am", "pm", "a.m", "p.m"}
    | {"y", "yr", "yrs", "year", "years", "mo", "month", "months"}  # so `1 year` is refused whole
)
_NUMBERISH = re.compile(r"[0-9][0-9.:]*", re.ASCII)
_HANDLE = re.compile(r"@?([A-Za-z0-9_]{1,15})", re.ASCII)
_PROFILE_URL = re.compile(
    r"(?:https?://)?(?:www\.|mobile\.)?(?:x|twitter)\.com/@?([A-Za-z0-9_]{1,15})/?(?:[?#].*)?",
    re.ASCII | re.IGNORECASE,
)
# x.com paths that look like a profile but are pages of the site.
_NOT_HANDLES = frozenset({"i", "home", "explore", "search", "settings", "notifications"})
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_CLOCK = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?(am|pm|a\.m\.?|p\.m\.?)?", re.ASCII)
_DURATION_PART = re.compile(
    r"([0-9]{1,6}(?:\.[0-9]{1,6})?)(w|wks?|weeks?|d|days?|h|hrs?|hours?|m|mins?|minutes?)",
    re.ASCII,
)
_DURATION = re.compile(rf"(?:{_DURATION_PART.pattern})+", re.ASCII)
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60}


# -- text to words ---------------------------------------------------------------------------


def normalised(text: str) -> str:
    """Text after undoing what Slack and keyboards do to it (smart quotes become plain ones)."""
    text = unicodedata.normalize("NFKC", text).translate(_CHARS)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _SLACK_ANGLE.sub(_unwrapped, text)


def tokens(text: str) -> list[str]:
    """Whitespace-separated words, after undoing what Slack and keyboards do to typed text."""
    text = normalised(text)
    # Quotes and backticks around a word come from examples copied out of `help`.
    words = (word.strip(_QUOTES).rstrip(".") for word in text.split())
    return [word for word in words if word.strip("-")]  # a lone dash is punctuation


def _unwrapped(match: re.Match[str]) -> str:
    # `<https://x.com/…|x.com/…>` is the link; `<@U123|bob>` (a Slack user) stays recognisable.
    target = match.group(1)
    return f"<{target}>" if target[:1] in ("@", "#", "!") else f" {target} "


def commas_split(words: Sequence[str]) -> list[str]:
    """`likes,replies` → two words; URLs keep their commas."""
    out: list[str] = []
    for word in words:
        out.extend([word] if "://" in word else (w for w in word.split(",") if w))
    return out


def units_joined(words: Sequence[str], alone: Collection[str] = ()) -> list[str]:
    """`7 days` → `7days`, `9 am` → `9am`: one word, so each form is parsed in one place.
    Words in `alone` mean something by themselves and are not joined."""
    out: list[str] = []
    for word in words:
        low = word.lower()
        if out and low in _UNIT_WORDS and low not in alone and _NUMBERISH.fullmatch(out[-1]):
            out[-1] += word
        else:
            out.append(word)
    return out


def show(word: str) -> str:
    """A word quoted for an error message; junk can be long."""
    return f"`{word[:40]}…`" if len(word) > 40 else f"`{word}`"


def fail(word: str, problem: str) -> NoReturn:
    """Raise the UsageError for subcommand `word`: the problem, its usage line, an example."""
    raise UsageError(explain(word, problem))


# -- Posts, handles, metrics -----------------------------------------------------------------


def post(word: str) -> PostRef | None:
    try:
        return parse_post_ref(word)
    except ValueError:  # PostRefError, or int() refusing an absurdly long digit string
        return None


def looks_like_post(word: str) -> bool:
    low = word.lower()
    return low.isdigit() or "status" in low or "://" in low or low.startswith(("x.com", "twit"))


def handle(word: str) -> str | None:
    """`@name`, `name` or an x.com profile URL → `name` (case kept: X ignores it)."""
    if (match := _HANDLE.fullmatch(word)) or (match := _PROFILE_URL.fullmatch(word)):
        name = match.group(1)
        return None if name.lower() in _NOT_HANDLES else name
    return None


def metric(word: str, token: str) -> str:
    try:
        return resolve_metric(token)
    except UnknownMetric:
        pass
    if looks_like_post(token):
        fail(word, say.not_a_post_url(show(token)))
    close = difflib.get_close_matches(token.lower(), [*ALL_METRICS, *ALIASES], n=1, cutoff=0.6)
    # Nothing close: name every choice, as typed in a command.
    names = ", ".join(metric_word(m) for m in ALL_METRICS)
    fail(word, say.not_a_metric(show(token), close[0] if close else None, names))


def posts_and_metrics(word: str, args: Sequence[str]) -> tuple[list[PostRef], tuple[str, ...]]:
    """Posts (deduplicated by ID) and metric names, in any order."""
    posts: dict[str, PostRef] = {}
    metrics: dict[str, None] = {}
    for token in args:
        if (ref := post(token)) is not None:
            posts.setdefault(ref.post_id, ref)
        else:
            metrics[metric(word, token)] = None
    return list(posts.values()), tuple(metrics)


def targets(word: str, args: Sequence[str]) -> tuple[tuple[PostRef, ...], tuple[str, ...]]:
    """Posts and handles, each once (handles compared case-insensitively, as X does)."""
    posts: dict[str, PostRef] = {}
    handles: dict[str, str] = {}
    for token in args:
        if (ref := post(token)) is not None:
            posts.setdefault(ref.post_id, ref)
        elif (name := handle(token)) is not None:
            handles.setdefault(name.lower(), name)
        else:
            fail(word, say.not_post_nor_x_handle(show(token)))
    if not posts and not handles:
        fail(word, say.needs_targets(word))
    return tuple(posts.values()), tuple(handles.values())


# -- dates, times, zones, durations ----------------------------------------------------------


def a_date(word: str, token: str) -> date:
    if not DATE.fullmatch(token):
        fail(word, say.not_a_date(show(token)))
    try:
        return date.fromisoformat(token)
    except ValueError:
        fail(word, say.not_a_real_date(show(token)))


def clock(token: str) -> time | None:
    """`09:30`, `21:00`, `9`, `9am`, `9:30pm`, `noon`; None for words that are no time."""
    low = token.lower()
    if low in ("noon", "midnight"):
        return time(12 if low == "noon" else 0)
    if (match := _CLOCK.fullmatch(low)) is None:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if half and not 1 <= hour <= 12:
        fail("digest", say.am_pm_hour(show(token)))
    if half:
        hour = hour % 12 + (12 if half.startswith("p") else 0)
    if hour > 23 or minute > 59:
        fail("digest", say.not_a_time(show(token)))
    return time(hour, minute)


@cache
def _zones() -> dict[str, str]:
    """Lower-cased IANA name → its canonical spelling (`europe/paris` → `Europe/Paris`)."""
    return {name.lower(): name for name in available_timezones()}


def zone_from(token: str, rest: list[str]) -> str | None:
    """The IANA zone `token` names, also taking up to two following words for a spaced city
    (`America/New York`, consumed from `rest`); None when `token` is no zone-like word."""
    for extra in range(min(len(rest), 2), -1, -1) if "/" in token else (0,):
        if (canonical := _zone("_".join([token, *rest[:extra]]))) is not None:
            del rest[:extra]
            return canonical
    if "/" not in token:
        return None
    close = difflib.get_close_matches(token.lower(), _zones(), n=1, cutoff=0.8)
    fail("digest", say.unknown_zone(show(token), _zones()[close[0]] if close else None))


def _zone(name: str) -> str | None:
    if _zones():
        return _zones().get(name.lower())
    try:  # no zone list on this system (no tzdata index): ask zoneinfo for the exact name
        ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return None
    return name


def duration(text: str) -> timedelta | None:
    """`30m`, `2h`, `1d`, `1h30m`, `1.5h`, `2hours` (spaces already removed); None if not one."""
    if not _DURATION.fullmatch(text):
        return None
    seconds = sum(
        Fraction(number) * _UNIT_SECONDS[unit[0]] for number, unit in _DURATION_PART.findall(text)
    )
    return timedelta(seconds=round(seconds)) if seconds <= 10**9 else timedelta.max
