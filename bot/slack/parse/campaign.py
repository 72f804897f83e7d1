"""`campaign …`, `campaigns` and `compare …` text → typed commands (bot.slack.parse.commands).

Campaign names may hold spaces: quoted ("Spring launch", smart quotes too), or bare words up
to the first word that is something else (a #tag, an @handle, a Post, a period, a date, a
keyword, or — where metrics may follow — a metric). Names are checked for length and matched
case-insensitively by the use case (bot.channels.campaigns), not here.

Periods: `7d`/`28d`/`90d` (any 1–3650 days ending today, needs `today`), `from D to D`,
`D..D`; none may start before 2014-09-01 (X's history) or end after today.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from bot.channels.campaigns import period_problem
from bot.copy import campaigns as words
from bot.copy import parse as say
from bot.engagement.metric_names import UnknownMetric, resolve_metric
from bot.engagement.post_refs import PostRef
from bot.slack.parse import commands as c
from bot.slack.parse import values as v
from bot.slack.parse.values import fail, show

MAX_DAYS = 3650
_WORD = re.compile(r"\"([^\"]*)\"(?=\s|$)|'(.+?)'(?=\s|$)|(\S+)")
_DAYS = re.compile(r"([0-9]{1,6})(?:d|days?)", re.ASCII)
_WEEKS = re.compile(r"([0-9]{1,4})(?:w|wks?|weeks?)", re.ASCII)
_RANGE = re.compile(rf"({v.DATE.pattern})(?:\.\.|/)({v.DATE.pattern})", re.ASCII)
_VS = frozenset({"vs", "vs.", "v", "versus", "against"})
_KEYWORDS = frozenset({"from", "since", "to", "until", "through", "last", "past"}) | _VS
_DELETE = frozenset({"delete", "remove", "rm", "drop"})


@dataclass(frozen=True)
class Word:
    text: str
    quoted: bool = False


def words_of(text: str) -> list[Word]:
    """Words of `text`, a quoted run of words being one (quotes removed)."""
    out: list[Word] = []
    for match in _WORD.finditer(v.normalised(text)):
        if match.group(3) is None:
            out.append(Word(match.group(1) if match.group(1) is not None else match.group(2), True))
        elif match.group(3).strip("-"):
            out.append(Word(match.group(3).strip("'\"`").rstrip(",")))
    return out


def parse_campaign(word: str, text: str, today: date | None) -> c.Command:
    """`word` is "campaign", "campaigns" or "compare"; `text` what follows it."""
    args = words_of(text)
    if word == "compare":
        return _compare(args, today)
    if word == "campaigns" or (args and not args[0].quoted and args[0].text.lower() == "list"):
        extra = args[1:] if word == "campaign" else args
        if extra:
            fail("campaigns", say.takes_nothing("campaigns", show(extra[0].text)))
        return c.CampaignList()
    if not args:
        fail("campaign", words.NEEDS_NAME)
    mode = args[0].text.lower() if not args[0].quoted else ""
    if mode in ("new", "create", "start"):
        return _new(args[1:])
    if mode == "add":
        return _add(args[1:], today)
    if mode in _DELETE:
        name, rest = _name("campaign", args[1:], metrics=False)
        if rest:
            fail("campaign", say.takes_nothing(f"campaign {mode} <name>", show(rest[0].text)))
        return c.CampaignDelete(name)
    name, rest = _name("campaign", args, metrics=True)
    start, end, metrics = _period_and_metrics("campaign", rest, today)
    return c.CampaignShow(name, start, end, metrics)


def _new(args: Sequence[Word]) -> c.CampaignNew:
    # A new name may hold any word (`Launch 2026`) up to its #tag or `from:` account.
    split = next((i for i, w in enumerate(args) if _tag_or_account(w)), len(args))
    if args and args[0].quoted:
        name, rest = args[0].text, list(args[1:])
    elif split:
        name, rest = " ".join(w.text for w in args[:split]), list(args[split:])
    else:
        fail("campaign", words.NEEDS_NAME)
    hashtag: str | None = None
    handle: str | None = None
    for w in rest:
        low = w.text.lower()
        if w.text.startswith("#") and hashtag is None:
            if not w.text[1:] or not re.fullmatch(r"\w{1,100}", w.text[1:]):
                fail(
                    "campaign",
                    words.EMPTY_HASHTAG if not w.text[1:] else words.not_a_hashtag(show(w.text)),
                )
            hashtag = w.text[1:]
        elif low.startswith("from:") and handle is None and (found := v.handle(w.text[5:])):
            handle = found
        elif low == "from":
            continue
        elif w.text.startswith("@") and handle is None and (found := v.handle(w.text)):
            handle = found
        else:
            fail("campaign", say.takes_nothing("campaign new <name> [#tag]", show(w.text)))
    if handle is not None and hashtag is None:
        fail("campaign", words.EMPTY_HASHTAG)
    return c.CampaignNew(name, hashtag, handle)


def _tag_or_account(w: Word) -> bool:
    low = w.text.lower()
    return not w.quoted and (w.text[:1] in ("#", "@") or low == "from" or low.startswith("from:"))


def _add(args: Sequence[Word], today: date | None) -> c.CampaignAdd:
    name, rest = _name("campaign", args, metrics=False)
    if not rest:
        fail("campaign", words.NOTHING_TO_ADD)
    handle = v.handle(rest[0].text) if rest[0].text.startswith("@") else None
    if handle is not None:
        start, end, metrics = _period_and_metrics("campaign", rest[1:], today)
        if metrics or start is None or end is None:
            fail("campaign", words.NOTHING_TO_ADD)
        return c.CampaignAdd(name, (), handle, start, end)
    posts: dict[str, PostRef] = {}
    for w in rest:
        if (ref := v.post(w.text)) is None:
            fail("campaign", say.not_a_post(show(w.text)))
        posts.setdefault(ref.post_id, ref)
    return c.CampaignAdd(name, tuple(posts.values()))


def _name(word: str, args: Sequence[Word], *, metrics: bool) -> tuple[str, list[Word]]:
    """The leading campaign name and the words after it."""
    if not args:
        fail(word, words.NEEDS_NAME)
    if args[0].quoted:
        return args[0].text, list(args[1:])
    taken: list[str] = []
    index = 0
    while index < len(args) and not _other(args[index], metrics=metrics):
        taken.append(args[index].text)
        index += 1
    if not taken:
        fail(word, words.NEEDS_NAME)
    return " ".join(taken), list(args[index:])


def _other(w: Word, *, metrics: bool) -> bool:
    """Whether an unquoted word ends a bare name."""
    low = w.text.lower()
    if w.quoted:
        return True
    if w.text[:1] in ("#", "@") or low.startswith("from:") or low in _KEYWORDS:
        return True
    if v.DATE.fullmatch(w.text) or _RANGE.fullmatch(w.text) or _span_days(low) is not None:
        return True
    if v.post(w.text) is not None and low.isdigit():
        return True
    return metrics and _is_metric(w.text)


def _is_metric(text: str) -> bool:
    try:
        resolve_metric(text)
    except UnknownMetric:
        return False
    return True


def _span_days(low: str) -> int | None:
    if (m := _DAYS.fullmatch(low)) is not None:
        return int(m.group(1))
    if (m := _WEEKS.fullmatch(low)) is not None:
        return int(m.group(1)) * 7
    return None


def _period_and_metrics(
    word: str, args: Sequence[Word], today: date | None
) -> tuple[date | None, date | None, tuple[str, ...]]:
    bounds: dict[str, date] = {}
    days: int | None = None
    metrics: dict[str, None] = {}
    items = iter(v.units_joined([w.text for w in args]))
    for token in items:
        low = token.lower()
        if low in ("from", "since", "to", "until", "through"):
            value = next(items, None)
            if value is None:
                fail(word, say.needs_date(low))
            _bound(word, bounds, "start" if low in ("from", "since") else "end", value)
        elif (match := _RANGE.fullmatch(token)) is not None:
            _bound(word, bounds, "start", match.group(1))
            _bound(word, bounds, "end", match.group(2))
        elif v.DATE.fullmatch(token):
            _bound(word, bounds, "end" if "start" in bounds else "start", token)
        elif (span := _span_days(low)) is not None:
            days = span
        elif low not in ("last", "past"):
            metrics[v.metric(word, token)] = None
    start, end = _resolve(word, bounds, days, today)
    return start, end, tuple(metrics)


def _bound(word: str, bounds: dict[str, date], key: str, token: str) -> None:
    value = v.a_date(word, token)
    if key in bounds:
        fail(
            word,
            say.two_dates("start (from)" if key == "start" else "end (to)", bounds[key], value),
        )
    bounds[key] = value


def _resolve(
    word: str, bounds: dict[str, date], days: int | None, today: date | None
) -> tuple[date | None, date | None]:
    if days is not None:
        if bounds:
            fail(word, say.days_or_dates(days))
        if not 1 <= days <= MAX_DAYS:
            fail(word, say.days_out_of_range(days, MAX_DAYS))
        if today is None:
            fail(word, say.days_need_today(days))
        bounds = {"start": today - timedelta(days=days - 1), "end": today}
    start, end = bounds.get("start"), bounds.get("end")
    if start is not None and end is None:
        end = today
    if start is None and end is not None:
        fail(word, say.needs_date("from"))
    if start is None or end is None:
        return None, None
    if (problem := period_problem(start, end, today)) is not None:
        fail(word, problem)
    return start, end


def _compare(args: Sequence[Word], today: date | None) -> c.Compare:
    at = next((i for i, w in enumerate(args) if not w.quoted and w.text.lower() in _VS), None)
    if at is None or at == 0 or at == len(args) - 1:
        fail("compare", words.COMPARE_NEEDS_BOTH)
    left, rest_a = _side(args[:at])
    if rest_a:
        fail("compare", words.COMPARE_NEEDS_BOTH)
    right, rest = _side(args[at + 1 :])
    start, end, metrics = _period_and_metrics("compare", rest, today)
    return c.Compare(left, right, start, end, metrics)


def _side(args: Sequence[Word]) -> tuple[c.CompareSide, list[Word]]:
    first = args[0]
    if not first.quoted and first.text.startswith("@") and (name := v.handle(first.text)):
        return c.CompareSide("account", name), list(args[1:])
    if not first.quoted and (ref := v.post(first.text)) is not None:
        return c.CompareSide("post", ref.post_id), list(args[1:])
    if first.text.lower() in _KEYWORDS and not first.quoted:
        fail("compare", words.COMPARE_NEEDS_BOTH)
    name, rest = _name("compare", args, metrics=True)
    return c.CompareSide("campaign", name), rest
