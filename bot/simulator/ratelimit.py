"""Fixed-window request counters per (app, endpoint) (docs/simulator.md#rate-limits)."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch second at which the window ends


class RateLimiter:
    """Counts requests in fixed windows `[w·k, w·(k+1))` of the simulator clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, int], int] = {}

    def hit(
        self, app: str, endpoint: str, *, limit: int, window_s: int, now_s: float
    ) -> RateDecision:
        """Count one request if the window has room; say what the headers should show."""
        window = int(now_s // window_s)
        reset = (window + 1) * window_s
        key = (app, endpoint, window)
        with self._lock:
            used = self._counts.get(key, 0)
            if used >= limit:
                return RateDecision(False, limit, 0, reset)
            self._counts[key] = used + 1
            if len(self._counts) > 10_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if k[2] >= window - 1}
        return RateDecision(True, limit, max(limit - used - 1, 0), reset)

    def current(
        self, app: str, endpoint: str, *, limit: int, window_s: int, now_s: float
    ) -> RateDecision:
        """The window's state without counting (for 401s, 429s and faults)."""
        window = int(now_s // window_s)
        with self._lock:
            used = self._counts.get((app, endpoint, window), 0)
        return RateDecision(used < limit, limit, max(limit - used, 0), (window + 1) * window_s)

    @staticmethod
    def peek(*, limit: int, window_s: int, now_s: float) -> RateDecision:
        """Headers for a request that is not counted (no app identified, or faults)."""
        return RateDecision(True, limit, limit, (int(now_s // window_s) + 1) * window_s)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
