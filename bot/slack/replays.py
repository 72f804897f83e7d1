"""Signed Slack requests act once: a redelivery with the same signature (a proxy's retry, a
replay by whoever saw the bytes) inside the window Slack's signature check allows is recognised.

The signature is an HMAC of the timestamp and the body, so it names one request; a request whose
timestamp has left the window fails the signature check anyway and need not be remembered.
Memory only: a restart forgets, which costs at most one repeat per request in flight.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

WINDOW_S = 5 * 60  # slack_sdk's SignatureVerifier refuses timestamps further off than this
MAX_REMEMBERED = 20_000  # ~65 signed requests a second for five minutes, a few MB at most


class SeenSignatures:
    """The signatures accepted in the last WINDOW_S seconds (at most `limit`; thread-safe)."""

    def __init__(
        self,
        *,
        now: Callable[[], float] = time.time,
        window_s: float = WINDOW_S,
        limit: int = MAX_REMEMBERED,
    ) -> None:
        self._now, self._window_s, self._limit = now, window_s, limit
        self._seen: OrderedDict[str, float] = OrderedDict()  # signature → its timestamp
        self._lock = threading.Lock()

    def first_time(self, signature: str, timestamp: str) -> bool:
        """Whether this signed request is new; it is remembered either way."""
        try:
            stamp = float(timestamp)
        except ValueError:
            stamp = self._now()
        with self._lock:
            self._forget_expired()
            if signature in self._seen:
                return False
            self._seen[signature] = stamp
            while len(self._seen) > self._limit:  # a flood evicts the oldest first
                self._seen.popitem(last=False)
            return True

    def __len__(self) -> int:
        with self._lock:
            self._forget_expired()
            return len(self._seen)

    def _forget_expired(self) -> None:
        # Requests arrive roughly in timestamp order, so the expired ones are at the front; one
        # that arrived late may linger a little, which only costs memory the limit bounds.
        oldest_kept = self._now() - self._window_s
        while self._seen and next(iter(self._seen.values())) < oldest_kept:
            self._seen.popitem(last=False)
