"""How the bot's calls to X and to Slack have been going, for /healthz.

Acks and the health route stay fast whatever X does, so a bot answering nobody would look
healthy. `CallHealth` keeps the last outcomes of each service's calls (and the calls still
waiting); `verdict()` (pure) says whether they look failing or stalled, in one line an operator
can act on, e.g. "timeouts on 5 of the last 5 calls since 10:02 UTC".

Fed by bot.engagement.http_client (every X request) and executor (calls X kept waiting past
their deadline), bot.slack.retries (every Web API attempt) and the listener's replies (every
response_url post).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

X = "x"
SLACK = "slack"  # the Web API
SLACK_REPLIES = "slack_replies"  # commands' response_url posts: another host, another fate
# What is looked at: each service's last RECENT calls, if they ended within WINDOW_S.
RECENT = 10
WINDOW_S = 300.0
# Failing: this many failures among them, or every one of them when there were fewer (a hung X
# makes few calls: one probe hangs while the others wait for its answer).
FAILING_AT = 3
STALLED_AFTER_S = 10.0  # a call still waiting this long: stalled


@dataclass(frozen=True)
class Outcome:
    ended: float  # monotonic seconds
    at: datetime  # the same instant, for the reason's "since"
    problem: str | None  # None: it worked; else a plural label ("timeouts", "HTTP 503 answers")


def verdict(
    outcomes: Sequence[Outcome], waiting: Sequence[float], *, now: float, wall: datetime
) -> str | None:
    """Why a service looks unwell (None: it doesn't): recent calls failing, or calls waiting
    far longer than an answer takes."""
    recent = [o for o in outcomes[-RECENT:] if now - o.ended <= WINDOW_S]
    failed = [o for o in recent if o.problem is not None]
    if failed and len(failed) >= min(FAILING_AT, len(recent)):
        problem, _ = Counter(o.problem for o in failed).most_common(1)[0]
        return (
            f"{problem} on {len(failed)} of the last {len(recent)} calls since "
            f"{failed[0].at:%H:%M} UTC"
        )
    stalled = [now - start for start in waiting if now - start >= STALLED_AFTER_S]
    if stalled:
        since = wall - timedelta(seconds=max(stalled))
        calls = "1 call" if len(stalled) == 1 else f"{len(stalled)} calls"
        return f"{calls} waiting over {STALLED_AFTER_S:.0f} s for an answer since {since:%H:%M} UTC"
    return None


def _system_now() -> datetime:
    return datetime.fromtimestamp(time.time(), tz=UTC)


class CallHealth:
    """Thread-safe record of each service's recent calls."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = _system_now,
    ) -> None:
        self._monotonic = monotonic
        self._clock = clock
        self._lock = threading.Lock()
        self._outcomes: dict[str, deque[Outcome]] = {}
        self._waiting: dict[int, tuple[str, float]] = {}
        self._ids = itertools.count()

    def begin(self, service: str) -> int:
        """A call to `service` starts; hand the id to `end`."""
        with self._lock:
            ident = next(self._ids)
            self._waiting[ident] = (service, self._monotonic())
            return ident

    def end(self, ident: int, problem: str | None) -> None:
        with self._lock:
            service, _ = self._waiting.pop(ident, (None, 0.0))
        if service is not None:
            self.record(service, problem)

    def record(self, service: str, problem: str | None) -> None:
        """A call to `service` ended: fine (None) or with `problem`."""
        outcome = Outcome(self._monotonic(), self._clock(), problem)
        with self._lock:
            self._outcomes.setdefault(service, deque(maxlen=RECENT)).append(outcome)

    def problems(self) -> Mapping[str, str]:
        """Service → why it looks unwell, for the services that do."""
        now, wall = self._monotonic(), self._clock()
        with self._lock:
            services = set(self._outcomes) | {s for s, _ in self._waiting.values()}
            found = {
                service: verdict(
                    list(self._outcomes.get(service, ())),
                    [start for s, start in self._waiting.values() if s == service],
                    now=now,
                    wall=wall,
                )
                for service in sorted(services)
            }
        return {service: why for service, why in found.items() if why is not None}

    def report(self, base: Mapping[str, object]) -> dict[str, object]:
        """`base` (the health route's own state) with each unwell service's reason; ok only
        when `base` is and no service is unwell."""
        problems = self.problems()
        return {**base, "ok": bool(base.get("ok")) and not problems, **problems}
