"""The executor against the real simulator over loopback, with the real HTTP client.

The test simulator's clock is frozen, so time passes only when a test says so: the executor's
`sleep` is a `SimTime` that moves our fake monotonic clock and (for rate-limit tests) the
simulator's clock by the same amount. Nothing here sleeps for real.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
import requests

from bot.engagement.client import EngagementClient
from bot.engagement.deadline import Deadline
from bot.engagement.executor import CallOutcome, Execution, Executor, RequestLog
from bot.engagement.http_client import HttpEngagementClient
from bot.engagement.models import (
    APP_ONLY,
    HOURLY,
    PER_POST,
    PUBLIC_METRICS,
    Auth,
    Endpoint,
    EngagementRequest,
    EngagementResult,
    UserAuth,
)
from bot.engagement.query import PlannedCall
from bot.errors import (
    AuthError,
    ForbiddenMetrics,
    ProtectedPosts,
    RateLimited,
    ServerError,
    TimedOut,
)
from bot.simulator.server import RunningSimulator
from tests.support.clocks import SimTime
from tests.support.universe import SIM_START

BRAND_ID, CREATOR_ID = "1000000001", "1000000002"
TOKENS: dict[str | None, Auth] = {
    None: APP_ONLY,
    BRAND_ID: UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand"),
    CREATOR_ID: UserAuth("1000000002-simtoken-sim_creator", "simsecret-sim_creator"),
}
TOTALS_METRICS = tuple(sorted(PUBLIC_METRICS))
SERIES_METRICS = ("impressions", "engagements", "favorites", "retweets", "replies", "url_clicks")
# About one request in five fails: a 429 burst every 16th, and 500/503 on ~14 % of the rest.
MIXED_FAULTS = {
    "seed": 7,
    "error_rate": 0.14,
    "error_statuses": [500, 503],
    "burst_429": {"every": 16, "length": 1, "offset": 2},
}


def admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    response = requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json()


def add_posts(sim: RunningSimulator, docs: Sequence[dict[str, Any]]) -> list[str]:
    """Many Posts at once. POST /_sim/posts takes one Post and rebuilds the engagement model
    each time (5,000 take ~10 s), so bulk loads go through the live state, as that route does."""
    state = sim.state
    with state.lock:
        posts = [state.universe.add_post(doc, now=state.now()) for doc in docs]
        state.universe_changed()
    return [str(p.id) for p in posts]


def posts_of(sim: RunningSimulator, screen_name: str) -> list[str]:
    posts = admin(sim, "GET", f"posts?author={screen_name}")["posts"]
    return [p["id"] for p in posts if not p["deleted"] and not p["protected"]]


def statuses(sim: RunningSimulator) -> list[int]:
    return [entry["status"] for entry in admin(sim, "GET", "requests")["requests"]]


def make_executor(
    client: EngagementClient, clock: SimTime, **options: Any
) -> tuple[Executor, list[RequestLog]]:
    log: list[RequestLog] = []
    executor = Executor(
        client,
        auth_for=TOKENS.__getitem__,
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        rng=random.Random(3),
        on_request=log.append,
        **options,
    )
    return executor, log


def totals(ids: Sequence[str], owner: str | None = None, **kw: Any) -> PlannedCall:
    metrics = kw.pop("metrics", TOTALS_METRICS)
    return PlannedCall(Endpoint.TOTALS, owner, tuple(ids), metrics, PER_POST, **kw)


def hourly(ids: Sequence[str], owner: str = BRAND_ID) -> PlannedCall:
    return PlannedCall(Endpoint.HOURLY_28HR, owner, tuple(ids), SERIES_METRICS, HOURLY)


def chunks(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def numbers(execution: Execution) -> dict[tuple[str, ...], int | None]:
    """Every number the execution returned: per Post and metric, and per hour bucket."""
    found: dict[tuple[str, ...], int | None] = {}
    for outcome in execution.outcomes:
        assert outcome.result is not None, outcome.error
        result = outcome.result
        for post in outcome.sent_ids:
            for metric in result.request.metrics:
                key = (str(outcome.call.endpoint), post, metric)
                found[key] = result.value(post, metric)
                for bucket, count in result.hourly(post, metric).items():
                    found[(*key, bucket.isoformat())] = count
    return found


def accounted(outcome: CallOutcome) -> list[str]:
    ids = [*outcome.sent_ids, *outcome.not_owned, *outcome.protected, *outcome.unresolved]
    assert len(ids) == len(set(ids)), "an ID in two places"
    return sorted(ids)


# --- the acceptance test ----------------------------------------------------------------


def test_5000_posts_under_20_percent_faults_give_the_fault_free_numbers(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    recent = [{"author": "sim_brand", "age_hours": 0.5 + (i % 27)} for i in range(400)]
    older = [{"author": "sim_brand", "age_hours": 28 + (i * 7) % 4000} for i in range(2100)]
    others = [{"author": "sim_creator", "age_hours": 1 + (i * 11) % 5000} for i in range(2500)]
    hours, owned = add_posts(sim, recent), add_posts(sim, older)
    ids = hours + owned + add_posts(sim, others)
    calls = [totals(batch) for batch in chunks(ids, 250)]  # public metrics, app-only
    calls += [hourly(batch) for batch in chunks(hours, 25)]  # the last 28 hours, by hour
    owned_metrics = {"metrics": ("impressions", "engagements", "favorites")}
    calls += [totals(batch, BRAND_ID, **owned_metrics) for batch in chunks(owned, 250)]
    # The data depends on the simulator's clock, so both runs must see the same instant: here
    # sleeping moves only our clock. Injected faults are not counted against the limit.
    clock = SimTime(sim, move_simulator=False)

    clean, _ = make_executor(client, clock)
    baseline = clean.run(calls)
    admin(sim, "POST", "rate-limits/reset")
    admin(sim, "PUT", "faults", MIXED_FAULTS)
    faulty, log = make_executor(client, clock)
    stressed = faulty.run(calls)

    assert not baseline.failed
    assert not stressed.failed
    expected = numbers(baseline)
    assert len(calls) == 20 + 16 + 9
    assert len(expected) > 5000 * len(TOTALS_METRICS)
    assert numbers(stressed) == expected
    faulted = admin(sim, "GET", "requests")["requests"][baseline.requests_sent :]
    kinds = {entry["fault"] for entry in faulted}
    assert {"429", "500", "503"} <= kinds
    assert 0.15 <= sum(e["fault"] is not None for e in faulted) / len(faulted) <= 0.3
    assert stressed.requests_sent == len(faulted) == len(log)
    assert [s for s in statuses(sim) if 400 <= s < 500 and s != 429] == []


# --- pacing ----------------------------------------------------------------------------------


def test_a_small_limit_is_never_exceeded_and_costs_exactly_the_windows_it_needs(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    admin(sim, "PUT", "rate-limits", {"default": {"totals": 5}})
    ids = posts_of(sim, "sim_brand")
    calls = [totals(ids[i % 20 : i % 20 + 3]) for i in range(40)]
    clock = SimTime(sim)
    executor, _ = make_executor(client, clock)

    execution = executor.run(calls)

    assert not execution.failed
    assert statuses(sim) == [200] * 40
    windows = math.ceil(40 / 5)
    assert clock.slept == [60.0] * (windows - 1)
    later = SIM_START + timedelta(minutes=windows - 1)
    assert admin(sim, "GET", "clock")["now"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_429_waits_for_the_reset_once_and_retries(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    admin(sim, "PUT", "faults", {"queue": ["429"]})
    clock = SimTime(sim)
    executor, log = make_executor(client, clock)

    outcome = executor.run([totals(posts_of(sim, "sim_brand")[:5])]).outcomes[0]

    assert outcome.result is not None
    assert outcome.attempts == 2
    assert [entry.status for entry in log] == [429, 200]
    [wait] = clock.slept
    assert 60 <= wait <= 61  # reset − Date (the frozen clock sits at :00), plus 0–1 s jitter


# --- refusals of single Posts --------------------------------------------------------------------


def test_a_403_naming_a_foreign_post_resends_the_rest(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    mine = posts_of(sim, "sim_brand")[:10]
    theirs = posts_of(sim, "sim_creator")[0]
    batch = [*mine[:4], theirs, *mine[4:]]
    executor, log = make_executor(client, SimTime(sim))

    execution = executor.run([hourly(batch)])

    [outcome] = execution.outcomes
    assert outcome.not_owned == (theirs,)
    assert execution.not_owned == (theirs,)
    assert outcome.sent_ids == tuple(mine)
    assert outcome.error is None
    assert outcome.result is not None
    assert outcome.result.request.post_ids == tuple(mine)
    assert outcome.attempts == 2
    assert [entry.status for entry in log] == [403, 200]


def test_a_protected_post_is_isolated_by_bisection(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    ids = posts_of(sim, "sim_brand")[:20] + posts_of(sim, "sim_creator")[:20]
    hidden = ids[27]
    admin(sim, "PATCH", f"posts/{hidden}", {"protected": True})
    executor, log = make_executor(client, SimTime(sim))

    [outcome] = executor.run([totals(ids)]).outcomes

    assert outcome.protected == (hidden,)
    assert outcome.error is None
    assert outcome.sent_ids == tuple(i for i in ids if i != hidden)
    assert outcome.result is not None
    assert outcome.result.request.post_ids == outcome.sent_ids
    # The refusal; two probes per level at most (a half that held a protected Post says
    # nothing about its sibling); then the clean batch once.
    assert outcome.attempts <= 1 + 2 * math.ceil(math.log2(40)) + 1
    assert log[0].status == 400
    assert log[-1].status == 200


def test_bisection_within_a_budget_fails_what_it_could_not_resolve(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    ids = posts_of(sim, "sim_creator")[:16]
    for hidden in (ids[3], ids[12]):
        admin(sim, "PATCH", f"posts/{hidden}", {"protected": True})
    executor, _ = make_executor(client, SimTime(sim), protected_bisect_budget=2)

    execution = executor.run([totals(ids)])

    [outcome] = execution.outcomes
    assert isinstance(outcome.error, ProtectedPosts)
    assert execution.failed == (outcome,)
    assert outcome.unresolved
    assert accounted(outcome) == sorted(ids)
    assert outcome.attempts <= 1 + 2 + 1


def test_foreign_and_protected_posts_in_one_batch(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    mine = posts_of(sim, "sim_brand")[:12]
    theirs = posts_of(sim, "sim_creator")[2]
    admin(sim, "PATCH", f"posts/{mine[9]}", {"protected": True})
    executor, log = make_executor(client, SimTime(sim))

    [outcome] = executor.run([hourly([*mine[:6], theirs, *mine[6:]])]).outcomes

    assert (outcome.protected, outcome.not_owned) == ((mine[9],), (theirs,))
    assert outcome.error is None
    assert outcome.sent_ids == tuple(i for i in mine if i != mine[9])
    assert log[0].status == 400  # the simulator reports protected Posts first


# --- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "faults",
    [
        {"queue": ["reset", "truncate", "reset"], "truncate_mode": "bad_gzip"},
        {"queue": ["truncate", "reset", "truncate"], "truncate_mode": "short_body"},
    ],
)
def test_resets_and_truncated_bodies_are_retried(
    sim: RunningSimulator, client: HttpEngagementClient, faults: dict[str, Any]
) -> None:
    call = totals(posts_of(sim, "sim_brand")[:8])
    clock = SimTime(sim, move_simulator=False)  # the numbers must be those of the same instant
    executor, log = make_executor(client, clock, max_workers=1)
    expected = numbers(executor.run([call]))
    admin(sim, "PUT", "faults", faults)

    execution = executor.run([call])

    assert numbers(execution) == expected
    assert execution.requests_sent == 4
    assert [entry.error for entry in log[1:4]] == ["TransportError"] * 3
    assert [round(s) for s in clock.slept] == [1, 2, 4]


def test_a_call_that_keeps_failing_fails_alone_after_five_retries(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    ids = posts_of(sim, "sim_brand")
    calls = [totals(ids[:5]), totals(ids[5:10]), totals(ids[10:15])]
    admin(sim, "PUT", "faults", {"queue": ["503"] * 6})
    clock = SimTime(sim)
    executor, log = make_executor(client, clock, max_workers=1)

    execution = executor.run(calls)

    first, *others = execution.outcomes
    assert isinstance(first.error, ServerError)
    assert first.error.status == 503
    assert first.result is None
    assert first.unresolved == tuple(ids[:5])
    assert first.attempts == 6
    assert all(o.result is not None and o.attempts == 1 for o in others)
    assert execution.failed == (first,)
    assert execution.requests_sent == 8
    assert [(e.status, e.retry) for e in log] == [(503, n) for n in range(6)] + [(200, 0)] * 2
    for delay, base in zip(clock.slept, (1, 2, 4, 8, 16), strict=True):
        assert base <= delay <= base * 1.2


def test_a_deadline_stops_the_retries_and_keeps_what_x_said(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    # 503s back off 1, 2, 4 s…: with 5 s left, the third wait would end past the deadline.
    ids = posts_of(sim, "sim_brand")[:5]
    admin(sim, "PUT", "faults", {"queue": ["503"] * 6})
    clock = SimTime(sim)
    executor, log = make_executor(client, clock)

    outcome = executor.run([totals(ids)], deadline=Deadline(clock.now + 5, clock.monotonic))
    (only,) = outcome.outcomes

    assert isinstance(only.error, ServerError)  # what X said, not a bare timeout
    assert only.unresolved == tuple(ids)
    assert [e.status for e in log] == [503, 503, 503]
    assert sum(clock.slept) < 5


def test_a_429_whose_reset_comes_after_the_deadline_is_not_waited_for(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    ids = posts_of(sim, "sim_brand")[:5]
    admin(sim, "PUT", "faults", {"queue": ["429"]})
    clock = SimTime(sim)
    executor, log = make_executor(client, clock)

    outcome = executor.run([totals(ids)], deadline=Deadline(clock.now + 10, clock.monotonic))

    assert isinstance(outcome.outcomes[0].error, RateLimited)
    assert [e.status for e in log] == [429]
    assert clock.slept == []  # the reset is ~60 s away: nobody sleeps for it


def test_a_passed_deadline_sends_nothing(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    clock = SimTime(sim)
    executor, log = make_executor(client, clock)

    outcome = executor.run([totals(posts_of(sim, "sim_brand")[:5])], deadline=Deadline(0.0))

    assert isinstance(outcome.outcomes[0].error, TimedOut)
    assert log == []
    assert statuses(sim) == []


def test_errors_that_mean_a_bug_or_a_revoked_token_are_not_retried(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    token = TOKENS[BRAND_ID]
    assert isinstance(token, UserAuth)
    admin(sim, "POST", "tokens/revoke", {"access_token": token.access_token})
    ids = posts_of(sim, "sim_brand")[:3]
    executor, _ = make_executor(client, SimTime(sim))

    revoked, metrics = executor.run(
        [hourly(ids), totals(ids, metrics=("impressions", "favorites"))]
    ).outcomes

    assert isinstance(revoked.error, AuthError)
    assert revoked.attempts == 1
    assert isinstance(metrics.error, ForbiddenMetrics)
    assert metrics.attempts == 1
    assert revoked.unresolved == metrics.unresolved == tuple(ids)


# --- concurrency -------------------------------------------------------------------------------


class CountingClient:
    """An EngagementClient that records how many fetches overlap."""

    def __init__(self, inner: EngagementClient) -> None:
        self.inner = inner
        self.current = self.most = 0
        self._lock = threading.Lock()

    def fetch(self, request: EngagementRequest) -> EngagementResult:
        with self._lock:
            self.current += 1
            self.most = max(self.most, self.current)
        try:
            return self.inner.fetch(request)
        finally:
            with self._lock:
                self.current -= 1


def test_concurrency_is_bounded_and_outcomes_keep_plan_order(
    sim: RunningSimulator, client: HttpEngagementClient
) -> None:
    admin(sim, "PUT", "faults", {"latency_ms": 40})  # real latency, so requests overlap
    ids = posts_of(sim, "sim_brand") + posts_of(sim, "sim_creator")
    calls = [totals(batch) for batch in chunks(ids, 4)][:12]
    counting = CountingClient(client)
    executor, _ = make_executor(counting, SimTime(sim), max_workers=3)

    execution = executor.run(calls)

    assert counting.most == 3
    assert [o.call for o in execution.outcomes] == calls
    assert [o.sent_ids for o in execution.outcomes] == [c.post_ids for c in calls]
