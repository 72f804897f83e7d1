"""One question asked of X: plan the fewest calls for what the store knows (planner), run
them (executor), merge the answers (aggregate), replan the Posts a 403 said are not owned,
and save what was learned (persist)."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import replace
from datetime import date, datetime

from bot.engagement.aggregate import aggregate
from bot.engagement.answers import XClock
from bot.engagement.authors import Authors
from bot.engagement.executor import CallOutcome, Execution, Executor
from bot.engagement.knowledge import KnowledgeStore
from bot.engagement.models import Endpoint
from bot.engagement.persist import remember
from bot.engagement.plan_batches import batches
from bot.engagement.planner import plan
from bot.engagement.query import EngagementQuery, Plan, Reason, Report, Value
from bot.engagement.wire.request import canonical_post_id
from bot.errors import EngagementAPIError, TimedOut


class Fetcher:
    """Plans and fetches for the service; see the module docstring."""

    def __init__(
        self, *, executor: Executor, store: KnowledgeStore, authors: Authors, clock: XClock
    ) -> None:
        self._executor = executor
        self._store = store
        self._authors = authors
        self._clock = clock

    def plan(self, query: EngagementQuery, *, now: datetime, workspace: str | None = None) -> Plan:
        """The calls a query needs given what the store knows now; makes no call."""
        infos = self._store.posts.infos(query.post_ids)
        owners = self._store.accounts.connected_ids(workspace)
        unknown = self._authors.unknown_among(infos, owners)
        return plan(query, posts=infos, owners=owners, now=now, unknown_authors=unknown)

    def fetch(self, query: EngagementQuery, *, now: datetime, workspace: str | None) -> Report:
        """Plan, then per batch of calls (plan_batches): call X, merge, replan what a 403 said
        is not owned, and remember it all. The next batch's calls are in flight while one
        batch is merged and saved, so at most two batches' answers are held at a time."""
        # Planned in ID order (the Report keeps the query's): each batch then writes one
        # stretch of the tables' keys, and a large refresh's writes stay linear in its size.
        in_order = replace(query, post_ids=tuple(sorted(query.post_ids)))
        planned = self.plan(in_order, now=now, workspace=workspace)
        parts = deque(batches(planned))
        running: deque[tuple[Plan, list[Future[CallOutcome]]]] = deque()
        done: list[Report] = []
        learnt = False
        with self._executor.flight(len(planned.calls)) as flight:

            def start_next() -> None:
                # One batch ahead; not past a batch with windows not yet checked against
                # X's clock (its refusal replans everything after it).
                if parts and len(running) < 2 and (learnt or not any(map(_windowed, running))):
                    part = parts.popleft()
                    running.append((part, flight.start(part.calls)))

            start_next()
            start_next()
            while running:
                part, started = running.popleft()
                execution = flight.wait(started)
                if not learnt and self._clock.learn(execution, now):
                    # X's clock is behind ours and refused a window ending "in the future":
                    # plan what is left again on X's clock (once; the offset is now known for
                    # every later query). Nothing after this batch has started.
                    learnt = True
                    now = self._clock.now(self._clock.ours(now))
                    left = tuple(p for rest in (part, *parts) for p in rest.query.post_ids)
                    again = self.plan(replace(query, post_ids=left), now=now, workspace=workspace)
                    parts = deque(batches(again))
                    start_next()
                    start_next()
                    continue
                done.append(self._finish(part, execution, now, workspace))
                del execution  # X's answers for this batch go now, not after the next one's
                start_next()
        return concatenated(query, done, now)

    def _finish(
        self, part: Plan, execution: Execution, now: datetime, workspace: str | None
    ) -> Report:
        """One batch's Report, with its 403'd Posts asked again as unowned, saved at once."""
        report = _aggregate(part, execution, now)
        if execution.not_owned:
            # A 403 proved our idea of authorship wrong: forget it and ask again as unowned.
            self._authors.forget_owners(execution)
            retry_query = replace(part.query, post_ids=execution.not_owned)
            retry_plan = self.plan(retry_query, now=now, workspace=workspace)
            retry = self._executor.run(retry_plan.calls)
            report = merge(report, _aggregate(retry_plan, retry, now))
            execution = Execution(execution.outcomes + retry.outcomes, execution.requests_sent)
        remember(self._store, part.query, report, execution, now=now, workspace=workspace)
        return report

    def explain_states(self, report: Report) -> Report:
        """A Post X said is deleted or protected was never shown its author: "not owned" would
        send the user to `/engagement connect` for nothing (X serves no numbers of a protected
        Post, even to its author), so its gaps say it is gone or protected."""
        known = {
            post: _STATE_REASONS[state]
            for post, state in self._store.posts.states(report.query.post_ids).items()
            if state in _STATE_REASONS
        }
        if not known:
            return report

        def reread(post: str, reason: Reason | None) -> Reason | None:
            return known.get(post, reason) if reason is Reason.NOT_OWNED else reason

        missing = {key: reread(key[0], reason) or reason for key, reason in report.missing.items()}
        totals = {
            post: {m: replace(v, reason=reread(post, v.reason)) for m, v in values.items()}
            for post, values in report.totals.items()
        }
        return replace(report, missing=missing, totals=totals)


_STATE_REASONS: Mapping[str, Reason] = {
    "deleted": Reason.UNAVAILABLE,
    "protected": Reason.PROTECTED,
}


def _aggregate(plan_: Plan, execution: Execution, now: datetime) -> Report:
    answered = [(o.call, o.result) for o in execution.outcomes if o.result is not None]
    unresolved = [o for o in execution.outcomes if o.unresolved]
    slow = [replace(o.call, post_ids=o.unresolved) for o in unresolved if _slow(o.error)]
    failed = [replace(o.call, post_ids=o.unresolved) for o in unresolved if not _slow(o.error)]
    return aggregate(
        plan_,
        answered,
        failed=failed,
        timed_out=slow,
        not_owned=frozenset(execution.not_owned),
        protected=frozenset(execution.protected),
        now=now,
    )


def _windowed(running: tuple[Plan, object]) -> bool:
    """Whether a started batch has /historical calls: the only ones whose window X refuses for
    ending after its own clock (/28hr's is X's last 28 hours, /totals has none)."""
    return any(call.endpoint is Endpoint.HISTORICAL for call in running[0].calls)


def _slow(error: EngagementAPIError | None) -> bool:
    return isinstance(error, TimedOut)


def concatenated(query: EngagementQuery, parts: list[Report], now: datetime) -> Report:
    """The batches' Reports (disjoint Posts) as one, in the query's order."""
    if len(parts) == 1 and parts[0].query.post_ids == query.post_ids:
        return replace(parts[0], query=query)
    order = dict.fromkeys(map(canonical_post_id, query.post_ids))
    totals: dict[str, Mapping[str, Value]] = {}
    series: dict[str, Mapping[str, Mapping[datetime | date, int | None]]] = {}
    missing: dict[str, dict[tuple[str, str], Reason]] = {}
    for part in parts:
        totals.update(part.totals)
        series.update(part.series)
        for pair, reason in part.missing.items():
            missing.setdefault(pair[0], {})[pair] = reason
    return Report(
        query,
        totals={p: totals[p] for p in order if p in totals},
        series={p: series[p] for p in order if p in series},
        missing={pair: r for p in order if p in missing for pair, r in missing[p].items()},
        calls_made=sum(part.calls_made for part in parts),
        fetched_at=parts[-1].fetched_at if parts else now,
    )


def merge(first: Report, second: Report) -> Report:
    """`second` (a replan of some Posts) fills in what `first` had to leave missing."""
    totals = {p: dict(v) for p, v in first.totals.items()}
    for post, values in second.totals.items():
        totals.setdefault(post, {}).update(values)
    series = {p: dict(v) for p, v in first.series.items()}
    for post, metrics in second.series.items():
        series.setdefault(post, {}).update(metrics)
    redone = {post for post, _ in second.missing} | set(second.totals) | set(second.series)
    missing = {k: r for k, r in first.missing.items() if k[0] not in redone}
    missing.update(second.missing)
    return replace(
        first,
        totals=totals,
        series=series,
        missing=missing,
        calls_made=first.calls_made + second.calls_made,
    )
