"""Injected time for the engagement service: monotonic time that moves only when the code
under test 'sleeps' (rate-limit and retry waits), so no test waits for real."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from bot.simulator.server import RunningSimulator
from tests.support.simhttp import admin


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


class SimTime:
    """Our monotonic clock, advanced only by sleeping; sleeping moves the simulator's clock too
    (its rate-limit windows reset as X's would), unless `move_simulator` is False. Thread-safe:
    the executor's workers sleep on it."""

    def __init__(self, sim: RunningSimulator, *, move_simulator: bool = True) -> None:
        self.sim = sim
        self.move_simulator = move_simulator
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds
            if self.move_simulator:
                admin(self.sim, "POST", "clock", {"advance_seconds": seconds})
