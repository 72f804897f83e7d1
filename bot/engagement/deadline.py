"""Deadlines for work started on someone's behalf, and one alarm thread to enforce them.

A slash command's answer is due within Settings.answer_seconds of its arrival. The listener
opens `within(deadline)` around the command's work; everything below it that waits (the
executor's retries and rate-limit waits, each HTTP request to X) reads `current()` and stops
waiting once the deadline passes, so what has been answered so far is what the user gets.

A context variable rather than a parameter threaded through every layer: the engagement
service, planner and store never wait, so only the code that does (executor, HTTP client)
looks. Threads do not inherit context variables: code that hands work to its own threads
passes the deadline on (bot.engagement.executor does).

`Alarm` runs callbacks at monotonic instants on one daemon thread: the HTTP client uses it to
cut a reply that is still dripping in when the deadline passes (a per-recv read timeout never
fires while a byte arrives every few seconds), the listener to tell the user when the answer
is late.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

Monotonic = Callable[[], float]


@dataclass(frozen=True)
class Deadline:
    """An instant on `clock` (a monotonic clock in seconds) by which the work must be done."""

    at: float
    clock: Monotonic = field(default=time.monotonic, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Monotonic = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    def left(self) -> float:
        """Seconds to go; 0 once passed."""
        return max(self.at - self.clock(), 0.0)

    @property
    def passed(self) -> bool:
        return self.clock() >= self.at

    def allows(self, seconds: float) -> bool:
        """Whether waiting `seconds` more still ends before the deadline."""
        return self.clock() + seconds < self.at


_CURRENT: ContextVar[Deadline | None] = ContextVar("deadline", default=None)


def current() -> Deadline | None:
    """The deadline of the work this thread is doing, if any."""
    return _CURRENT.get()


@contextmanager
def within(deadline: Deadline | None) -> Iterator[None]:
    """Run the block under `deadline` (None: no deadline)."""
    token = _CURRENT.set(deadline)
    try:
        yield
    finally:
        _CURRENT.reset(token)


class Alarm:
    """Calls each `callback` at its monotonic instant, on one daemon thread, unless cancelled.

    Callbacks must be quick (close a socket, submit a reply to a pool): they run one after
    the other on the alarm's thread.
    """

    def __init__(self, clock: Monotonic = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def at(self, when: float, callback: Callable[[], None]) -> int:
        """Schedule `callback` at `when`; returns an id for `cancel`."""
        with self._cond:
            ident = next(self._ids)
            heapq.heappush(self._heap, (when, ident, callback))
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="alarm", daemon=True)
                self._thread.start()
            self._cond.notify()
            return ident

    def cancel(self, ident: int) -> None:
        with self._cond:
            if any(entry[1] == ident for entry in self._heap):
                self._cancelled.add(ident)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > self._clock():
                    wait = self._heap[0][0] - self._clock() if self._heap else None
                    self._cond.wait(wait)
                _, ident, callback = heapq.heappop(self._heap)
                if ident in self._cancelled:
                    self._cancelled.discard(ident)
                    continue
            try:
                callback()
            except Exception:
                log.exception("an alarm callback failed")


# One alarm thread for the process: alarms are cheap and must never wait for each other long.
ALARM = Alarm()
