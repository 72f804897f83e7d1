"""The digest scheduler: APScheduler 3.x jobs derived from the store, which stays the truth.

    build_scheduler(store=…, deps=…, post=…, clock=…) -> DigestScheduler
        .sync()          one job per digest channel (id `digest:<team>:<channel>`), rebuilt from
                         `store.channels.digest_channels()`; also `.on_settings_changed(t, c)`;
                         with `prefetch`, also `prefetch:<team>:<channel>` at `prefetch_time`
        .catch_up(now)   at start: each channel's most recent missed digest, once, marked late;
                         a digest that did not go out (BUSY or FAILED) is run again by a one-off
                         `digest-retry:` job, 6 minutes later and then less often
        .start()         sync, start APScheduler, then catch up in its worker pool; with
                         `run_alerts`, also the interval job `alerts` (every `alert_interval`,
                         default 15 minutes) running one alert pass with `now=clock()`
        .shutdown()
        .reconciled(c)   the hook for bot.slack.reconcile.Reconciler.on_answer: the channel's
                         search for an interrupted run's digest is answered, so its digest
                         runs again now (`start` also starts the reconciler's thread)

Every run reads the channel's settings afresh, asks `due_digest` what to post given the last
digest posted (the store's `DigestHistory` when it has one, and what this process posted), and
hands `run_digest` `now=clock()`. A second run for the same day finds nothing due here, and
`run_digest`'s claim in the store is the exactly-once guard across processes and restarts.
Jobs post only through `post`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.channels.digest import CLAIM_STALE_AFTER, Status
from bot.channels.digest import run_digest as post_digest
from bot.jobs.schedule import (
    due_digest,
    missed_digest,
    next_digest_time,
    parse_digest_time,
    prefetch_time,
)
from bot.render.message import Message
from bot.store.channels import ChannelSettings

if TYPE_CHECKING:
    from bot.channels.deps import Deps
    from bot.store import Store

__all__ = [
    "ALERTS_JOB",
    "ALERT_INTERVAL",
    "CATCH_UP_JOB",
    "MAX_LATE",
    "DigestHistory",
    "DigestScheduler",
    "DigestTrigger",
    "Prefetch",
    "Reconciling",
    "RunAlerts",
    "RunDigest",
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
# A digest that did not go out (X failing, or the date held by a run that may have died) is
# tried again: first once a dead run's claim counts as stale, then less and less often.
RETRY_FIRST = CLAIM_STALE_AFTER + timedelta(minutes=1)
RETRY_MAX = timedelta(hours=1)
_RETRY_STATUSES = frozenset({Status.BUSY, Status.FAILED, Status.UNRECONCILED})
_TICK = timedelta(microseconds=1)

Post = Callable[[str, Message], str]
Clock = Callable[[], datetime]


class DigestHistory(Protocol):
    """What the scheduler asks the store: the local day of the channel's last posted digest."""

    def last_digest_date(self, team_id: str, channel_id: str) -> date | None: ...


class RunDigest(Protocol):
    """bot.channels.digest.run_digest's signature; the outcome is not inspected here."""

    def __call__(
        self,
        settings: ChannelSettings,
        *,
        local_date: date | None,
        now: datetime,
        deps: Deps,
        post: Post,
        late: bool = False,
    ) -> object: ...


class TallyOutcomeLike(Protocol):
    def describe(self) -> str: ...


class RunTally(Protocol):
    """bot.channels.tally.run_tally's shape."""

    def __call__(self, *, now: datetime, deps: Deps) -> TallyOutcomeLike: ...


class RunAlerts(Protocol):
    """bot.channels.alerts.run_alert_pass's signature; what it returns is only counted in a log."""

    def __call__(self, *, now: datetime, deps: Deps, post: Post) -> Sequence[object]: ...


class Reconciling(Protocol):
    """bot.slack.reconcile.Reconciler, as the scheduler runs it."""

    on_answer: Callable[[str], None] | None

    def serve(self, stop: threading.Event) -> None: ...

    def wake(self) -> None: ...


class Prefetch(Protocol):
    """bot.channels.digest.prefetch's signature: fetch the coming digest's numbers; a count."""

    def __call__(self, settings: ChannelSettings, *, now: datetime, deps: Deps) -> int: ...


def job_id(team_id: str, channel_id: str, kind: str = "digest") -> str:
    return f"{kind}:{team_id}:{channel_id}"


_CHANNEL_JOBS = ("digest:", "prefetch:")


class DigestTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3.x is untyped
    """Fires daily at a local wall-clock time, by `next_digest_time`. (CronTrigger in 3.11 fires
    twice in the autumn overlap and reads a time in the spring gap with the winter offset.)"""

    __slots__ = ("at", "zone")

    def __init__(self, at: time, zone: ZoneInfo) -> None:
        self.at = at
        self.zone = zone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        # As CronTrigger: from just after the previous fire time, or from now on the first call.
        start = now if previous_fire_time is None else min(now, previous_fire_time + _TICK)
        return next_digest_time(self.at, self.zone, start - _TICK)

    def __str__(self) -> str:
        return f"daily at {self.at:%H:%M} {self.zone.key}"

    def __repr__(self) -> str:
        return f"<DigestTrigger ({self})>"


class DigestScheduler:
    """Digest jobs on an APScheduler 3.x scheduler; see the module docstring."""

    def __init__(
        self,
        *,
        store: Store,
        deps: Deps,
        post: Post,
        clock: Clock,
        scheduler: Any,
        history: DigestHistory | None,
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
        self._posted: dict[tuple[str, str], date] = {}
        self._retries: dict[tuple[str, str], tuple[date, int]] = {}  # date, tries so far

    @property
    def scheduler(self) -> Any:
        return self._scheduler

    @property
    def history(self) -> DigestHistory | None:
        return self._history

    def zone_of(self, settings: ChannelSettings) -> ZoneInfo:
        return ZoneInfo(settings.timezone or self._deps.settings.timezone)

    def sync(self) -> None:
        """Make the jobs match the store: add, reschedule and remove `digest:` jobs."""
        with self._sync_lock:
            channels = self._channels()
            wanted = {job_id(s.team_id, s.channel_id): s for s in channels}
            if self._prefetch is not None:
                for s in channels:
                    wanted[job_id(s.team_id, s.channel_id, "prefetch")] = s
            for job in self._scheduler.get_jobs():
                if job.id.startswith("digest-retry:"):
                    keep = job_id(*job.args) in wanted  # while the channel's digest is on
                else:
                    keep = not job.id.startswith(_CHANNEL_JOBS) or job.id in wanted
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
        zone, at = self.zone_of(settings), parse_digest_time(settings.digest_time)
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
            describe = getattr(outcome, "describe", None)
            log.info("%s", describe() if callable(describe) else outcome)
            if getattr(outcome, "status", None) in _RETRY_STATUSES:
                self._retry_later(team_id, channel_id, local_date, now)
                return True
            self._retries.pop(key, None)
            if self._history is None:  # else the store's record is the truth
                self._posted[key] = local_date
        return True

    def _retry_later(self, team_id: str, channel_id: str, local_date: date, now: datetime) -> None:
        """A one-off job that runs the channel's digest again; it stays due until posted (or
        more than `max_late` late), so the retries end by themselves."""
        key = (team_id, channel_id)
        previous = self._retries.get(key)
        tries = previous[1] + 1 if previous is not None and previous[0] == local_date else 1
        self._retries[key] = (local_date, tries)
        delay = min(RETRY_FIRST * 2 ** (tries - 1), RETRY_MAX)
        log.info(
            "the digest of %s for %s/%s did not go out: trying again in %s",
            local_date,
            team_id,
            channel_id,
            delay,
        )
        self._scheduler.add_job(
            self._fire,
            DateTrigger(run_date=now + delay, timezone=UTC),
            args=(team_id, channel_id),
            id=job_id(team_id, channel_id, "digest-retry"),
            name=f"digest retry {team_id}/{channel_id} #{tries}",
            replace_existing=True,
            misfire_grace_time=int(self._max_late.total_seconds()),
        )

    def reconciled(self, channel_id: str) -> None:
        """An interrupted run's digest in the channel can be settled now: run it again at once
        (in the scheduler's pool), in place of its pending retry."""
        for settings in self._channels():
            if settings.channel_id != channel_id:
                continue
            team_id = settings.team_id
            ident = job_id(team_id, channel_id, "digest-retry")
            if self._scheduler.get_job(ident) is not None:  # (pending jobs are not replaced)
                self._scheduler.remove_job(ident)
            self._scheduler.add_job(
                self._fire,
                DateTrigger(run_date=self._clock(), timezone=UTC),
                args=(team_id, channel_id),
                id=ident,
                name=f"digest retry {team_id}/{channel_id} (reconciled)",
                replace_existing=True,
                misfire_grace_time=int(self._max_late.total_seconds()),
            )

    def prefetch_channel(self, team_id: str, channel_id: str, *, now: datetime) -> int:
        """Fetch the numbers of the channel's coming digest into the store (the `prefetch:`
        job); the Posts asked for, 0 when no digest is coming or it is already posted."""
        settings = self._store.channels.settings(team_id, channel_id)
        if self._prefetch is None or not settings.digest_enabled or settings.paused_reason:
            return 0
        zone = self.zone_of(settings)
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
        self._scheduler.start()
        if self._reconciler is not None:
            threading.Thread(
                target=self._reconciler.serve,
                args=(self._stop_reconciling,),
                name="reconciler",
                daemon=True,
            ).start()
        self._scheduler.add_job(
            self._catch_up_now,
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
            log.exception("alert pass failed")
            return 0
        finally:
            self._alerts_lock.release()
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
            zone = self.zone_of(settings)
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

    def _fire_prefetch(self, team_id: str, channel_id: str) -> None:
        self.prefetch_channel(team_id, channel_id, now=self._clock())

    def _fire(self, team_id: str, channel_id: str) -> None:
        self.run_channel(team_id, channel_id, now=self._clock())

    def _catch_up_now(self) -> None:
        self.catch_up(self._clock())

    def _last_posted(self, key: tuple[str, str]) -> date | None:
        known = self._posted.get(key)
        stored = self._history.last_digest_date(*key) if self._history is not None else None
        dates = [d for d in (known, stored) if d is not None]
        return max(dates) if dates else None


def build_scheduler(
    *,
    store: Store,
    deps: Deps,
    post: Post,
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
    """A DigestScheduler on `scheduler` (default: a BackgroundScheduler, not started). `history`
    defaults to `store.digests` when the store has it; `run_digest` to bot.channels.digest's;
    `run_alerts` (e.g. bot.channels.alerts.run_alert_pass) None: no alert job."""
    if history is None:
        digests = getattr(store, "digests", None)
        history = digests if hasattr(digests, "last_digest_date") else None
    return DigestScheduler(
        store=store,
        deps=deps,
        post=post,
        clock=clock,
        scheduler=scheduler if scheduler is not None else BackgroundScheduler(timezone=UTC),
        history=history,
        run_digest=run_digest if run_digest is not None else post_digest,
        max_late=max_late,
        run_alerts=run_alerts,
        alert_interval=alert_interval,
        run_tally=run_tally,
        prefetch=prefetch,
        reconciler=reconciler,
    )
