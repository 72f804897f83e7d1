"""A flight of calls: groups of PlannedCalls started one after the other on one Executor's
pool (bot.engagement.executor.Executor.flight) and collected in the same order. A batched fetch
starts the next batch before it merges and saves this one, so the workers go on to its calls
without waiting for the save."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from bot.engagement.call_outcomes import CallOutcome, Execution
from bot.engagement.deadline import Deadline
from bot.engagement.models import Auth
from bot.engagement.query import PlannedCall

# Runs one call to its outcome on a worker: (call, auth, the flight's count, deadline).
RunCall = Callable[[PlannedCall, Auth, "Left", Deadline | None], CallOutcome]


class Left:
    """How many of a flight's calls have not finished (for progress); shared by its workers."""

    def __init__(self, calls: int = 0) -> None:
        self.calls = calls
        self.left = calls
        self._lock = threading.Lock()

    def add(self, calls: int) -> None:
        with self._lock:
            self.calls += calls
            self.left += calls

    def done(self) -> None:
        with self._lock:
            self.left -= 1

    def now(self) -> int:
        with self._lock:
            return self.left


class Flight:
    """Groups of calls on one Executor's pool: `start` queues a group's calls behind those
    already started; `wait` gives a group's outcomes in plan order once all have finished."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        *,
        run_call: RunCall,
        auth_for: Callable[[str | None], Auth],
        deadline: Deadline | None,
        expected: int,
    ) -> None:
        self.pool = pool
        self._run_call = run_call
        self._auth_for = auth_for
        self._deadline = deadline
        # Progress ("2 of 3 calls left") counts the calls expected from the start, not only
        # those started so far; a replan that adds calls adds them when they start.
        self._left = Left(expected)
        self._unstarted = expected
        # Once per owner, not per call: reading a token decrypts it (400 calls, one owner).
        self._auths: dict[str | None, Auth] = {}

    def start(self, calls: Sequence[PlannedCall]) -> list[Future[CallOutcome]]:
        for owner in dict.fromkeys(c.owner for c in calls):
            if owner not in self._auths:
                self._auths[owner] = self._auth_for(owner)
        beyond = max(0, len(calls) - self._unstarted)
        self._unstarted -= len(calls) - beyond
        if beyond:
            self._left.add(beyond)
        return [
            self.pool.submit(
                self._run_call, call, self._auths[call.owner], self._left, self._deadline
            )
            for call in calls
        ]

    def wait(self, started: Sequence[Future[CallOutcome]]) -> Execution:
        outcomes = tuple(f.result() for f in started)
        return Execution(outcomes, sum(o.attempts for o in outcomes))
