"""The client-side limiter, on a fake clock: no HTTP, no real waiting."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.engagement.deadline import Deadline
from bot.engagement.models import RateLimitInfo
from bot.engagement.ratelimiter import RateLimiter, Ticket, Wait

# The server's clock is deliberately far from ours: only reset − Date may matter.
SERVER_NOW = datetime(2019, 3, 1, 9, 15, 20, tzinfo=UTC)
RESET = int((SERVER_NOW + timedelta(seconds=40)).timestamp())  # 40 s left in the window


class FakeClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


def info(
    remaining: int | None,
    *,
    limit: int | None = 5,
    reset_at: int | None = RESET,
    date: datetime | None = SERVER_NOW,
) -> RateLimitInfo:
    return RateLimitInfo(limit=limit, remaining=remaining, reset_at=reset_at, date=date)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    return RateLimiter(monotonic=clock.monotonic, sleep=clock.sleep)


def ticket(limiter: RateLimiter, key: str = "totals") -> Ticket:
    decision = limiter.try_acquire(key)
    assert isinstance(decision, Ticket), decision
    return decision


def test_before_anything_is_known_one_probe_goes_and_the_rest_wait_for_its_reply(
    limiter: RateLimiter,
) -> None:
    probe = ticket(limiter)
    assert limiter.try_acquire("totals") == Wait(None)
    limiter.observe(probe, info(4))
    assert [isinstance(limiter.try_acquire("totals"), Ticket) for _ in range(5)] == [
        True,
        True,
        True,
        True,
        False,
    ]


def test_keys_are_independent(limiter: RateLimiter) -> None:
    ticket(limiter, "totals")
    assert isinstance(limiter.try_acquire("28hr"), Ticket)


def test_a_spent_window_waits_until_reset_minus_date_after_the_reply_arrived(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    probe = ticket(limiter)
    clock.now += 0.25  # the reply takes a while; the deadline counts from its arrival
    limiter.observe(probe, info(1))
    last = ticket(limiter)
    assert limiter.try_acquire("totals") == Wait(None)  # a reply is due: it may say more
    limiter.observe(last, info(0))
    assert limiter.try_acquire("totals") == Wait(1000.25 + 40)


def test_the_deadline_uses_the_servers_date_not_our_clock(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    # A server living in 2019 (or a frozen simulator) still means "40 s from now".
    probe = ticket(limiter)
    limiter.observe(probe, info(0))
    assert limiter.snapshot("totals").deadline == clock.now + 40


def test_requests_in_flight_are_assumed_not_yet_counted(limiter: RateLimiter) -> None:
    probe = ticket(limiter)
    limiter.observe(probe, info(3))
    first, second = ticket(limiter), ticket(limiter)
    # The server said 2 left after counting `first`; `second` may not be counted yet.
    limiter.observe(first, info(2))
    assert limiter.snapshot("totals").available == 1
    limiter.observe(second, info(1))
    assert limiter.snapshot("totals").available == 1


def test_replies_that_overtake_each_other_keep_the_lowest_count(limiter: RateLimiter) -> None:
    probe = ticket(limiter)
    limiter.observe(probe, info(4))
    early, late = ticket(limiter), ticket(limiter)
    limiter.observe(late, info(2))  # counted second, answered first
    assert limiter.snapshot("totals").available == 1  # `early` may still be uncounted
    limiter.observe(early, info(3))
    assert limiter.snapshot("totals").available == 2


def test_after_the_deadline_one_probe_learns_the_new_window(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    probe = ticket(limiter)
    limiter.observe(probe, info(0))
    clock.now += 40
    probe = ticket(limiter)
    assert limiter.try_acquire("totals") == Wait(None)
    new_reset = RESET + 60
    limiter.observe(probe, info(4, reset_at=new_reset, date=SERVER_NOW + timedelta(seconds=40)))
    window = limiter.snapshot("totals")
    assert (window.available, window.reset_at, window.deadline) == (4, new_reset, clock.now + 60)


def test_a_probe_is_believed_even_when_the_servers_clock_has_not_moved(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    # The test simulator's clock is frozen: after our deadline it still reports the same
    # window. The probe was sent in our new window, so its numbers are the current truth.
    probe = ticket(limiter)
    limiter.observe(probe, info(0))
    clock.now += 40
    probe = ticket(limiter)
    limiter.observe(probe, info(3))
    assert limiter.snapshot("totals").available == 3


def test_a_straggler_from_an_ended_window_teaches_nothing(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    probe = ticket(limiter)
    limiter.observe(probe, info(1))
    straggler = ticket(limiter)
    clock.now += 41  # our deadline passes before its reply arrives
    assert limiter.try_acquire("totals") == Wait(None)  # no probe while it is out
    limiter.observe(straggler, info(0))
    assert isinstance(limiter.try_acquire("totals"), Ticket)


def test_a_newer_reset_replaces_what_we_knew(limiter: RateLimiter, clock: FakeClock) -> None:
    probe = ticket(limiter)
    limiter.observe(probe, info(1))
    sent = ticket(limiter)
    limiter.observe(sent, info(4, reset_at=RESET + 60, date=SERVER_NOW + timedelta(seconds=41)))
    assert limiter.snapshot("totals").available == 4


def test_a_429_holds_the_key_for_the_wait_then_probes(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    probe = ticket(limiter)
    limiter.observe(probe, info(4))
    sent = ticket(limiter)
    limiter.rate_limited(sent, 40.5, info(0))
    assert limiter.try_acquire("totals") == Wait(clock.now + 40.5)
    clock.now += 40.5
    assert isinstance(limiter.try_acquire("totals"), Ticket)
    assert limiter.try_acquire("totals") == Wait(None)


def test_failures_without_a_counted_reply_teach_nothing(limiter: RateLimiter) -> None:
    probe = ticket(limiter)
    limiter.release(probe)  # e.g. a 503 whose headers describe an uncounted request
    assert limiter.snapshot("totals").available is None
    assert isinstance(limiter.try_acquire("totals"), Ticket)


def test_a_server_without_rate_limit_headers_is_not_paced(limiter: RateLimiter) -> None:
    probe = ticket(limiter)
    limiter.observe(probe, RateLimitInfo())
    assert all(isinstance(limiter.try_acquire("totals"), Ticket) for _ in range(10))


@pytest.mark.parametrize(
    ("reset_offset", "date", "wait"),
    [
        (0, SERVER_NOW, 1.0),  # at least 1 s
        (300, SERVER_NOW, 65.0),  # at most the window + 5 s
        (40, None, 60.0),  # no Date: we cannot measure, so a whole window
    ],
)
def test_waits_are_bounded_as_documented(
    limiter: RateLimiter, clock: FakeClock, reset_offset: int, date: datetime | None, wait: float
) -> None:
    probe = ticket(limiter)
    reset = int(SERVER_NOW.timestamp()) + reset_offset
    limiter.observe(probe, info(0, reset_at=reset, date=date))
    assert limiter.try_acquire("totals") == Wait(clock.now + wait)


def test_acquire_sleeps_through_the_reset_with_the_injected_sleep(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    for remaining in (1, 0):
        limiter.observe(limiter.acquire("totals"), info(remaining))
    start = clock.now
    limiter.acquire("totals")
    assert clock.sleeps == [40.0]
    assert clock.now == start + 40


def test_only_one_thread_sleeps_for_a_reset(limiter: RateLimiter, clock: FakeClock) -> None:
    limiter.observe(limiter.acquire("totals"), info(0))
    got: list[Ticket] = []
    lock = threading.Lock()

    def worker() -> None:
        sent = limiter.acquire("totals")
        with lock:
            got.append(sent)
        limiter.observe(sent, info(5, reset_at=RESET + 60, date=SERVER_NOW + timedelta(seconds=40)))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(got) == 6
    assert clock.sleeps == [40.0]  # six waiting threads, one 40-second wait


def test_no_ticket_when_the_window_reopens_after_the_deadline(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    limiter.observe(ticket(limiter), info(0))  # spent: the window resets in 40 s
    assert limiter.acquire("totals", Deadline(clock.now + 10, clock.monotonic)) is None
    assert clock.sleeps == []  # not slept on: nobody would be there to use the ticket
    # Without a deadline (or with room for the wait) it still sleeps to the reset.
    assert isinstance(limiter.acquire("totals", Deadline(clock.now + 60, clock.monotonic)), Ticket)
    assert clock.sleeps == [40]


def test_each_wait_for_a_reset_is_told_once_before_it_starts(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    """The observer (a progress line) hears of a wait once, however many threads wait, and
    before the sleep, so a person knows why nothing happens."""
    limiter.observe(limiter.acquire("totals"), info(0))
    told: list[tuple[float, float]] = []

    def on_wait(seconds: float) -> None:
        told.append((seconds, clock.now))

    def worker() -> None:
        sent = limiter.acquire("totals", on_wait=on_wait)
        limiter.observe(sent, info(5, reset_at=RESET + 60, date=SERVER_NOW + timedelta(seconds=40)))

    start = clock.now
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert told == [(40.0, start)]
    assert clock.sleeps == [40.0]
    limiter.acquire("totals", on_wait=on_wait)  # room in the window: no wait, nothing told
    assert len(told) == 1


def test_a_caller_due_before_the_reset_gives_up_at_once_while_another_sleeps_for_it(
    clock: FakeClock,
) -> None:
    """A job sleeps for a far reset; a command due sooner gets no ticket at once instead of
    holding its thread (and its reply) until its deadline."""
    sleeping, woken = threading.Event(), threading.Event()

    def sleep(seconds: float) -> None:
        sleeping.set()
        woken.wait(10)
        clock.sleep(seconds)

    limiter = RateLimiter(monotonic=clock.monotonic, sleep=sleep)
    limiter.observe(ticket(limiter), info(0))  # spent: the window resets in 40 s
    job = threading.Thread(target=limiter.acquire, args=("totals",))
    job.start()
    assert sleeping.wait(10)
    answers: list[Ticket | None] = []
    command = threading.Thread(
        target=lambda: answers.append(
            limiter.acquire("totals", Deadline(clock.now + 10, clock.monotonic))
        )
    )
    command.start()
    command.join(timeout=5)
    answered_at_once = not command.is_alive() and job.is_alive()
    woken.set()
    job.join(timeout=10)
    command.join(timeout=10)
    assert answers == [None]
    assert answered_at_once  # while the job still slept for the reset
