"""The digest scheduler: APScheduler 3.x jobs derived from the store, which stays the truth.

    build_scheduler(store=…, deps=…, post=…, clock=…) -> DigestScheduler
        .sync()          one job per digest channel (id `digest:<team>:<channel>`), rebuilt from
                         `store.channels.digest_channels()`; also `.on_settings_changed(t, c)`
        .catch_up(now)   at start: each channel's most recent missed digest, once, marked late
        .start()         sync, start APScheduler, then catch up in its worker pool
        .shutdown()

Every run reads the channel's settings afresh, asks `due_digest` what to post given the last
digest posted (the store's `DigestHistory` when it has one, and what this process posted), and
hands `run_digest` `now=clock()`. A second run for the same day finds nothing due here, and
`run_digest`'s claim in the store is the exactly-once guard across processes and restarts.
Jobs post only through `post`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger

from bot.jobs.digest import run_digest as post_digest
from bot.jobs.schedule import due_digest, missed_digest, next_digest_time, parse_digest_time
from bot.slack.message import Message
from bot.store.channels import ChannelSettings

if TYPE_CHECKING:
    from bot.slack.commands import Deps
    from bot.store import Store

__all__ = [
    "CATCH_UP_JOB",
    "MAX_LATE",
    "DigestHistory",
    "DigestScheduler",
    "DigestTrigger",
    "RunDigest",
    "build_scheduler",
    "job_id",
]

log = logging.getLogger(__name__)

MAX_LATE = timedelta(hours=12)  # an older missed digest is skipped with a log line
CATCH_UP_JOB = "digest-catch-up"
_TICK = timedelta(microseconds=1)

Post = Callable[[str, Message], str]
Clock = Callable[[], datetime]


class DigestHistory(Protocol):
    """What the scheduler asks the store: the local day of the channel's last posted digest."""

    def last_digest_date(self, team_id: str, channel_id: str) -> date | None: ...


class RunDigest(Protocol):
    """bot.jobs.digest.run_digest's signature; the outcome is not inspected here."""

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


def job_id(team_id: str, channel_id: str) -> str:
    return f"digest:{team_id}:{channel_id}"


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
    ) -> None:
        self._store = store
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
            wanted = {job_id(s.team_id, s.channel_id): s for s in self._channels()}
            for job in self._scheduler.get_jobs():
                if job.id.startswith("digest:") and job.id not in wanted:
                    self._scheduler.remove_job(job.id)
            for ident, settings in wanted.items():
                self._add(ident, settings)

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
            if self._history is None:  # else the store's record is the truth
                self._posted[key] = local_date
        return True

    def start(self) -> None:
        """Jobs from the store, the scheduler's thread, then the catch-up in its pool."""
        self.sync()
        self._scheduler.start()
        self._scheduler.add_job(
            self._catch_up_now,
            id=CATCH_UP_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _run_lock(self, key: tuple[str, str]) -> threading.Lock:
        """One run at a time per channel (a catch-up and a job may meet); channels in parallel."""
        with self._locks_lock:
            return self._run_locks.setdefault(key, threading.Lock())

    def _channels(self) -> list[ChannelSettings]:
        return self._store.channels.digest_channels()

    def _add(self, ident: str, settings: ChannelSettings) -> None:
        try:
            trigger = DigestTrigger(parse_digest_time(settings.digest_time), self.zone_of(settings))
        except (ValueError, KeyError) as error:  # a bad zone or time saved by an older version
            log.warning("no digest job for %s: %s", ident, error)
            return
        if self._scheduler.get_job(ident) is not None:
            # A scheduler not started yet keeps pending jobs in a list without replacing them.
            self._scheduler.remove_job(ident)
        self._scheduler.add_job(
            self._fire,
            trigger,
            args=(settings.team_id, settings.channel_id),
            id=ident,
            name=f"digest {settings.team_id}/{settings.channel_id} {trigger}",
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(self._max_late.total_seconds()),
        )

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
) -> DigestScheduler:
    """A DigestScheduler on `scheduler` (default: a BackgroundScheduler, not started). `history`
    defaults to `store.digests` when the store has it; `run_digest` to bot.jobs.digest's."""
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
    )
