"""A flight's progress count: what a rate-limit wait reports as "N of M calls left"."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.engagement.call_outcomes import CallOutcome
from bot.engagement.deadline import Deadline
from bot.engagement.flight import Flight, Left
from bot.engagement.models import PER_POST, Endpoint
from bot.engagement.models.credentials import APP_ONLY, Auth
from bot.engagement.query import PlannedCall


def test_the_first_batchs_calls_count_the_calls_of_every_batch_to_come() -> None:
    """Three calls planned, started one batch at a time: the first call to wait already says
    "3 of 3 calls left", not "1 of 1", because the count is the plan's, not the batch's."""
    seen: list[tuple[int, int]] = []

    def run_call(
        call: PlannedCall, auth: Auth, left: Left, deadline: Deadline | None
    ) -> CallOutcome:
        seen.append((left.now(), left.calls))
        left.done()
        return CallOutcome(call, call.post_ids, None, None, attempts=1)

    calls = [PlannedCall(Endpoint.TOTALS, None, (str(i),), ("likes",), PER_POST) for i in (1, 2, 3)]
    with ThreadPoolExecutor(max_workers=1) as pool:
        flight = Flight(
            pool, run_call=run_call, auth_for=lambda _: APP_ONLY, deadline=None, expected=3
        )
        for call in calls:
            flight.wait(flight.start([call]))
        # A replan beyond the plan (a retry of one call) adds itself when it starts.
        flight.wait(flight.start([calls[0]]))
    assert seen == [(3, 3), (2, 3), (1, 3), (1, 4)]
