"""`/engagement alert …`: a threshold rule, `spike`, `off <id>` or `list` (bot.slack.parse.grammar
hands it the words after `alert`, uncut at commas since its numbers may hold them: 1,000).

The rule means "more than N per hour". `>= N` (or `≥`) is stored as `> N-1`, exact since counts
are whole numbers; the operator and the `/h` may be left out; `/hr`, `/hour`, `per hour`,
`an hour` and `over`/`above` work; N takes `1,000`, `1.5k`, `2m`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import NoReturn

from bot.copy.usage import COMMAND
from bot.slack.parse import commands as c
from bot.slack.parse import values as v
from bot.slack.parse.commands import Command
from bot.slack.parse.values import fail, show

MAX_PER_HOUR = 10**9
MAX_RULE_ID = 2**63 - 1  # SQLite's largest integer, where rule ids live

_RULE_ID = re.compile(r"#?([0-9]{1,19})", re.ASCII)
# An alert threshold is lexed left to right so each error can name the part that is wrong.
_A_METRIC = re.compile(r"\s*([A-Za-z][A-Za-z0-9_\-]*)", re.ASCII)
_AN_OP = re.compile(r"\s*(>=|=>|>|(?:over|above|more\s+than)\b)", re.ASCII | re.IGNORECASE)
# Any length of digits, so a huge number is refused as too large rather than as no number.
_A_NUMBER = re.compile(
    r"\s*([0-9]+(?:,[0-9]{3})*(?:\.[0-9]{1,6})?)(?:\s*([kKmM]))?(?![A-Za-z0-9])", re.ASCII
)
_A_UNIT = re.compile(r"\s*(?:/|(?:per|an?|each|every)\s+)\s*([A-Za-z]+)\b", re.ASCII | re.I)
_HOUR_WORDS = frozenset({"h", "hr", "hrs", "hour", "hours"})


def parse_alert(args: Sequence[str]) -> Command:
    first = args[0].lower() if args else ""
    if first in ("spike", "spikes"):
        level = args[1].lower() if len(args) > 1 else "medium"
        level = {"med": "medium", "normal": "medium"}.get(level, level)
        if level not in ("low", "medium", "high") or len(args) > 2:
            fail("alert", f"Spike sensitivity is low, medium or high (got {show(args[-1])}).")
        return c.AlertSpike(level)
    if first in ("off", "remove", "delete", "rm"):
        match = _RULE_ID.fullmatch(args[1]) if len(args) == 2 else None
        if match is None or not 1 <= int(match.group(1)) <= MAX_RULE_ID:
            fail("alert", f"`alert {first}` needs one rule id, e.g. `alert off 3`; "
                 f"`{COMMAND} alerts` lists them.")  # fmt: skip
        return c.AlertOff(int(match.group(1)))
    if first in ("list", "show"):
        if len(args) > 1:
            fail("alerts", f"`alert {first}` takes nothing after it (got {show(args[1])}).")
        return c.Alerts()
    if not args:
        fail("alert", "`alert` needs a metric and a threshold, `spike`, or `off <id>`.")
    return _threshold(" ".join(args))


def _threshold(text: str) -> c.AlertThreshold:
    name = _A_METRIC.match(text)
    if name is None:
        fail("alert", f"`alert` starts with a metric name (got {show(text.split()[0])}).")
    metric = v.metric("alert", name.group(1))
    op = _AN_OP.match(text, name.end())
    pos = op.end() if op else name.end()
    number = _A_NUMBER.match(text, pos)
    if number is None:
        got = (text[pos:].split() or ["nothing"])[0]
        fail("alert", f"Expected a number per hour after `{text[:pos].strip()}`, got {show(got)}.")
    pos = number.end()
    if (unit := _A_UNIT.match(text, pos)) is not None:
        if unit.group(1).lower() not in _HOUR_WORDS:
            fail("alert", f"Alerts count per hour (`/h`), not per {show(unit.group(1))}.")
        pos = unit.end()
    per_hour = _count(number.group(1), number.group(2))
    if op and op.group(1) in (">=", "=>"):
        per_hour -= 1  # counts are whole numbers: ≥ N is > N-1
    if per_hour > MAX_PER_HOUR:
        _too_large(f"{number.group(1)}{number.group(2) or ''}")
    if per_hour < 0:
        fail("alert", f"The threshold runs from `> 0` (any) to `> {MAX_PER_HOUR:,}` per hour.")
    rest = text[pos:].split()
    if len(rest) == 2 and rest[0].lower() in ("on", "for"):
        rest = rest[1:]
    if len(rest) > 1:
        fail("alert", f"Unexpected {show(rest[1])}: one Post or @handle at most.")
    post = v.post(rest[0]) if rest else None
    handle = v.handle(rest[0]) if rest and post is None else None
    if rest and post is None and handle is None:
        fail("alert", f"{show(rest[0])} is neither a Post (ID or URL) nor an @handle.")
    return c.AlertThreshold(metric, per_hour, post, handle)


def _count(digits: str, suffix: str | None) -> int:
    scale = {"k": 1000, "m": 1_000_000}.get((suffix or "").lower(), 1)
    value = Decimal(digits.replace(",", "")) * scale
    if value > MAX_PER_HOUR + 1:  # before int(): a thousand digits need not become an int
        _too_large(f"{digits}{suffix or ''}")
    if value != value.to_integral_value():
        fail("alert", f"`{digits}{suffix or ''}` is not a whole number.")
    return int(value)


def _too_large(typed: str) -> NoReturn:
    fail("alert", f"{show(typed)} is too large: the threshold goes up to `> {MAX_PER_HOUR:,}` "
         "per hour.")  # fmt: skip
