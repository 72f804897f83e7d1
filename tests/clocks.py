"""Injected time for the engagement service: monotonic time that moves only when the code
under test 'sleeps' (rate-limit and retry waits), so no test waits for real."""

from __future__ import annotations


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds
