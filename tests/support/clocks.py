"""Injected time for the engagement service: monotonic time that moves only when the code
under test 'sleeps' (rate-limit and retry waits), so no test waits for real."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


class WallClock:
    """Injected wall-clock time, shared by the bot (its `clock`, `sleep`) and the fake Slack
    (its `clock`, epoch seconds): it moves only when the code under test sleeps or the test
    advances it."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def epoch(self) -> float:
        return self.now.timestamp()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)

    def advance(self, delta: timedelta) -> None:
        self.now += delta
