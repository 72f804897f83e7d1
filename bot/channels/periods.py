"""Weekly and monthly reports: which local days a report covers, and the period before.

A weekly report posted on local day P covers the 7 days before it, P − 7 … P − 1 (posted on
a Monday, that is last Monday to Sunday); a monthly report covers the previous calendar month,
whatever day of the month it is posted on. Each is compared with the period just before it of
the same kind (the 7 days before; the month before). A period is named by its first day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

WEEK = timedelta(days=7)


class Period(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class Span:
    """Local days [first, last], both included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def covered(period: Period, posted_on: date) -> Span:
    """The days a report posted on local day `posted_on` reports on."""
    if period is Period.WEEKLY:
        return Span(posted_on - WEEK, posted_on - timedelta(days=1))
    last = posted_on.replace(day=1) - timedelta(days=1)
    return Span(last.replace(day=1), last)


def starting(period: Period, first: date) -> Span:
    """The period that begins on `first` (a Monday-to-Sunday week begins on its Monday)."""
    if period is Period.WEEKLY:
        return Span(first, first + WEEK - timedelta(days=1))
    return Span(first, _month_end(first))


def before(period: Period, span: Span) -> Span:
    """The period of the same kind just before `span`."""
    if period is Period.WEEKLY:
        return Span(span.first - WEEK, span.first - timedelta(days=1))
    last = span.first - timedelta(days=1)
    return Span(last.replace(day=1), last)


def posting_day(anchor: int, year: int, month: int) -> date:
    """Day `anchor` (1-31) of the month, or its last day when the month is shorter."""
    return date(year, month, min(anchor, _month_end(date(year, month, 1)).day))


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)
