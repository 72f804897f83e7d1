"""What a run of the executor tells its caller: one CallOutcome per planned call, the
Execution that holds them, and the events it reports while it runs (each HTTP attempt as a
RequestLog, each rate-limit wait as a RateWait, told before it starts).

Plain frozen data; bot.engagement.executor makes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engagement.models import Endpoint, EngagementResult
from bot.engagement.query import PlannedCall
from bot.errors import EngagementAPIError


@dataclass(frozen=True)
class RequestLog:
    """One HTTP attempt, for the service's API-call log (no tokens: `owner` is a user ID)."""

    endpoint: Endpoint
    owner: str | None
    ids: int
    status: int  # 0 when no response arrived (connection error, timeout, truncated body)
    elapsed: float  # seconds, on the executor's monotonic clock
    retry: int  # 0 for the first send of a request, n for its n-th retry
    error: str | None = None  # the exception's class name when the attempt failed


@dataclass(frozen=True)
class RateWait:
    """A wait for an endpoint's rate-limit window to reset, told before it starts: which
    endpoint, for how long (seconds, on the executor's clock), and how many of the run's calls
    have not finished yet."""

    endpoint: Endpoint
    seconds: float
    calls_left: int
    calls: int


@dataclass(frozen=True)
class CallOutcome:
    """What became of one PlannedCall. IDs are the call's own strings.

    `sent_ids` are answered by `result`; `not_owned` were named by a 403; `protected` were
    isolated by bisecting a 400; `unresolved` got no answer and failed with `error`.
    """

    call: PlannedCall
    sent_ids: tuple[str, ...]
    result: EngagementResult | None
    error: EngagementAPIError | None
    attempts: int
    not_owned: tuple[str, ...] = ()
    protected: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True)
class Execution:
    outcomes: tuple[CallOutcome, ...]  # in plan order
    requests_sent: int

    @property
    def results(self) -> tuple[EngagementResult, ...]:
        return tuple(o.result for o in self.outcomes if o.result is not None)

    @property
    def failed(self) -> tuple[CallOutcome, ...]:
        return tuple(o for o in self.outcomes if o.failed)

    @property
    def not_owned(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for o in self.outcomes for i in o.not_owned))

    @property
    def protected(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(i for o in self.outcomes for i in o.protected))
