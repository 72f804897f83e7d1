"""Client-side pacing for the Engagement API's per-minute limits (docs/simulator.md#rate-limits).

X counts requests per app and endpoint in fixed one-minute windows and tells us where we stand
on every reply (x-per-minute-limit / -remaining / -reset, plus Date). `RateLimiter` keeps one
`Window` per key (the endpoint: one client is one app) and lets a request out only when it knows
the window has room, so we wait for a reset instead of collecting 429s.

    unknown ──one probe──▶ known: send while remaining − in flight > 0
       ▲                            │ none left
       │                            ▼
       └──── deadline passes ──── sleep until the window's reset (one thread per key)

A caller with a deadline of its own (bot.engagement.deadline) gets no ticket when the reset
comes after it.

Times are local `monotonic()` seconds. A reply's reset is turned into a local deadline as
`arrival + (reset − Date)`, never by comparing reset with our wall clock: the server's clock
(the simulator's may be simulated) is only ever compared with itself.

`Window` is pure (the caller passes `now`); `RateLimiter` adds the lock, the blocking and the
injected `sleep`, and lets exactly one thread per key sleep until a deadline while the others
wait on a condition: N threads sleeping in parallel is the same wall time as one, but with a
fake clock it would count N times.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.engagement.deadline import Deadline
from bot.engagement.models import RateLimitInfo


@dataclass(frozen=True)
class Ticket:
    """Permission to send one request; hand it back with observe, rate_limited or release."""

    key: str
    generation: int


@dataclass(frozen=True)
class Wait:
    """Not now: sleep until the local instant `until`, or (None) until a reply comes back."""

    until: float | None


@dataclass
class Window:
    """What we know of one key's current rate-limit window.

    `remaining` is the lowest x-per-minute-remaining among this window's replies (None:
    unknown). Requests still in flight may not be counted in it yet, so we assume none is:
    `available` = remaining − in flight never exceeds what the server will accept, and it is
    exact once every reply is in. `generation` counts local windows, so a late reply to a
    request sent in an earlier window is not taken as news about this one. `blind` means the
    server answered without rate-limit headers: then we do not pace and rely on 429s.
    """

    key: str = ""
    generation: int = 0
    remaining: int | None = None
    limit: int | None = None
    reset_at: int | None = None  # the server's epoch second at which the window ends
    deadline: float | None = None  # the same instant on our monotonic clock
    in_flight: int = 0
    blind: bool = False

    @property
    def available(self) -> int | None:
        return None if self.remaining is None else self.remaining - self.in_flight

    def decide(self, now: float) -> Ticket | Wait:
        """A ticket if a request may go now (counted as in flight), else how to wait."""
        self._expire(now)
        if self.blind:
            return self._send()
        if self.remaining is None:
            # One probe at a time, and only once earlier replies are in: its reply then tells
            # the whole truth about the new window.
            return self._send() if self.in_flight == 0 else Wait(None)
        if self.remaining - self.in_flight > 0:
            return self._send()
        if self.in_flight > 0:
            # Replies may still change what we know; sleeping can start once they are in.
            return Wait(None)
        return Wait(self.deadline)

    def _expire(self, now: float) -> None:
        if self.deadline is None:
            self.remaining = None  # a count means nothing without the end of its window
        elif now >= self.deadline:
            # The window is over: forget its numbers and learn the next one from a probe.
            self.generation += 1
            self.remaining = self.deadline = None

    def _send(self) -> Ticket:
        self.in_flight += 1
        return Ticket(self.key, self.generation)

    def observed(self, generation: int, info: RateLimitInfo | None, now: float) -> None:
        """A reply the server counted (200, 400, 403) arrived at `now` with these headers."""
        self.in_flight -= 1
        if generation != self.generation:
            return  # its window has ended here; the next probe will tell us the truth
        if info is None or info.remaining is None:
            if self.remaining is None:
                self.blind = True
            return
        self.blind = False
        self.limit = info.limit if info.limit is not None else self.limit
        deadline = now + info.seconds_until_reset()
        known, told = self.reset_at, info.reset_at
        newer = known is not None and told is not None and told > known
        if self.remaining is None or newer:
            self.remaining, self.reset_at, self.deadline = info.remaining, told, deadline
        elif told == known:
            # Replies overtake each other: the lowest count is the latest the server made.
            self.remaining = min(self.remaining, info.remaining)
            self.deadline = max(self.deadline or deadline, deadline)
        # An older reset_at is a straggler from a window the server has left: ignore it.

    def rate_limited(self, wait: float, info: RateLimitInfo | None, now: float) -> None:
        """A 429 arrived at `now`: the server's window is spent for `wait` more seconds."""
        self.in_flight -= 1
        self.blind = False
        self.remaining = 0
        until = now + wait
        self.deadline = max(self.deadline or until, until)
        if info is not None and info.reset_at is not None:
            self.reset_at = max(self.reset_at or info.reset_at, info.reset_at)

    def released(self) -> None:
        """No reply worth learning from (connection error, 5xx, 401): only the count changes."""
        self.in_flight -= 1


class RateLimiter:
    """Thread-safe pacing per key; `sleep` and `monotonic` are injected (tests fake both)."""

    def __init__(self, *, monotonic: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._cond = threading.Condition()
        self._windows: dict[str, Window] = {}
        self._sleeping: set[str] = set()

    def snapshot(self, key: str) -> Window:
        """A copy of what is known about `key` (for tests and logs)."""
        with self._cond:
            return replace(self._window(key))

    def try_acquire(self, key: str) -> Ticket | Wait:
        """A ticket if a request to `key` may go now; never blocks."""
        with self._cond:
            return self._window(key).decide(self._monotonic())

    def acquire(
        self,
        key: str,
        deadline: Deadline | None = None,
        *,
        on_wait: Callable[[float], None] | None = None,
    ) -> Ticket | None:
        """Block until a request to `key` may go; one thread sleeps for a reset, others wait.

        None once `deadline` passes, or at once when the window reopens only after it: waiting
        for a reset nobody will be there to read is a thread held for nothing. `on_wait(seconds)`
        is told before each sleep for a reset (by the sleeping thread only, so once per wait),
        for a caller that wants to say what it is waiting for."""
        return self.acquire_within(key, None, deadline=deadline, on_wait=on_wait)

    def acquire_within(
        self,
        key: str,
        max_wait: float | None,
        *,
        deadline: Deadline | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> Ticket | None:
        """As acquire, but None (at once, without waiting) when the window opens more than
        `max_wait` seconds from now: a 15-minute window is not worth holding a reply for."""
        with self._cond:
            while True:
                now = self._monotonic()
                decision = self._window(key).decide(now)
                if isinstance(decision, Ticket):
                    return decision
                if (
                    max_wait is not None
                    and decision.until is not None
                    and decision.until - now > max_wait
                ):
                    return None
                if deadline is not None and deadline.passed:
                    return None
                if (
                    deadline is not None
                    and decision.until is not None
                    and not deadline.allows(decision.until - now)
                ):
                    # Whoever sleeps for this reset, it comes too late for this caller: no
                    # use holding its thread (and its reply) until the deadline.
                    return None
                if decision.until is None or key in self._sleeping:
                    # Woken by every reply and by the sleeper (and by the deadline).
                    self._cond.wait(None if deadline is None else deadline.left())
                    continue
                self._sleep_until(key, decision.until, on_wait)

    def _sleep_until(self, key: str, until: float, on_wait: Callable[[float], None] | None) -> None:
        # Called with the condition held; sleeps (and tells on_wait) without it.
        self._sleeping.add(key)
        self._cond.release()
        try:
            seconds = max(until - self._monotonic(), 0.0)
            if on_wait is not None and seconds > 0:
                on_wait(seconds)
            self._sleep(seconds)
        finally:
            self._cond.acquire()
            self._sleeping.discard(key)
            self._cond.notify_all()

    def observe(self, ticket: Ticket, info: RateLimitInfo | None) -> None:
        """The server answered (and counted) the ticket's request with these headers."""
        with self._cond:
            self._window(ticket.key).observed(ticket.generation, info, self._monotonic())
            self._cond.notify_all()

    def rate_limited(self, ticket: Ticket, wait: float, info: RateLimitInfo | None) -> None:
        """The ticket's request got a 429; nothing goes to `key` for `wait` seconds."""
        with self._cond:
            self._window(ticket.key).rate_limited(wait, info, self._monotonic())
            self._cond.notify_all()

    def release(self, ticket: Ticket) -> None:
        """The ticket's request ended without a reply worth learning from."""
        with self._cond:
            self._window(ticket.key).released()
            self._cond.notify_all()

    def _window(self, key: str) -> Window:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = Window(key)
        return window
