"""Digests that did not go out, tried again by one-off `digest-retry:<team>:<channel>` jobs.

A digest fails to go out when X fails, when the date is held by a run that may have died, or
when an earlier run's post cannot be searched for yet. It is tried again first once a dead
run's claim counts as stale, then less and less often. The retry runs the channel's digest job
as usual, which stays due until posted (or more than `max_late` late): the retries end by
themselves.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apscheduler.triggers.date import DateTrigger

from bot.channels.digest import CLAIM_STALE_AFTER, Status
from bot.jobs.daily import job_id

log = logging.getLogger(__name__)

RETRY_JOB = "digest-retry"
RETRY_FIRST = CLAIM_STALE_AFTER + timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)
RETRY_STATUSES = frozenset({Status.BUSY, Status.FAILED, Status.UNRECONCILED})


def retry_delay(tries: int) -> timedelta:
    """How long before try number `tries` (1: the first retry): doubling up to RETRY_MAX."""
    doubled: timedelta = RETRY_FIRST * 2 ** (tries - 1)
    return min(doubled, RETRY_MAX)


class DigestRetries:
    """The pending retries on `scheduler`; each runs `fire(team_id, channel_id)`."""

    def __init__(
        self, scheduler: Any, fire: Callable[[str, str], None], *, max_late: timedelta
    ) -> None:
        self._scheduler = scheduler
        self._fire = fire
        self._grace = int(max_late.total_seconds())
        self._tries: dict[tuple[str, str], tuple[date, int]] = {}  # date, tries so far

    def later(self, team_id: str, channel_id: str, local_date: date, now: datetime) -> None:
        """The channel's digest for `local_date` did not go out at `now`: try again later."""
        key = (team_id, channel_id)
        previous = self._tries.get(key)
        tries = previous[1] + 1 if previous is not None and previous[0] == local_date else 1
        self._tries[key] = (local_date, tries)
        delay = retry_delay(tries)
        log.info(
            "the digest of %s for %s/%s did not go out: trying again in %s",
            local_date,
            team_id,
            channel_id,
            delay,
        )
        self._add(team_id, channel_id, now + delay, f"#{tries}")

    def now(self, team_id: str, channel_id: str, at: datetime) -> None:
        """Run the channel's digest again at `at`, in place of its pending retry."""
        ident = job_id(team_id, channel_id, RETRY_JOB)
        if self._scheduler.get_job(ident) is not None:  # (pending jobs are not replaced)
            self._scheduler.remove_job(ident)
        self._add(team_id, channel_id, at, "(reconciled)")

    def went_out(self, team_id: str, channel_id: str) -> None:
        """The channel's digest ran to an end: the next failure is a first one again."""
        self._tries.pop((team_id, channel_id), None)

    def _add(self, team_id: str, channel_id: str, at: datetime, label: str) -> None:
        self._scheduler.add_job(
            self._fire,
            DateTrigger(run_date=at, timezone=UTC),
            args=(team_id, channel_id),
            id=job_id(team_id, channel_id, RETRY_JOB),
            name=f"digest retry {team_id}/{channel_id} {label}",
            replace_existing=True,
            misfire_grace_time=self._grace,
        )
