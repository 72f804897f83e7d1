"""`/engagement` text → a typed Command (bot.slack.parse.commands), or a UsageError.

Pure: no I/O and no clock; pass `today` to have future dates rejected and `7d` ranges resolved.
The grammar is the one `/engagement help` shows: its table and usage lines live in
bot.copy.usage, the word-level parsers in bot.slack.parse.values.

Decisions beyond the table:
- Text is normalised first: NFKC, Slack's `&amp; &lt; &gt;` escapes and `<url|label>` wrapping,
  smart quotes, dashes and invisible spaces; quotes and backticks around a word are dropped, so
  an example copied from `help` works. A leading `/engagement` is ignored.
- Lists (Posts, metrics, handles) take spaces or commas; duplicates collapse; order is free.
- `daily`: `from`/`since` and `to`/`until`; bare dates fill from, then to; `Nd` (1-3650) is the
  N days ending today, inclusive, and needs `today`.
- `alert`: parsed by bot.slack.parse.alert (a threshold rule is lexed left to right there).
- `alerts <args>` reads as `alert <args>`; `alert list` as `alerts`; `snooze off` is 0.
- `quiet 22:00-07:00` (also `22:00 to 07:00`, `10pm-7am`); `quiet off` clears them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from datetime import date, time, timedelta
from typing import NoReturn

from bot.copy import parse as say
from bot.copy.usage import COMMAND, DESCRIPTIONS, EXAMPLES, SUBCOMMANDS, USAGE
from bot.errors import UsageError
from bot.slack.parse import commands as c
from bot.slack.parse import values as v
from bot.slack.parse.alert import parse_alert
from bot.slack.parse.campaign import parse_campaign
from bot.slack.parse.commands import Command
from bot.slack.parse.values import fail, show

__all__ = ["DESCRIPTIONS", "EXAMPLES", "USAGE", "WORD_ALIASES", "parse"]

WORD_ALIASES = {"total": "totals", "leaderboard": "top", "account": "accounts", "?": "help"}
MAX_TOP = 25
MAX_RANGE_DAYS = 3650
MAX_SNOOZE = timedelta(days=7)

_DATE_RANGE = re.compile(rf"({v.DATE.pattern})(?:\.\.|-|/)({v.DATE.pattern})", re.ASCII)
_SPAN = re.compile(r"([0-9]{1,6})(h|hrs?|hours?|d|days?|w|wks?|weeks?)", re.ASCII)
_SPAN_HOURS = {"h": 1, "d": 24, "w": 168}
_PERIOD_WORDS = {"day": "24h", "today": "24h", "week": "7d", "month": "28d", "quarter": "90d"}
_PERIODS = {24: "24h", 168: "7d", 672: "28d", 2160: "90d"}
# A number glued to a unit-like word: in `top` it can only have meant a period.
_LOOKS_LIKE_SPAN = re.compile(
    r"[0-9]{1,9}(?:y|yrs?|years?|mo|mos|mths?|months?|m|mins?|minutes?|q|qtrs?|quarters?|s|secs?|seconds?)",
    re.ASCII,
)
_TOP_FILLER = frozenset({"by", "posts", "post", "last", "past", "this", "in", "the", "over"})


def parse(text: str, *, today: date | None = None) -> Command:
    """The Command `text` asks for; raises only UsageError, which says what was expected."""
    tokens = v.tokens(text)
    if tokens and tokens[0].lower() == COMMAND:  # pasted together with the command itself
        tokens = tokens[1:]
    if not tokens or tokens[0].lower() in ("-h", "--help"):
        return c.Help()
    head, args = tokens[0].lower(), tokens[1:]
    word = WORD_ALIASES.get(head, head)
    if word == "alert" or (word == "alerts" and args):
        return parse_alert(args)  # its numbers may hold commas (1,000), so no comma splitting
    if word == "daily":
        return _daily(v.units_joined(v.commas_split(args)), today)
    if word in ("campaign", "campaigns", "compare"):  # quoted names: their own words
        return parse_campaign(word, _after_word(text, tokens[0]), today)
    if word in _PARSERS:
        return _PARSERS[word](v.commas_split(args))
    if v.post(tokens[0]) is not None:
        return _totals(v.commas_split(tokens))
    _unknown(tokens[0])


def _after_word(text: str, word: str) -> str:
    """What follows the subcommand `word` in `text` (and a leading `/engagement`)."""
    rest = v.normalised(text).lstrip()
    if rest.lower().startswith(COMMAND):
        rest = rest[len(COMMAND) :].lstrip()
    return rest[len(word) :] if rest.lower().startswith(word.lower()) else rest


def _help(args: Sequence[str]) -> c.Help:
    if not args:
        return c.Help()
    topic = WORD_ALIASES.get(args[0].lower(), args[0].lower())
    if topic in SUBCOMMANDS:
        return c.Help(topic)
    close = difflib.get_close_matches(topic, SUBCOMMANDS, n=1)
    fail("help", say.no_subcommand(show(args[0]), close[0] if close else None))


def _totals(args: Sequence[str]) -> c.Totals:
    posts, metrics = v.posts_and_metrics("totals", args)
    if not posts:
        fail("totals", say.WHICH_POSTS)
    return c.Totals(tuple(posts), metrics)


def _hourly(args: Sequence[str]) -> c.Hourly:
    posts, metrics = v.posts_and_metrics("hourly", args)
    if len(posts) != 1:
        fail("hourly", say.one_post_only("hourly", len(posts)))
    return c.Hourly(posts[0], metrics)


def _daily(args: Sequence[str], today: date | None) -> c.Daily:
    bounds: dict[str, date] = {}
    days: int | None = None
    rest: list[str] = []
    words = iter(args)
    for token in words:
        low = token.lower()
        if low in ("from", "since", "to", "until", "through"):
            value = next(words, None)
            if value is None:
                fail("daily", say.needs_date(low))
            _bound(bounds, "start" if low in ("from", "since") else "end", value)
        elif (match := _DATE_RANGE.fullmatch(token)) is not None:
            _bound(bounds, "start", match.group(1))
            _bound(bounds, "end", match.group(2))
        elif v.DATE.fullmatch(token):
            _bound(bounds, "end" if "start" in bounds else "start", token)
        elif (span := _SPAN.fullmatch(low)) is not None:
            if span.group(2)[0] == "h":
                fail("daily", say.daily_counts_days(show(token)))
            days = int(span.group(1)) * (7 if span.group(2)[0] == "w" else 1)
        elif low not in ("last", "past"):
            rest.append(token)
    posts, metrics = v.posts_and_metrics("daily", rest)
    if len(posts) != 1:
        fail("daily", say.one_post_only("daily", len(posts)))
    if days is not None:
        bounds = _last_days(days, bounds, today)
    start, end = bounds.get("start"), bounds.get("end")
    if start and end and end < start:
        fail("daily", say.range_backwards(start, end))
    for day in (start, end):
        if today and day and day > today:
            fail("daily", say.in_the_future(day, today))
    return c.Daily(posts[0], start, end, metrics)


def _bound(bounds: dict[str, date], key: str, token: str) -> None:
    value = v.a_date("daily", token)
    if key in bounds:
        name = "start (from)" if key == "start" else "end (to)"
        fail("daily", say.two_dates(name, bounds[key], value))
    bounds[key] = value


def _last_days(days: int, bounds: dict[str, date], today: date | None) -> dict[str, date]:
    if bounds:
        fail("daily", say.days_or_dates(days))
    if not 1 <= days <= MAX_RANGE_DAYS:
        fail("daily", say.days_out_of_range(days, MAX_RANGE_DAYS))
    if today is None:  # the caller did not say what day it is
        fail("daily", say.days_need_today(days))
    if today.toordinal() < days:
        fail("daily", say.days_before_calendar(days))
    return {"start": today - timedelta(days=days - 1), "end": today}


def _top(args: Sequence[str]) -> c.Top:
    found: dict[str, str | int] = {}
    # `top 5 week` is five Posts over a week, but `top 7 days` is the period 7d.
    for token in v.units_joined(args, alone=_PERIOD_WORDS):
        low = token.lower()
        if low in _TOP_FILLER:
            continue
        if (period := _period(low)) is not None:
            _once(found, "period", period, token)
        elif _LOOKS_LIKE_SPAN.fullmatch(low):  # `1y`, `6mo`, `30min`: a period we don't have
            fail("top", _not_a_period(token))
        elif low.isascii() and low.isdigit():
            if len(low) > 2 or not 1 <= int(low) <= MAX_TOP:
                fail("top", say.top_out_of_range(show(token), MAX_TOP))
            _once(found, "number", int(low), token)
        else:
            _once(found, "metric", v.metric("top", token), token)
    return c.Top(
        metric=str(found.get("metric", "engagements")),
        limit=int(found.get("number", 10)),
        period=str(found.get("period", "7d")),
    )


def _period(low: str) -> str | None:
    if low in _PERIOD_WORDS:
        return _PERIOD_WORDS[low]
    if (span := _SPAN.fullmatch(low)) is None:
        return None
    hours = int(span.group(1)) * _SPAN_HOURS[span.group(2)[0]]
    if hours not in _PERIODS:
        fail("top", _not_a_period(low))
    return _PERIODS[hours]


def _not_a_period(token: str) -> str:
    return say.not_a_period(show(token))


def _once(found: dict[str, str | int], key: str, value: str | int, token: str) -> None:
    if key in found and found[key] != value:
        fail("top", say.two_of(key, found[key], show(token)))
    found[key] = value


def _track(args: Sequence[str]) -> c.Track:
    return c.Track(*v.targets("track", args))


def _untrack(args: Sequence[str]) -> c.Untrack:
    return c.Untrack(*v.targets("untrack", args))


_DAY_OF_MONTH = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)?")


def _weekday(token: str) -> int | None:
    low = token.lower().rstrip(".")
    for index, name in enumerate(say.WEEKDAY_NAMES):
        full = name.lower()
        if (len(low) >= 3 and full.startswith(low)) or low == full + "s":
            return index
    return None


def _month_day(token: str) -> int | None:
    if token.lower() == "last":
        return 31  # a shorter month posts on its last day
    match = _DAY_OF_MONTH.fullmatch(token.lower())
    day = int(match.group(1)) if match else 0
    return day if 1 <= day <= 31 else None


def _digest_period(period: str, args: Sequence[str]) -> Command:
    """`digest weekly|monthly off` or `digest weekly <weekday> …` / `monthly <day> …`."""
    word = f"digest {period}"
    if args and args[0].lower() in ("off", "disable", "stop"):
        if len(args) > 1:
            fail("digest", say.takes_nothing(f"{word} off", show(args[1])))
        return c.DigestPeriodOff(period)
    first = args[0] if args else None
    anchor = None if first is None else (_weekday if period == "weekly" else _month_day)(first)
    if anchor is None:
        fail("digest", say.period_needs_anchor(period, show(first) if first else None))
    at, zone = _time_and_zone(args[1:])
    return c.DigestPeriodOn(period, anchor, at, zone)


def _time_and_zone(args: Sequence[str]) -> tuple[time | None, str | None]:
    at: time | None = None
    zone: str | None = None
    rest = [t for t in v.units_joined(args) if t.lower() not in ("at", "in")]
    while rest:
        token = rest.pop(0)
        if (clock := v.clock(token)) is not None:
            if at is not None:
                fail("digest", say.two_times(at, show(token)))
            at = clock
        elif zone is None and (found := v.zone_from(token, rest)) is not None:
            zone = found
        else:
            fail("digest", say.not_time_nor_zone(show(token)))
    return at, zone


def _digest(args: Sequence[str]) -> Command:
    mode = args[0].lower() if args else ""
    if mode in ("weekly", "monthly"):
        return _digest_period(mode, args[1:])
    if mode in ("off", "disable", "stop", "now", "send"):
        if len(args) > 1:
            fail("digest", say.takes_nothing(f"digest {mode}", show(args[1])))
        return c.DigestOff() if mode in ("off", "disable", "stop") else c.DigestNow()
    if mode not in ("on", "enable", "start"):
        fail("digest", say.digest_needs_mode(show(args[0]) if args else None))
    return c.DigestOn(*_time_and_zone(args[1:]))


def _snooze(args: Sequence[str]) -> c.Snooze:
    words = [w.lower() for w in args if w.lower() != "for"]
    if words in (["off"], ["cancel"], ["stop"]):
        return c.Snooze(timedelta(0))
    length = v.duration("".join(words))
    if length is None:
        fail("snooze", say.snooze_needs_duration(show(" ".join(args)) if args else None))
    if length > MAX_SNOOZE:
        fail("snooze", say.SNOOZE_TOO_LONG)
    if length < timedelta(minutes=1):
        fail("snooze", say.SNOOZE_TOO_SHORT)
    return c.Snooze(length)


def _quiet(args: Sequence[str]) -> c.Quiet:
    words = [w.lower() for w in args]
    if words in (["off"], ["none"], ["stop"]):
        return c.Quiet(None, None)
    text = re.sub(r"\s+to\s+", "-", " ".join(words))
    parts = [part.replace(" ", "").replace(".", "") for part in text.split("-")]
    if len(parts) == 1 and len(words) == 2:
        parts = words
    times = [_quiet_clock(part) for part in parts] if len(parts) == 2 else []
    if len(times) != 2 or None in times:
        fail("quiet", say.quiet_needs_range(show(" ".join(args)) if args else None))
    start, end = times
    if start is None or end is None or start == end:
        fail("quiet", say.QUIET_SAME_TIMES)
    return c.Quiet(start, end)


def _quiet_clock(token: str) -> time | None:
    try:
        return v.clock(token) if token else None
    except UsageError:
        return None


def _disconnect(args: Sequence[str]) -> c.Disconnect:
    handle = v.handle(args[0]) if len(args) == 1 else None
    if handle is None:
        fail("disconnect", say.disconnect_needs_handle(show(" ".join(args)) if args else None))
    return c.Disconnect(handle)


def _bare(word: str, make: Callable[[], Command]) -> Callable[[Sequence[str]], Command]:
    """The parser of a subcommand that takes no arguments."""

    def parse_bare(args: Sequence[str]) -> Command:
        if args:
            fail(word, say.takes_nothing(word, show(args[0])))
        return make()

    return parse_bare


def _unknown(token: str) -> NoReturn:
    if v.looks_like_post(token):
        fail("totals", say.not_a_post(show(token)))
    if token.startswith("@") and v.handle(token):
        fail("track", say.unknown_subcommand_handle(show(token)))
    close = difflib.get_close_matches(token.lower(), [*SUBCOMMANDS, *WORD_ALIASES], n=1)
    if close:
        word = WORD_ALIASES.get(close[0], close[0])
        fail(word, say.unknown_subcommand(show(token), word))
    raise UsageError(say.unknown_subcommand_list(show(token), COMMAND, SUBCOMMANDS))


_PARSERS: dict[str, Callable[[Sequence[str]], Command]] = {
    "help": _help,
    "totals": _totals,
    "hourly": _hourly,
    "top": _top,
    "track": _track,
    "untrack": _untrack,
    "tracked": _bare("tracked", c.Tracked),
    "digest": _digest,
    "alerts": _bare("alerts", c.Alerts),
    "snooze": _snooze,
    "quiet": _quiet,
    "connect": _bare("connect", c.Connect),
    "accounts": _bare("accounts", c.Accounts),
    "disconnect": _disconnect,
    "usage": _bare("usage", c.Usage),
    "settings": _bare("settings", c.Settings),
}
