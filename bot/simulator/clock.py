"""The simulator clock (docs/simulator.md#clock): the real one, or a simulated one, frozen or
running."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


def real_now() -> datetime:
    return datetime.now(UTC)


class SimClock:
    """Thread-safe 'now' for everything time-dependent in the simulator.

    `real`: the wall clock. `sim`: starts at `start`, then frozen or running at real speed from
    the moment it was last set. Moving backwards is allowed.
    """

    def __init__(self, *, kind: str, start: datetime, frozen: bool) -> None:
        if kind not in ("real", "sim"):
            raise ValueError(f"clock must be 'real' or 'sim', not {kind!r}")
        self.kind = kind
        self._lock = threading.Lock()
        self._anchor = start
        self._anchor_monotonic = time.monotonic()
        self._frozen = frozen

    def now(self) -> datetime:
        if self.kind == "real":
            return real_now()
        with self._lock:
            if self._frozen:
                return self._anchor
            elapsed = time.monotonic() - self._anchor_monotonic
            return self._anchor + timedelta(seconds=elapsed)

    @property
    def mode(self) -> str:
        if self.kind == "real":
            return "running"
        return "frozen" if self._frozen else "running"

    def set(self, when: datetime) -> None:
        self._switch_to_sim()
        with self._lock:
            self._anchor = when
            self._anchor_monotonic = time.monotonic()

    def advance(self, seconds: float) -> None:
        self.set(self.now() + timedelta(seconds=seconds))

    def freeze(self) -> None:
        now = self.now()
        self._switch_to_sim()
        with self._lock:
            self._anchor, self._frozen = now, True

    def resume(self) -> None:
        now = self.now()
        self._switch_to_sim()
        with self._lock:
            self._anchor, self._anchor_monotonic, self._frozen = now, time.monotonic(), False

    def _switch_to_sim(self) -> None:
        if self.kind == "real":
            now = real_now()
            with self._lock:
                self.kind, self._anchor, self._anchor_monotonic = "sim", now, time.monotonic()
                self._frozen = False
