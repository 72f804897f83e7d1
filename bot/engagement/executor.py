"""Run a plan's calls against X: bounded concurrency, pacing, retries, and per-Post refusals.

`Executor.run(calls)` sends every PlannedCall through an EngagementClient on a small thread
pool and returns one CallOutcome per call, in plan order. `Executor.flight()` keeps one pool for
groups of calls started one after the other (a batched fetch: the next batch's calls queue
behind this one's, so the workers never wait for the caller). Per call
(docs/simulator.md#client-retries):

* pacing: a RateLimiter per endpoint (one client is one app) lets a request out only when the
  window has room, so we wait for a reset rather than collect 429s;
* 429: the limiter holds the endpoint for `retry_after` + 0–1 s of jitter, then the same
  request is retried; 5xx and transport failures back off 1, 2, 4, 8, 16 s (+0–20 %, at most
  60 s); each request is retried at most `max_retries` times;
* 403 naming Posts: those IDs are recorded as not owned and the rest is sent again;
* 400 "Tweet ID(s) are unavailable": the batch is bisected (within a request budget) to find
  the protected Posts, and the rest is sent again;
* anything else (400, 401, 403 on metrics, 404, 406, an unexpected reply) fails the call at
  once: it means a bug or a revoked token, and retrying would hide it.

Every ID of a call ends up in exactly one of `sent_ids` (answered), `not_owned`, `protected`
or `unresolved` (failed with `error`): nothing is dropped silently. All waiting goes through
the injected `sleep`, so tests drive time by hand.

Deadline (bot.engagement.deadline): a run started under one stops waiting when it passes. A retry, a
backoff or a rate-limit wait that would end after it is not begun; the call's IDs end
`unresolved` with TimedOut (after a timeout or no room in the window) or with the last error
X gave (a 429 whose reset comes too late, a 5xx), so the reply shows what did arrive.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum

from bot.engagement import deadline as deadlines
from bot.engagement.call_outcomes import CallOutcome, Execution, RateWait, RequestLog
from bot.engagement.client import EngagementClient
from bot.engagement.deadline import Deadline
from bot.engagement.flight import Flight, Left
from bot.engagement.health import CallHealth, X
from bot.engagement.models import Auth, Endpoint, EngagementRequest, EngagementResult
from bot.engagement.query import PlannedCall
from bot.engagement.ratelimiter import RateLimiter, Ticket
from bot.engagement.retry_rules import backoff, out_of_time, settle
from bot.errors import (
    EngagementAPIError,
    ForbiddenPosts,
    ProtectedPosts,
    RateLimited,
)

log = logging.getLogger(__name__)

# The run's results and events keep their import path here (bot.engagement.call_outcomes).
__all__ = ["CallOutcome", "Execution", "Executor", "RateWait", "RequestLog"]


class _Probe(Enum):
    CLEAN = "clean"
    PROTECTED = "protected"
    UNRESOLVED = "unresolved"


@dataclass
class _Run:
    """One call's progress; touched by one worker thread only."""

    call: PlannedCall
    auth: Auth
    left: Left
    attempts: int = 0
    not_owned: list[str] = field(default_factory=list)
    protected: list[str] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)
    error: EngagementAPIError | None = None
    clean: list[tuple[tuple[str, ...], EngagementResult]] = field(default_factory=list)
    budget: int = 0  # bisection probes left
    deadline: Deadline | None = None

    def without_not_owned(self, ids: Sequence[str]) -> list[str]:
        gone = set(self.not_owned)
        return [i for i in ids if i not in gone]

    def outcome(self, sent: Sequence[str], result: EngagementResult | None) -> CallOutcome:
        return CallOutcome(
            call=self.call,
            sent_ids=tuple(sent) if result is not None else (),
            result=result,
            error=self.error if self.unresolved else None,
            attempts=self.attempts,
            not_owned=tuple(self.not_owned),
            protected=tuple(self.protected),
            unresolved=tuple(self.unresolved),
        )


class Executor:
    """Runs PlannedCalls through one app's EngagementClient; see the module docstring.

    `auth_for(owner)` gives the Auth for a call's owner (None: app-only); if it raises, that
    is a bug and stops the run. Keep one Executor (or pass one `limiter`) per app for the
    process's life, so every run paces against the same windows.
    """

    def __init__(
        self,
        client: EngagementClient,
        *,
        auth_for: Callable[[str | None], Auth],
        sleep: Callable[[float], None],
        monotonic: Callable[[], float],
        max_workers: int = 4,
        max_retries: int = 5,
        rng: random.Random | None = None,
        on_request: Callable[[RequestLog], None] | None = None,
        protected_bisect_budget: int = 16,
        limiter: RateLimiter | None = None,
        health: CallHealth | None = None,
        on_wait: Callable[[RateWait], None] | None = None,
    ) -> None:
        if max_workers < 1 or max_retries < 0 or protected_bisect_budget < 0:
            raise ValueError("max_workers must be ≥ 1; max_retries and the budget ≥ 0")
        self._client = client
        self._auth_for = auth_for
        self._sleep = sleep
        self._monotonic = monotonic
        self._max_workers = max_workers
        self._max_retries = max_retries
        self._rng = rng or random.Random()
        self._on_request = on_request
        self._on_wait = on_wait  # told before each wait for a rate-limit window (progress)
        self._bisect_budget = protected_bisect_budget
        self._health = health
        # Kept across runs (and shareable between executors of one app): what a run learnt
        # about the windows still holds for the next one.
        self.limiter = limiter or RateLimiter(monotonic=monotonic, sleep=sleep)

    def run(self, calls: Sequence[PlannedCall], *, deadline: Deadline | None = None) -> Execution:
        """Every call's outcome; `deadline` defaults to the caller's
        (bot.engagement.deadline.current)."""
        if not calls:
            return Execution((), 0)
        with self.flight(len(calls), deadline=deadline) as flight:
            return flight.wait(flight.start(calls))

    @contextmanager
    def flight(self, calls: int, *, deadline: Deadline | None = None) -> Iterator[Flight]:
        """A pool of workers (at most `calls`, the number expected) for groups of calls
        started in turn and collected in turn (Flight); `deadline` defaults to the caller's.
        A bug raised out of the block stops what has not started."""
        flight = Flight(
            ThreadPoolExecutor(
                max(1, min(self._max_workers, calls)), thread_name_prefix="x-executor"
            ),
            run_call=self._run_call,
            auth_for=self._auth_for,
            deadline=deadline or deadlines.current(),
            expected=calls,
        )
        try:
            yield flight
        except BaseException:
            flight.pool.shutdown(wait=True, cancel_futures=True)
            raise
        flight.pool.shutdown(wait=True)

    # --- one call ----------------------------------------------------------------------------

    def _run_call(
        self, call: PlannedCall, auth: Auth, left: Left, deadline: Deadline | None
    ) -> CallOutcome:
        # The pool's threads do not inherit the caller's context: the HTTP client reads the
        # deadline from this thread's.
        try:
            with deadlines.within(deadline):
                run = _Run(call, auth, left, deadline=deadline)
                return self._run_one(run)
        finally:
            left.done()

    def _run_one(self, run: _Run) -> CallOutcome:
        call = run.call
        run.budget = self._bisect_budget
        ids = list(dict.fromkeys(call.post_ids))
        try:
            result, sent = self._fetch_owned(run, ids)
        except ProtectedPosts as error:
            return self._isolate_protected(run, run.without_not_owned(ids), error)
        except EngagementAPIError as error:
            run.error, run.unresolved = error, run.without_not_owned(ids)
            log.warning("X API %s failed after %d attempts: %s", call.endpoint, run.attempts, error)
            return run.outcome((), None)
        return run.outcome(sent, result)

    def _fetch_owned(
        self, run: _Run, ids: Sequence[str]
    ) -> tuple[EngagementResult | None, list[str]]:
        """Send `ids`, dropping and resending without the IDs a 403 names.

        Each round removes at least one ID, so there are at most len(ids) resends. Returns
        (None, []) when every ID was foreign.
        """
        ids = list(ids)
        while ids:
            try:
                return self._send(run, ids), ids
            except ForbiddenPosts as error:
                named = {_canonical(i) for i in error.post_ids}
                foreign = [i for i in ids if _canonical(i) in named]
                if not foreign:
                    raise  # it names none of ours: resending would get the same answer
                run.not_owned.extend(foreign)
                log.info(
                    "X API %s: %d Post(s) not owned by the token", run.call.endpoint, len(foreign)
                )
                ids = [i for i in ids if _canonical(i) not in named]
        return None, []

    def _isolate_protected(self, run: _Run, ids: list[str], error: ProtectedPosts) -> CallOutcome:
        """Bisect a batch X refused for a protected Post, then send the rest once more."""
        run.error = error
        self._bisect(run, ids)
        settled = set(run.protected) | set(run.unresolved)
        clean = [i for i in run.without_not_owned(ids) if i not in settled]
        log.info("X API %s: %d protected Post(s) isolated", run.call.endpoint, len(run.protected))
        if not clean:
            return run.outcome((), None)
        if len(run.clean) == 1 and list(run.clean[0][0]) == clean:
            return run.outcome(clean, run.clean[0][1])  # one probe already answered them all
        try:
            result, sent = self._fetch_owned(run, clean)
        except EngagementAPIError as final:
            run.error = final
            run.unresolved.extend(run.without_not_owned(clean))
            return run.outcome((), None)
        return run.outcome(sent, result)

    def _bisect(self, run: _Run, group: list[str]) -> None:
        """`group` holds at least one protected Post: split until each one stands alone.

        A Post found by elimination (its sibling half came back clean) is not probed alone.
        """
        if not group:
            return
        if len(group) == 1:
            run.protected.append(group[0])
            return
        half = len(group) // 2
        left, right = group[:half], group[half:]
        verdict = self._probe(run, left)
        if verdict is _Probe.CLEAN:
            # The protected Post is not on the left, so it is on the right: no probe needed.
            self._bisect(run, run.without_not_owned(right))
            return
        if verdict is _Probe.PROTECTED:
            self._bisect(run, run.without_not_owned(left))
        if self._probe(run, right) is _Probe.PROTECTED:
            self._bisect(run, run.without_not_owned(right))

    def _probe(self, run: _Run, group: list[str]) -> _Probe:
        group = run.without_not_owned(group)
        if not group:
            return _Probe.CLEAN
        if run.budget <= 0:
            run.unresolved.extend(group)
            return _Probe.UNRESOLVED
        run.budget -= 1
        try:
            result, sent = self._fetch_owned(run, group)
        except ProtectedPosts:
            return _Probe.PROTECTED
        except EngagementAPIError as error:
            run.error = error
            run.unresolved.extend(run.without_not_owned(group))
            return _Probe.UNRESOLVED
        if result is not None:
            run.clean.append((tuple(sent), result))
        return _Probe.CLEAN

    # --- one request, with retries -----------------------------------------------------------

    def _send(self, run: _Run, ids: Sequence[str]) -> EngagementResult:
        call = run.call
        request = EngagementRequest(
            endpoint=call.endpoint,
            post_ids=tuple(ids),
            metrics=call.metrics,
            auth=run.auth,
            groupings=(call.grouping,),
            start=call.start,
            end=call.end,
        )
        retry = 0
        last: EngagementAPIError | None = None
        while True:
            passed = run.deadline is not None and run.deadline.passed
            ticket = (
                None
                if passed
                else self.limiter.acquire(
                    str(call.endpoint), run.deadline, on_wait=self._waiting(run)
                )
            )
            if ticket is None:
                if self._health is not None:
                    # No request of its own went, but X kept it waiting (a probe it never
                    # answered, a window it keeps shut): the health record must see it.
                    self._health.record(X, "timeouts")
                raise out_of_time(call.endpoint, last, "no room in X's rate limit")
            run.attempts += 1
            started = self._monotonic()
            try:
                result = self._client.fetch(request)
            except EngagementAPIError as error:
                self._settle(ticket, error)
                self._report(call, len(ids), started, retry, error)
                if not error.retryable or retry >= self._max_retries:
                    raise
                retry += 1
                last = error
                self._wait_before_retry(call.endpoint, error, retry, run.deadline)
                continue
            except BaseException:
                self.limiter.release(ticket)
                raise
            self.limiter.observe(ticket, result.rate_limit)
            self._report(call, len(ids), started, retry, None)
            return result

    def _waiting(self, run: _Run) -> Callable[[float], None] | None:
        observer = self._on_wait
        if observer is None:
            return None

        def tell(seconds: float) -> None:
            observer(RateWait(run.call.endpoint, seconds, run.left.now(), run.left.calls))

        return tell

    def _settle(self, ticket: Ticket, error: EngagementAPIError) -> None:
        settle(self.limiter, ticket, error, self._rng)

    def _wait_before_retry(
        self, endpoint: Endpoint, error: EngagementAPIError, retry: int, deadline: Deadline | None
    ) -> None:
        if isinstance(error, RateLimited):
            # The limiter now holds the endpoint until the reset; acquire() does the waiting,
            # once for every thread rather than once per thread.
            log.info("X API %s rate limited; retry %d after the reset", endpoint, retry)
            return
        delay = backoff(retry, self._rng)
        if deadline is not None and not deadline.allows(delay):
            raise out_of_time(endpoint, error, "no time left to retry")
        log.info("X API %s: %s; retry %d in %.1f s", endpoint, type(error).__name__, retry, delay)
        self._sleep(delay)

    def _report(
        self,
        call: PlannedCall,
        ids: int,
        started: float,
        retry: int,
        error: EngagementAPIError | None,
    ) -> None:
        if self._on_request is not None:
            status = 200 if error is None else error.status
            elapsed = self._monotonic() - started
            name = None if error is None else type(error).__name__
            self._on_request(
                RequestLog(call.endpoint, call.owner, ids, status, elapsed, retry, name)
            )


def _canonical(post_id: str) -> str:
    """Match IDs as numbers: X answers with canonical decimals ('007' is '7')."""
    return str(int(post_id)) if post_id.isdigit() else post_id
