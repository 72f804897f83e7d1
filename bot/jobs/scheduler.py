"""The digest scheduler: APScheduler 3.x jobs derived from the store, which stays the truth.

    build_scheduler(store=…, deps=…, post=…, clock=…) -> DigestScheduler
        .sync()          one job per digest channel (id `digest:<team>:<channel>`), rebuilt from
                         `store.channels.digest_channels()`; also `.on_settings_changed(t, c)`;
                         with `prefetch`, also `prefetch:<team>:<channel>` at `prefetch_time`
        .catch_up(now)   at start: each channel's most recent missed digest, once, marked late;
                         a digest that did not go out (BUSY or FAILED) is run again by a one-off
                         `digest-retry:` job (bot.jobs.retries), 6 minutes later and then less often
        .start()         sync, start APScheduler, then catch up in its worker pool; with
                         `run_alerts`, also the interval job `alerts` (every `alert_interval`,
                         default 15 minutes) running one alert pass with `now=clock()`
        .shutdown()
        .reconciled(c)   the hook for bot.slack.reconcile.Reconciler.on_answer: the channel's
                         search for an interrupted run's digest is answered, so its digest
                         runs again now (`start` also starts the reconciler's thread)

Every run reads the channel's settings afresh, asks `due_digest` what to post given the last
digest posted (the store's record, `DigestHistory`), and hands `run_digest` `now=clock()`. A
second run for the same day finds nothing due here, and `run_digest`'s claim in the store is the
exactly-once guard across processes and restarts. Jobs post only through `post`.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.channels.digest import run_digest as post_digest
from bot.channels.digest import zone_of
from bot.channels.outbox import Clock, PostMessage
from bot.jobs.contracts import (
    DigestHistory,
    Prefetch,
    Reconciling,
    RunAlerts,
    RunDigest,
    RunTally,
)
from bot.jobs.daily import CHANNEL_JOBS, DigestTrigger, job_id, job_kind
from bot.jobs.retries import RETRY_JOB, RETRY_STATUSES, DigestRetries
from bot.jobs.schedule import due_digest, missed_digest, parse_digest_time, prefetch_time
from bot.store.channels import ChannelSettings

if TYPE_CHECKING:
    from bot.channels.deps import Deps
    from bot.store import Store

__all__ = [
    "ALERTS_JOB",
    "ALERT_INTERVAL",
    "CATCH_UP_JOB",
    "MAX_LATE",
    "DigestScheduler",
    "build_scheduler",
    "job_id",
]

log = logging.getLogger(__name__)

MAX_LATE = timedelta(hours=12)  # an older missed digest is skipped with a log line
CATCH_UP_JOB = "digest-catch-up"
ALERTS_JOB = "alerts"
TALLY_JOB = "tally"
ALERT_INTERVAL = timedelta(minutes=15)
PREFETCH_GRACE = timedelta(minutes=20)  # a later prefetch would hold up the digest itself


class DigestScheduler:
    """Digest jobs on an APScheduler 3.x scheduler; see the module docstring."""

    def __init__(
        self,
        *,
        store: Store,
        deps: Deps,
        post: PostMessage,
        clock: Clock,
        scheduler: Any,
        history: DigestHistory,
        run_digest: RunDigest,
        max_late: timedelta = MAX_LATE,
        run_alerts: RunAlerts | None = None,
        alert_interval: timedelta = ALERT_INTERVAL,
        run_tally: RunTally | None = None,
        prefetch: Prefetch | None = None,
        reconciler: Reconciling | None = None,
    ) -> None:
        self._store = store
        self._reconciler = reconciler
        self._stop_reconciling = threading.Event()
        if reconciler is not None:
            reconciler.on_answer = self.reconciled
        self._prefetch = prefetch
        self._run_tally = run_tally
        self._run_alerts = run_alerts
        self._alert_interval = alert_interval
        self._alerts_lock = threading.Lock()
        self._deps = deps
        self._post = post
        self._clock = clock
        self._scheduler = scheduler
        self._history = history
        self._run_digest = run_digest
        self._max_late = max_late
        self._sync_lock = threading.Lock()
        self._locks_lock = threading.Lock()
        self._run_locks: dict[tuple[str, str], threading.Lock] = {}
        self._retries = DigestRetries(scheduler, self._fire, max_late=max_late)

    @property
    def scheduler(self) -> Any:
        return self._scheduler

    @property
    def history(self) -> DigestHistory:
        return self._history

    def sync(self) -> None:
        """Make the jobs match the store: add, reschedule and remove `digest:` jobs."""
        with self._sync_lock:
            channels = self._channels()
            wanted = {job_id(s.team_id, s.channel_id): s for s in channels}
            if self._prefetch is not None:
                for s in channels:
                    wanted[job_id(s.team_id, s.channel_id, "prefetch")] = s
            for job in self._scheduler.get_jobs():
                if job.id.startswith(f"{RETRY_JOB}:"):
                    keep = job_id(*job.args) in wanted  # while the channel's digest is on
                else:
                    keep = not job.id.startswith(CHANNEL_JOBS) or job.id in wanted
                if not keep:
                    self._scheduler.remove_job(job.id)
            for ident, settings in wanted.items():
                self._add_daily(ident, settings, kind=ident.partition(":")[0])

    def on_settings_changed(self, team_id: str, channel_id: str) -> None:
        """The hook for `Deps.on_settings_changed`: a channel's settings were saved."""
        log.info("digest settings of %s/%s changed: rescheduling", team_id, channel_id)
        self.sync()

    def catch_up(self, now: datetime) -> list[tuple[str, str]]:
        """Run each channel's most recent missed digest once (late); the channels it ran for."""
        posted = []
        for settings in self._channels():
            try:
                if self.run_channel(settings.team_id, settings.channel_id, now=now):
                    posted.append((settings.team_id, settings.channel_id))
            except Exception:  # one channel's failure must not stop the others' catch-up
                log.exception(
                    "catch-up digest for %s/%s failed", settings.team_id, settings.channel_id
                )
        return posted

    def run_channel(self, team_id: str, channel_id: str, *, now: datetime) -> bool:
        """Run the channel's digest if one is due at `now`; whether it ran (its outcome, e.g.
        already posted by another process, is `run_digest`'s to decide and is logged)."""
        settings = self._store.channels.settings(team_id, channel_id)
        if not settings.digest_enabled:
            return False
        zone, at = zone_of(settings, self._deps), parse_digest_time(settings.digest_time)
        key = (team_id, channel_id)
        with self._run_lock(key):
            last = self._last_posted(key)
            due = due_digest(last, now, zone, at, max_late=self._max_late)
            if due is None:
                missed = missed_digest(last, now, zone, at)
                if missed is not None:
                    log.info(
                        "skipping the digest of %s for %s/%s: more than %s late",
                        missed,
                        team_id,
                        channel_id,
                        self._max_late,
                    )
                return False
            local_date, late = due
            when = " (late)" if late else ""
            log.info("digest of %s for %s/%s due%s", local_date, team_id, channel_id, when)
            outcome = self._run_digest(
                settings,
                local_date=local_date,
                now=now,
                deps=self._deps,
                post=self._post,
                late=late,
            )
            log.info("%s", outcome.describe())
            self._deps.meter.posted("digest", outcome.status not in RETRY_STATUSES)
            if outcome.status in RETRY_STATUSES:
                self._retries.later(team_id, channel_id, local_date, now)
                return True
            self._retries.went_out(team_id, channel_id)
        return True

    def reconciled(self, channel_id: str) -> None:
        """An interrupted run's digest in the channel can be settled now: run it again at once
        (in the scheduler's pool), in place of its pending retry."""
        for settings in self._channels():
            if settings.channel_id != channel_id:
                continue
            self._retries.now(settings.team_id, channel_id, self._clock())

    def prefetch_channel(self, team_id: str, channel_id: str, *, now: datetime) -> int:
        """Fetch the numbers of the channel's coming digest into the store (the `prefetch:`
        job); the Posts asked for, 0 when no digest is coming or it is already posted."""
        settings = self._store.channels.settings(team_id, channel_id)
        if self._prefetch is None or not settings.digest_enabled or settings.paused_reason:
            return 0
        zone = zone_of(settings, self._deps)
        last = self._last_posted((team_id, channel_id))
        if last is not None and last >= now.astimezone(zone).date() - timedelta(days=1):
            return 0
        try:
            count = self._prefetch(settings, now=now, deps=self._deps)
        except Exception:  # the digest then fetches its own numbers
            log.exception("prefetch for the digest of %s/%s failed", team_id, channel_id)
            return 0
        log.info("prefetched the digest numbers of %d Posts for %s/%s", count, team_id, channel_id)
        return count

    def start(self) -> None:
        """Jobs from the store, the scheduler's thread, then the catch-up in its pool."""
        self.sync()
        self._scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self._scheduler.start()
        if self._reconciler is not None:
            threading.Thread(
                target=self._reconciler.serve,
                args=(self._stop_reconciling,),
                name="reconciler",
                daemon=True,
            ).start()
        self._scheduler.add_job(
            lambda: self.catch_up(self._clock()),
            id=CATCH_UP_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )
        if self._run_alerts is not None:
            self._scheduler.add_job(
                self.run_alerts,
                IntervalTrigger(seconds=int(self._alert_interval.total_seconds()), timezone=UTC),
                id=ALERTS_JOB,
                name=f"alerts every {self._alert_interval}",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=int(self._alert_interval.total_seconds()),
            )
        if self._run_tally is not None:
            # 00:30 UTC: the previous UTC day then lies inside /28hr, the cheapest endpoint.
            self._scheduler.add_job(
                self.run_tally,
                CronTrigger(hour=0, minute=30, timezone=UTC),
                id=TALLY_JOB,
                name="daily tally at 00:30 UTC",
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=6 * 3600,
            )

    def run_tally(self) -> None:
        """The daily tally (the `tally` job): yesterday's series into the store."""
        if self._run_tally is None:
            return
        try:
            outcome = self._run_tally(now=self._clock(), deps=self._deps)
        except Exception:  # tomorrow's run, or `engagement-bot` by hand, tries again
            log.exception("daily tally failed")
            return
        log.info("daily tally: %s", outcome.describe())

    def run_alerts(self) -> int:
        """One alert pass at `clock()` (the `alerts` job); how many alerts fired. A pass still
        running makes this one a no-op."""
        if self._run_alerts is None or not self._alerts_lock.acquire(blocking=False):
            return 0
        try:
            fired = self._run_alerts(now=self._clock(), deps=self._deps, post=self._post)
        except Exception:  # the next interval tries again
            self._deps.meter.posted("alerts", False)
            log.exception("alert pass failed")
            return 0
        finally:
            self._alerts_lock.release()
        self._deps.meter.posted("alerts", True)
        log.info("alert pass: %d fired", len(fired))
        return len(fired)

    def shutdown(self) -> None:
        self._stop_reconciling.set()
        if self._reconciler is not None:
            self._reconciler.wake()
        if self._scheduler.running:
            # APScheduler 3 marks itself stopped before it takes its job-store lock, so a one-off
            # job (the catch-up) being processed at that moment fails to remove itself and the
            # scheduler's thread dies with JobLookupError. Paused, it starts no new processing;
            # get_jobs() takes that lock, so it returns once any processing under way is done.
            self._scheduler.pause()
            self._scheduler.get_jobs()
            self._scheduler.shutdown(wait=False)

    def _run_lock(self, key: tuple[str, str]) -> threading.Lock:
        """One run at a time per channel (a catch-up and a job may meet); channels in parallel."""
        with self._locks_lock:
            return self._run_locks.setdefault(key, threading.Lock())

    def _channels(self) -> list[ChannelSettings]:
        return self._store.channels.digest_channels()

    def _add_daily(self, ident: str, settings: ChannelSettings, *, kind: str) -> None:
        """(Re)place the channel's daily `digest` job, or its `prefetch` job (none when no
        time before the digest fits, see prefetch_time)."""
        try:
            at: time | None = parse_digest_time(settings.digest_time)
            zone = zone_of(settings, self._deps)
        except (ValueError, KeyError) as error:  # a bad zone or time saved by an older version
            log.warning("no %s job for %s: %s", kind, ident, error)
            return
        if self._scheduler.get_job(ident) is not None:
            # A scheduler not started yet keeps pending jobs in a list without replacing them.
            self._scheduler.remove_job(ident)
        prefetching = kind == "prefetch"
        if prefetching and at is not None:
            at = prefetch_time(at)
        if at is None:  # too soon after midnight to prefetch: the digest fetches its own
            return
        trigger = DigestTrigger(at, zone)
        grace = PREFETCH_GRACE if prefetching else self._max_late
        self._scheduler.add_job(
            self._fire_prefetch if prefetching else self._fire,
            trigger,
            args=(settings.team_id, settings.channel_id),
            id=ident,
            name=f"{kind} {settings.team_id}/{settings.channel_id} {trigger}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(grace.total_seconds()),
        )

    def _submitted(self, event: JobSubmissionEvent) -> None:
        """How late a job starts (the metric names its kind, never its channel)."""
        late = self._clock() - max(event.scheduled_run_times, default=self._clock())
        self._deps.meter.job_lag(job_kind(event.job_id), late.total_seconds())

    def _fire_prefetch(self, team_id: str, channel_id: str) -> None:
        self.prefetch_channel(team_id, channel_id, now=self._clock())

    def _fire(self, team_id: str, channel_id: str) -> None:
        self.run_channel(team_id, channel_id, now=self._clock())

    def _last_posted(self, key: tuple[str, str]) -> date | None:
        return self._history.last_digest_date(*key)


def build_scheduler(
    *,
    store: Store,
    deps: Deps,
    post: PostMessage,
    clock: Clock,
    scheduler: Any | None = None,
    history: DigestHistory | None = None,
    run_digest: RunDigest | None = None,
    max_late: timedelta = MAX_LATE,
    run_alerts: RunAlerts | None = None,
    alert_interval: timedelta = ALERT_INTERVAL,
    run_tally: RunTally | None = None,
    prefetch: Prefetch | None = None,
    reconciler: Reconciling | None = None,
) -> DigestScheduler:
    """A DigestScheduler on `scheduler` (default: a BackgroundScheduler, not started); `history`
    defaults to `store.digests`, `run_digest` to bot.channels.digest's; no `run_alerts`: no
    alert job."""
    return DigestScheduler(
        store=store,
        deps=deps,
        post=post,
        clock=clock,
        scheduler=scheduler if scheduler is not None else BackgroundScheduler(timezone=UTC),
        history=history if history is not None else store.digests,
        run_digest=run_digest if run_digest is not None else post_digest,
        max_late=max_late,
        run_alerts=run_alerts,
        alert_interval=alert_interval,
        run_tally=run_tally,
        prefetch=prefetch,
        reconciler=reconciler,
    )
