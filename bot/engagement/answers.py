"""The service's short memory: recent answers (so the same question asked twice costs nothing)
and X's clock offset (learnt from the Date headers of its replies)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.engagement.executor import Execution
from bot.engagement.query import EngagementQuery, Report

CacheKey = tuple[EngagementQuery, str | None, frozenset[str]]


class AnswerCache:
    """Reports kept for `seconds` of monotonic time, keyed by the question and who may answer."""

    def __init__(self, monotonic: Callable[[], float], seconds: float) -> None:
        self._monotonic = monotonic
        self._seconds = seconds
        self._reports: dict[CacheKey, tuple[float, Report]] = {}
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> Report | None:
        with self._lock:
            hit = self._reports.get(key)
            if hit is None:
                return None
            at, report = hit
            if self._monotonic() - at > self._seconds:
                del self._reports[key]
                return None
            return report

    def put(self, key: CacheKey, report: Report) -> None:
        with self._lock:
            self._reports[key] = (self._monotonic(), report)


class XClock:
    """X's clock minus ours, learnt from reply Date headers (1 s resolution is plenty)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._offset_used = timedelta(0)
        self._lock = threading.Lock()

    def now(self, now: datetime) -> datetime:
        """`now` on X's clock, as far as the Date headers of its replies have told us.

        Windows are planned up to X's current hour; a client whose clock runs ahead of X's
        (or a simulator whose clock is set) would otherwise ask for an hour X has not reached.
        """
        with self._lock:
            self._offset_used = self._offset
        return now + self._offset

    def ours(self, x_now: datetime) -> datetime:
        """Our clock's reading for a time the last `now()` put on X's clock."""
        return x_now - self._offset_used

    def learn(self, execution: Execution, now: datetime) -> bool:
        """Learn X's clock offset from this run's replies; True if a window was refused for
        ending in the future (the run should be planned again on X's clock)."""
        refused = False
        for outcome in execution.outcomes:
            source = outcome.result or outcome.error
            info = source.rate_limit if source is not None else None
            if info is not None and info.date is not None:
                with self._lock:
                    self._offset = self._offset_used + (info.date - now)
            if outcome.error is not None and "in the future" in str(outcome.error):
                refused = True
        return refused and self._offset != self._offset_used
