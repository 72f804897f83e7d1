"""bot.engagement.health: when the calls to X or Slack look failing or stalled, and how it is
said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.engagement.health import SLACK, CallHealth, X
from tests.support.clocks import FakeClock

START = datetime(2026, 12, 3, 10, 2, tzinfo=UTC)


def health(clock: FakeClock) -> CallHealth:
    return CallHealth(monotonic=clock.monotonic, clock=lambda: START + timedelta(seconds=clock.t))


def test_recent_timeouts_make_x_unwell_with_the_reason() -> None:
    clock = FakeClock()
    calls = health(clock)
    calls.record(X, None)
    for _ in range(5):
        clock.sleep(10)
        calls.record(X, "timeouts")
    assert calls.problems() == {X: "timeouts on 5 of the last 6 calls since 10:02 UTC"}
    assert calls.report({"ok": True, "mode": "http"}) == {
        "ok": False,
        "mode": "http",
        "x": "timeouts on 5 of the last 6 calls since 10:02 UTC",
    }


def test_a_hung_x_making_one_call_is_unwell_until_it_answers() -> None:
    clock = FakeClock()
    calls = health(clock)
    calls.record(X, "timeouts")
    assert calls.problems() == {X: "timeouts on 1 of the last 1 calls since 10:02 UTC"}
    calls.record(X, None)
    assert calls.problems() == {}


def test_a_stray_failure_or_an_old_outage_is_no_problem() -> None:
    clock = FakeClock()
    calls = health(clock)
    calls.record(SLACK, "HTTP 503 answers")
    calls.record(SLACK, None)
    calls.record(SLACK, "HTTP 503 answers")
    calls.record(SLACK, None)
    for _ in range(3):
        calls.record(X, "timeouts")
    clock.sleep(301)  # five minutes without a call since
    assert calls.problems() == {}
    assert calls.report({"ok": True, "mode": "http"}) == {"ok": True, "mode": "http"}


def test_calls_waiting_too_long_are_stalled_before_any_times_out() -> None:
    clock = FakeClock()
    calls = health(clock)
    waiting = [calls.begin(X) for _ in range(3)]
    clock.sleep(9)
    assert calls.problems() == {}
    clock.sleep(3)
    assert calls.problems() == {X: "3 calls waiting over 10 s for an answer since 10:02 UTC"}
    for ident in waiting:
        calls.end(ident, None)
    assert calls.problems() == {}
