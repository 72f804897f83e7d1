"""Weekly and monthly report jobs beside the daily digest's, on the same APScheduler.

    PeriodJobs(store=…, deps=…, post=…, clock=…, scheduler=…, run_report=…)
        .sync()           one `report:<period>:<team>:<channel>` job per row of
                          `store.digest_schedules`, firing by `PeriodTrigger` in the
                          channel's digest zone; jobs of removed schedules are removed
        .run(t, c, p, now=…)  the report due at `now` (`due_report`, from the latest period
                          posted in the period's ledger), handed to `run_report`
        .catch_up(now)    at start: each schedule's most recent missed report, once, late
    ScheduledJobs(daily, periods)  what `run` starts and stops: the digest scheduler and these jobs

As for the daily digest, the store is the truth: a second run for the same period finds
nothing due here, and `run_report`'s claim in the store is the exactly-once guard across
processes and restarts. A report that did not go out (BUSY or FAILED) is tried again by a
one-off `report-retry:` job RETRY_AFTER later, while it is still due.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.triggers.date import DateTrigger

from bot.channels.digest import DigestOutcome, zone_of
from bot.channels.digest_periods import ledger
from bot.channels.outbox import Clock, PostMessage
from bot.channels.periods import Period, Span
from bot.jobs.periods import MAX_LATE, PeriodTrigger, due_report
from bot.jobs.retries import RETRY_STATUSES
from bot.jobs.schedule import parse_digest_time
from bot.store.channels import ChannelSettings
from bot.store.digest_schedules import DigestSchedule

if TYPE_CHECKING:
    from bot.channels.deps import Deps
    from bot.jobs.scheduler import DigestScheduler
    from bot.store import Store

log = logging.getLogger(__name__)

PREFIX = "report:"
RETRY_PREFIX = "report-retry:"
CATCH_UP_JOB = "report-catch-up"
RETRY_AFTER = timedelta(minutes=6)


class RunReport(Protocol):
    """bot.channels.digest_periods.run_report's signature."""

    def __call__(
        self,
        settings: ChannelSettings,
        *,
        period: Period,
        span: Span,
        now: datetime,
        deps: Deps,
        post: PostMessage,
        late: bool = False,
    ) -> DigestOutcome: ...


def report_job_id(team_id: str, channel_id: str, period: str) -> str:
    return f"{PREFIX}{period}:{team_id}:{channel_id}"


class PeriodJobs:
    def __init__(
        self,
        *,
        store: Store,
        deps: Deps,
        post: PostMessage,
        clock: Clock,
        scheduler: Any,
        run_report: RunReport,
    ) -> None:
        self._store = store
        self._deps = deps
        self._post = post
        self._clock = clock
        self._scheduler = scheduler
        self._run_report = run_report
        self._lock = threading.Lock()  # one run at a time: a catch-up and a job may meet

    def sync(self) -> None:
        wanted = {
            report_job_id(s.team_id, s.channel_id, s.period): s
            for s in self._store.digest_schedules.all()
        }
        for job in self._scheduler.get_jobs():
            if job.id.startswith(PREFIX) and job.id not in wanted:
                self._scheduler.remove_job(job.id)
        for ident, schedule in wanted.items():
            self._add(ident, schedule)

    def start(self) -> None:
        """Jobs from the store, then the catch-up as a one-off job (run when the scheduler
        runs: `Jobs.start` starts it)."""
        self.sync()
        self._scheduler.add_job(
            self._catch_up_now, id=CATCH_UP_JOB, replace_existing=True, misfire_grace_time=None
        )

    def catch_up(self, now: datetime) -> int:
        """Each schedule's most recent missed report, once; how many ran."""
        ran = 0
        for schedule in self._store.digest_schedules.all():
            try:
                ran += self.run(schedule.team_id, schedule.channel_id, schedule.period, now=now)
            except Exception:  # one channel's failure must not stop the others' catch-up
                log.exception("catch-up %s report for %s failed", schedule.period, schedule)
        return ran

    def run(self, team_id: str, channel_id: str, period: str, *, now: datetime) -> bool:
        """Run the channel's report if one is due at `now`; whether it ran."""
        found = self._store.digest_schedules.of_channel(team_id, channel_id)
        schedule = next((s for s in found if s.period == period), None)
        if schedule is None:
            return False
        kind = Period(period)
        settings = self._store.channels.settings(team_id, channel_id)
        zone, at = zone_of(settings, self._deps), parse_digest_time(schedule.at)
        with self._lock:
            last = ledger(self._deps, kind).last_digest_date(team_id, channel_id)
            due = due_report(last, now, zone, kind, schedule.anchor, at)
            if due is None:
                return False
            span, late = due
            log.info("%s report of %s for %s/%s due", period, span.first, team_id, channel_id)
            outcome = self._run_report(
                settings,
                period=kind,
                span=span,
                now=now,
                deps=self._deps,
                post=self._post,
                late=late,
            )
        log.info("%s", outcome.describe())
        if outcome.status in RETRY_STATUSES:  # once too late, due_report says None: a no-op
            self._scheduler.add_job(
                self._fire,
                DateTrigger(run_date=now + RETRY_AFTER),
                args=(team_id, channel_id, period),
                id=f"{RETRY_PREFIX}{period}:{team_id}:{channel_id}",
                replace_existing=True,
                misfire_grace_time=None,
            )
        return True

    def _add(self, ident: str, schedule: DigestSchedule) -> None:
        settings = self._store.channels.settings(schedule.team_id, schedule.channel_id)
        try:
            zone, at = zone_of(settings, self._deps), parse_digest_time(schedule.at)
        except (ValueError, KeyError) as error:
            log.warning("no job for %s: %s", ident, error)
            return
        if self._scheduler.get_job(ident) is not None:
            self._scheduler.remove_job(ident)
        trigger = PeriodTrigger(Period(schedule.period), schedule.anchor, at, zone)
        self._scheduler.add_job(
            self._fire,
            trigger,
            args=(schedule.team_id, schedule.channel_id, schedule.period),
            id=ident,
            name=f"report {schedule.team_id}/{schedule.channel_id} {trigger}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(MAX_LATE[Period(schedule.period)].total_seconds()),
        )

    def _fire(self, team_id: str, channel_id: str, period: str) -> None:
        self.run(team_id, channel_id, period, now=self._clock())

    def _catch_up_now(self) -> None:
        self.catch_up(self._clock())


class ScheduledJobs:
    """`run`'s scheduled jobs: the daily digest scheduler's, and the weekly and monthly
    reports' on the same APScheduler (bot.slack.server.Jobs)."""

    def __init__(self, daily: DigestScheduler, periods: PeriodJobs) -> None:
        self.daily = daily
        self.periods = periods

    def on_settings_changed(self, team_id: str, channel_id: str) -> None:
        self.daily.on_settings_changed(team_id, channel_id)
        self.periods.sync()  # a zone change moves the channel's reports too

    def start(self) -> None:
        self.periods.start()  # jobs added before the scheduler starts wait for it
        self.daily.start()

    def shutdown(self) -> None:
        self.daily.shutdown()
