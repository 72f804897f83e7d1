"""The retry rules every call to X follows, engagement and v2 alike: what a failed attempt
tells the rate limiter, how long to back off before the next one, and what a call that ran
out of time fails with (docs/simulator.md#client-retries).
"""

from __future__ import annotations

import random

from bot.engagement.models import Endpoint
from bot.engagement.ratelimiter import RateLimiter, Ticket
from bot.errors import EngagementAPIError, RateLimited, TimedOut, TransportError

BACKOFF_CAP_S = 60.0
# Replies the server counts against the window: their headers describe it exactly.
# Injected faults, 401s and 429s are not counted and may show other numbers.
_COUNTED_STATUSES = frozenset({200, 400, 403})


def settle(
    limiter: RateLimiter, ticket: Ticket, error: EngagementAPIError, rng: random.Random
) -> None:
    """Tell the limiter what a failed attempt says about its window (shared with the v2 calls
    of bot.engagement.directory, so both pace and back off by one rule)."""
    if isinstance(error, RateLimited):
        wait = error.retry_after + rng.uniform(0.0, 1.0)
        limiter.rate_limited(ticket, wait, error.rate_limit)
    elif error.status in _COUNTED_STATUSES:
        limiter.observe(ticket, error.rate_limit)
    else:
        limiter.release(ticket)


def backoff(retry: int, rng: random.Random) -> float:
    """Seconds before the `retry`-th retry of a 5xx or transport failure: 1, 2, 4, 8 … +0–20 %."""
    return min(2.0 ** (retry - 1) * (1.0 + rng.uniform(0.0, 0.2)), BACKOFF_CAP_S)


def out_of_time(
    endpoint: Endpoint, last: EngagementAPIError | None, why: str
) -> EngagementAPIError:
    """What a call that ran out of time failed with: X being slow (no answer, or a timeout)
    is TimedOut; an answer X did give (a 429, a 5xx) says more and is kept."""
    if last is None or isinstance(last, TransportError):
        return TimedOut(f"{endpoint}: the answer was due ({why})", endpoint=str(endpoint))
    return last
