"""The digest scheduler on APScheduler 3.x, driven by an injected clock: the scheduler is never
left running, jobs are fired by calling them, fire times come from the jobs' triggers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.channels.deps import Deps
from bot.channels.digest import CLAIM_STALE_AFTER, DigestOutcome, Status
from bot.config import Settings
from bot.jobs.schedule import next_digest_time
from bot.jobs.scheduler import CATCH_UP_JOB, DigestScheduler, build_scheduler, job_id
from bot.render.message import Message
from bot.slack import commands
from bot.slack.commands import Invocation
from bot.store import Store
from bot.store.channels import ChannelSettings

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
T = "T1"


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Run:
    channel_id: str
    local_date: date | None
    now: datetime
    late: bool


@dataclass
class FakeDigests:
    """Stands in for bot.channels.digest.run_digest and the store's record of posted digests."""

    last: dict[tuple[str, str], date] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)
    posted: list[tuple[str, str]] = field(default_factory=list)

    def last_digest_date(self, team_id: str, channel_id: str) -> date | None:
        return self.last.get((team_id, channel_id))

    def run_digest(
        self,
        settings: ChannelSettings,
        *,
        local_date: date | None,
        now: datetime,
        deps: Deps,
        post: Any,
        late: bool = False,
    ) -> DigestOutcome:
        self.runs.append(Run(settings.channel_id, local_date, now, late))
        assert local_date is not None
        self.last[(settings.team_id, settings.channel_id)] = local_date
        ts = post(settings.channel_id, Message(f"digest of {local_date}", ephemeral=False))
        return DigestOutcome(Status.POSTED, settings.channel_id, local_date, ts)


@pytest.fixture
def deps(store: Store) -> Deps:
    return Deps(service=None, store=store, settings=Settings(timezone="Europe/Berlin"))  # type: ignore[arg-type]


@pytest.fixture
def digests() -> FakeDigests:
    return FakeDigests()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 12, tzinfo=UTC))


@pytest.fixture
def aps() -> Iterator[BackgroundScheduler]:
    scheduler = BackgroundScheduler(timezone=UTC)
    yield scheduler
    if scheduler.running:
        scheduler.shutdown(wait=False)


@pytest.fixture
def sched(
    store: Store, deps: Deps, digests: FakeDigests, clock: Clock, aps: BackgroundScheduler
) -> DigestScheduler:
    return build_scheduler(
        store=store,
        deps=deps,
        post=post,
        clock=clock,
        scheduler=aps,
        history=digests,
        run_digest=digests.run_digest,
    )


def post(channel_id: str, message: Message) -> str:
    return f"{channel_id}-ts"


def enable(store: Store, channel: str, at: str, zone: str | None) -> None:
    settings = ChannelSettings(T, channel, digest_enabled=True, digest_time=at, timezone=zone)
    store.channels.save_settings(settings, now=datetime(2026, 11, 1, tzinfo=UTC))


def jobs(aps: BackgroundScheduler) -> dict[str, Any]:
    return {job.id: job for job in aps.get_jobs()}


def fire(aps: BackgroundScheduler, ident: str) -> None:
    job = jobs(aps)[ident]
    job.func(*job.args, **job.kwargs)


# -- jobs from the store --------------------------------------------------------------------------


def test_sync_makes_one_job_per_digest_channel(
    store: Store, sched: DigestScheduler, aps: BackgroundScheduler
):
    enable(store, "C1", "09:00", "Europe/Berlin")
    enable(store, "C2", "07:30", "America/New_York")
    enable(store, "C3", "08:00", None)  # the deployment's zone
    store.channels.save_settings(ChannelSettings(T, "C4"), now=datetime(2026, 11, 1, tzinfo=UTC))
    sched.sync()
    sched.sync()  # idempotent, also before the scheduler starts
    found = jobs(aps)
    assert sorted(found) == ["digest:T1:C1", "digest:T1:C2", "digest:T1:C3"]
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    expected = {
        "digest:T1:C1": next_digest_time(time(9), BERLIN, now),
        "digest:T1:C2": next_digest_time(time(7, 30), NEW_YORK, now),
        "digest:T1:C3": next_digest_time(time(8), BERLIN, now),
    }
    for ident, job in found.items():
        assert job.trigger.get_next_fire_time(None, now) == expected[ident]
        assert (job.coalesce, job.max_instances) == (True, 1)
        assert job.misfire_grace_time >= 3600


def test_settings_change_reschedules_through_the_command_hook(
    store: Store, deps: Deps, sched: DigestScheduler, aps: BackgroundScheduler
):
    sched.sync()
    assert jobs(aps) == {}
    hooked = Deps(deps.service, store, deps.settings, on_settings_changed=sched.on_settings_changed)
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)

    def say(text: str) -> None:
        commands.run(Invocation(T, "C9", "U1", text), deps=hooked, now=now)

    say("digest on 08:15 America/New_York")
    trigger = jobs(aps)[job_id(T, "C9")].trigger
    assert trigger.get_next_fire_time(None, now) == datetime(2026, 11, 25, 13, 15, tzinfo=UTC)

    say("digest on 18:00")  # keeps the zone
    trigger = jobs(aps)[job_id(T, "C9")].trigger
    assert trigger.get_next_fire_time(None, now) == datetime(2026, 11, 25, 23, tzinfo=UTC)
    assert len(aps.get_jobs()) == 1

    say("digest off")
    assert jobs(aps) == {}


def test_digest_commands_work_without_a_hook(store: Store, deps: Deps):
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    commands.run(Invocation(T, "C9", "U1", "digest on 08:15"), deps=deps, now=now)
    assert store.channels.settings(T, "C9").digest_time == "08:15"


def test_sync_drops_jobs_of_channels_turned_off_elsewhere(
    store: Store, sched: DigestScheduler, aps: BackgroundScheduler
):
    enable(store, "C1", "09:00", "Europe/Berlin")
    enable(store, "C2", "09:00", "Europe/Berlin")
    sched.sync()
    store.channels.save_settings(ChannelSettings(T, "C1"), now=datetime(2026, 11, 2, tzinfo=UTC))
    sched.sync()
    assert sorted(jobs(aps)) == ["digest:T1:C2"]


def test_a_bad_saved_zone_gets_no_job_and_a_log_line(
    store: Store, sched: DigestScheduler, aps: BackgroundScheduler, caplog: pytest.LogCaptureFixture
):
    enable(store, "C1", "09:00", "Mars/Olympus_Mons")
    enable(store, "C2", "09:00", "Europe/Berlin")
    with caplog.at_level(logging.WARNING, logger="bot.jobs.scheduler"):
        sched.sync()
    assert sorted(jobs(aps)) == ["digest:T1:C2"]
    assert "digest:T1:C1" in caplog.text


# -- runs -----------------------------------------------------------------------------------------


def test_each_fire_posts_yesterday_with_now_from_the_clock(
    store: Store, sched: DigestScheduler, aps: BackgroundScheduler, clock: Clock,
    digests: FakeDigests,
):  # fmt: skip
    enable(store, "C1", "09:00", "Europe/Berlin")
    digests.last[(T, "C1")] = date(2026, 11, 24)
    sched.sync()
    trigger = jobs(aps)[job_id(T, "C1")].trigger
    clock.now = trigger.get_next_fire_time(None, clock.now)
    assert clock.now == datetime(2026, 11, 26, 8, tzinfo=UTC)
    fire(aps, job_id(T, "C1"))
    assert digests.runs == [Run("C1", date(2026, 11, 25), clock.now, late=False)]
    fire(aps, job_id(T, "C1"))  # a second fire the same day finds nothing due
    assert len(digests.runs) == 1


@pytest.mark.parametrize(
    ("zone", "at", "first"),
    [
        ("Europe/Berlin", "02:30", date(2026, 3, 26)),
        ("Europe/Berlin", "02:30", date(2026, 10, 22)),
        ("America/New_York", "01:30", date(2026, 11, 1) - timedelta(days=4)),
        ("America/New_York", "02:30", date(2026, 3, 5)),
        ("Europe/Berlin", "09:00", date(2026, 3, 26)),
    ],
)
def test_a_week_across_a_dst_change_posts_one_digest_a_day(
    store: Store, sched: DigestScheduler, aps: BackgroundScheduler, clock: Clock,
    digests: FakeDigests, zone: str, at: str, first: date,
):  # fmt: skip
    enable(store, "C1", at, zone)
    digests.last[(T, "C1")] = first - timedelta(days=2)
    sched.sync()
    job = jobs(aps)[job_id(T, "C1")]
    clock.now = datetime.combine(first, time(), ZoneInfo(zone)).astimezone(UTC)
    previous = None
    for _ in range(7):
        previous = job.trigger.get_next_fire_time(previous, clock.now)
        clock.now = previous
        fire(aps, job.id)
        # The clock runs on through the hour: a repeated wall-clock time posts nothing more.
        clock.now = previous + timedelta(hours=1, minutes=30)
        fire(aps, job.id)
    assert [r.local_date for r in digests.runs] == [
        first - timedelta(days=1) + timedelta(days=n) for n in range(7)
    ]
    assert not any(r.late for r in digests.runs)
    local_days = [r.now.astimezone(ZoneInfo(zone)).date() for r in digests.runs]
    assert local_days == [first + timedelta(days=n) for n in range(7)]


def test_catch_up_after_three_days_down_posts_one_late_digest(
    store: Store, sched: DigestScheduler, clock: Clock, digests: FakeDigests
):
    enable(store, "C1", "09:00", "Europe/Berlin")
    enable(store, "C2", "07:00", "America/New_York")
    digests.last[(T, "C1")] = date(2026, 11, 21)  # posted 2026-11-22, then three days down
    digests.last[(T, "C2")] = date(2026, 11, 21)
    clock.now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)  # 10:30 Berlin, 04:30 New York
    assert sched.catch_up(clock.now) == [(T, "C1")]
    assert digests.runs == [Run("C1", date(2026, 11, 24), clock.now, late=True)]
    assert sched.catch_up(clock.now) == []  # once, not once per start or per missed day
    assert len(digests.runs) == 1


def test_catch_up_skips_a_digest_too_old_with_a_log_line(
    store: Store, sched: DigestScheduler, clock: Clock, digests: FakeDigests,
    caplog: pytest.LogCaptureFixture,
):  # fmt: skip
    enable(store, "C1", "09:00", "Europe/Berlin")
    digests.last[(T, "C1")] = date(2026, 11, 21)
    clock.now = datetime(2026, 11, 25, 7, tzinfo=UTC)  # 23 h after the last 09:00
    with caplog.at_level(logging.INFO, logger="bot.jobs.scheduler"):
        assert sched.catch_up(clock.now) == []
    assert digests.runs == []
    assert "skipping the digest of 2026-11-23 for T1/C1" in caplog.text


def test_catch_up_goes_on_when_one_channel_fails(
    store: Store, deps: Deps, clock: Clock, aps: BackgroundScheduler, digests: FakeDigests,
    caplog: pytest.LogCaptureFixture,
):  # fmt: skip
    enable(store, "C1", "09:00", "Europe/Berlin")
    enable(store, "C2", "09:00", "Europe/Berlin")

    def run_digest(settings: ChannelSettings, **kwargs: Any) -> object:
        if settings.channel_id == "C1":
            raise RuntimeError("X is down")
        return digests.run_digest(settings, **kwargs)

    sched = build_scheduler(
        store=store, deps=deps, post=post, clock=clock, scheduler=aps, history=digests,
        run_digest=run_digest,
    )  # fmt: skip
    now = datetime(2026, 11, 25, 9, tzinfo=UTC)
    with caplog.at_level(logging.ERROR, logger="bot.jobs.scheduler"):
        assert sched.catch_up(now) == [(T, "C2")]
    assert "catch-up digest for T1/C1 failed" in caplog.text


def test_a_channel_turned_off_after_its_job_was_made_posts_nothing(
    store: Store, sched: DigestScheduler, aps: BackgroundScheduler, clock: Clock,
    digests: FakeDigests,
):  # fmt: skip
    enable(store, "C1", "09:00", "Europe/Berlin")
    sched.sync()
    store.channels.save_settings(ChannelSettings(T, "C1"), now=clock.now)
    clock.now = datetime(2026, 11, 26, 8, tzinfo=UTC)
    fire(aps, job_id(T, "C1"))
    assert digests.runs == []


# -- start and shutdown ---------------------------------------------------------------------------


class PausedScheduler(BackgroundScheduler):  # type: ignore[misc]
    """Starts paused, so no job runs on its own in a test."""

    def start(self, paused: bool = False) -> None:
        super().start(paused=True)


def test_start_syncs_starts_and_queues_the_catch_up(
    store: Store, deps: Deps, clock: Clock, digests: FakeDigests
):
    enable(store, "C1", "09:00", "Europe/Berlin")
    digests.last[(T, "C1")] = date(2026, 11, 21)
    clock.now = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
    aps = PausedScheduler(timezone=UTC)
    sched = build_scheduler(
        store=store, deps=deps, post=post, clock=clock, scheduler=aps, history=digests,
        run_digest=digests.run_digest,
    )  # fmt: skip
    try:
        sched.start()
        assert aps.running
        assert sorted(jobs(aps)) == [CATCH_UP_JOB, "digest:T1:C1"]
        fire(aps, CATCH_UP_JOB)  # what the worker pool would run at once
        assert digests.runs == [Run("C1", date(2026, 11, 24), clock.now, late=True)]
    finally:
        sched.shutdown()
    assert not aps.running


def test_the_default_history_is_the_stores_when_it_keeps_one(
    store: Store, deps: Deps, clock: Clock, aps: BackgroundScheduler
):
    sched = build_scheduler(store=store, deps=deps, post=post, clock=clock, scheduler=aps)
    has_it = hasattr(getattr(store, "digests", None), "last_digest_date")
    assert (sched.history is not None) == has_it


# -- `engagement-bot run` -------------------------------------------------------------------------


@dataclass
class StandInJobs:
    events: list[str] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)

    def on_settings_changed(self, team_id: str, channel_id: str) -> None:
        self.changed.append((team_id, channel_id))

    def start(self) -> None:
        self.events.append("start")

    def shutdown(self) -> None:
        self.events.append("shutdown")


def test_serve_starts_the_jobs_hooks_digest_commands_and_stops_them(
    sim: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from tests.support.fake_slack import FakeSlack, clear_slack_env
    from tests.support.running import Running, post_command, settings_for

    clear_slack_env(monkeypatch)
    stand_in = StandInJobs()
    made: list[Any] = []

    def factory(deps: Deps, web: Any) -> StandInJobs:
        made.append(web)
        return stand_in

    with FakeSlack() as fake:
        running = Running(settings_for(fake, sim, tmp_path), sim, jobs=factory)
        try:
            assert post_command(running.url, "digest on 08:00", fake).status_code == 200
            (answer,) = fake.wait_for_responses(1)
            assert "Daily digest on" in answer["text"]
            assert len(stand_in.changed) == 1
        finally:
            assert running.close() == 0
    assert len(made) == 1
    assert stand_in.events == ["start", "shutdown"]


# -- prefetch ahead of the digest -----------------------------------------------------------------


@dataclass
class FakePrefetch:
    calls: list[tuple[str, datetime]] = field(default_factory=list)
    fail: bool = False

    def __call__(self, settings: ChannelSettings, *, now: datetime, deps: Deps) -> int:
        if self.fail:
            raise RuntimeError("X is down")
        self.calls.append((settings.channel_id, now))
        return 7


@pytest.fixture
def prefetching(
    store: Store, deps: Deps, digests: FakeDigests, clock: Clock, aps: BackgroundScheduler
) -> tuple[DigestScheduler, FakePrefetch]:
    fetch = FakePrefetch()
    made = build_scheduler(
        store=store,
        deps=deps,
        post=post,
        clock=clock,
        scheduler=aps,
        history=digests,
        run_digest=digests.run_digest,
        prefetch=fetch,
    )
    return made, fetch


def test_prefetch_jobs_fire_half_an_hour_before_their_digest(
    store: Store, prefetching: tuple[DigestScheduler, FakePrefetch], aps: BackgroundScheduler
):
    sched, _ = prefetching
    enable(store, "C1", "09:00", "Europe/Berlin")
    enable(store, "C2", "01:15", "America/New_York")  # 00:45 is too early: from 01:00
    enable(store, "C3", "00:30", "Europe/Berlin")  # nothing fits before it: no prefetch
    sched.sync()
    found = jobs(aps)
    assert sorted(found) == [
        "digest:T1:C1", "digest:T1:C2", "digest:T1:C3", "prefetch:T1:C1", "prefetch:T1:C2",
    ]  # fmt: skip
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert found["prefetch:T1:C1"].trigger.get_next_fire_time(None, now) == datetime(
        2026, 11, 26, 7, 30, tzinfo=UTC
    )
    assert found["prefetch:T1:C2"].trigger.get_next_fire_time(None, now) == datetime(
        2026, 11, 26, 6, tzinfo=UTC
    )
    store.channels.save_settings(ChannelSettings(T, "C1"), now=now)  # digest off
    sched.sync()
    assert "prefetch:T1:C1" not in jobs(aps)


def test_prefetch_fetches_once_and_not_after_the_digest_is_posted(
    store: Store,
    prefetching: tuple[DigestScheduler, FakePrefetch],
    aps: BackgroundScheduler,
    clock: Clock,
    digests: FakeDigests,
):
    sched, fetch = prefetching
    enable(store, "C1", "09:00", "Europe/Berlin")
    sched.sync()
    clock.now = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    fire(aps, "prefetch:T1:C1")
    assert fetch.calls == [("C1", clock.now)]
    digests.last[(T, "C1")] = date(2026, 11, 25)  # yesterday's digest is already out
    fire(aps, "prefetch:T1:C1")
    assert len(fetch.calls) == 1


def test_a_failed_prefetch_is_logged_and_leaves_the_digest_to_fetch(
    store: Store,
    prefetching: tuple[DigestScheduler, FakePrefetch],
    aps: BackgroundScheduler,
    clock: Clock,
    digests: FakeDigests,
    caplog: pytest.LogCaptureFixture,
):
    sched, fetch = prefetching
    fetch.fail = True
    enable(store, "C1", "09:00", "Europe/Berlin")
    sched.sync()
    clock.now = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    with caplog.at_level(logging.ERROR, logger="bot.jobs.scheduler"):
        assert sched.prefetch_channel(T, "C1", now=clock.now) == 0
    assert "prefetch for the digest of T1/C1 failed" in caplog.text
    clock.now = datetime(2026, 11, 26, 8, tzinfo=UTC)
    fire(aps, job_id(T, "C1"))
    assert [r.local_date for r in digests.runs] == [date(2026, 11, 25)]


# -- a digest that did not go out is tried again --------------------------------------------------


@dataclass
class Flaky:
    """run_digest that answers with `statuses` in turn, and the history that follows."""

    statuses: list[Status]
    runs: list[datetime] = field(default_factory=list)
    posted: date | None = None

    def last_digest_date(self, team_id: str, channel_id: str) -> date | None:
        return self.posted

    def run_digest(
        self,
        settings: ChannelSettings,
        *,
        local_date: date | None,
        now: datetime,
        deps: Deps,
        post: Any,
        late: bool = False,
    ) -> DigestOutcome:
        self.runs.append(now)
        status = self.statuses[len(self.runs) - 1]
        if status is Status.POSTED:
            self.posted = local_date
        assert local_date is not None
        return DigestOutcome(status, settings.channel_id, local_date)


def flaky_first_run(
    flaky: Flaky, store: Store, deps: Deps, clock: Clock, aps: BackgroundScheduler
) -> DigestScheduler:
    """C1's digest at 09:00 Berlin, fired once at its time with `flaky` answering."""
    sched = build_scheduler(
        store=store,
        deps=deps,
        post=post,
        clock=clock,
        scheduler=aps,
        history=flaky,
        run_digest=flaky.run_digest,
    )
    enable(store, "C1", "09:00", "Europe/Berlin")
    sched.sync()
    clock.now = datetime(2026, 11, 26, 8, tzinfo=UTC)
    fire(aps, job_id(T, "C1"))
    return sched


def test_a_digest_that_did_not_go_out_is_tried_again_until_it_does(
    store: Store, deps: Deps, clock: Clock, aps: BackgroundScheduler
):
    flaky = Flaky([Status.BUSY, Status.FAILED, Status.POSTED])
    sched = flaky_first_run(
        flaky, store, deps, clock, aps
    )  # the date is held by a run that may have died
    retry = jobs(aps)["digest-retry:T1:C1"]
    assert retry.trigger.run_date == clock.now + CLAIM_STALE_AFTER + timedelta(minutes=1)
    sched.sync()  # a settings change elsewhere keeps the retry
    clock.now = retry.trigger.run_date
    fire(aps, "digest-retry:T1:C1")  # now X fails: the next try waits twice as long
    again = jobs(aps)["digest-retry:T1:C1"]
    assert again.trigger.run_date == clock.now + 2 * (CLAIM_STALE_AFTER + timedelta(minutes=1))
    clock.now = again.trigger.run_date
    fire(aps, "digest-retry:T1:C1")
    assert len(flaky.runs) == 3
    assert flaky.posted == date(2026, 11, 25)
    fire(aps, job_id(T, "C1"))  # posted: nothing more is due today
    assert len(flaky.runs) == 3


def test_a_retry_is_dropped_when_the_channel_turns_its_digest_off(
    store: Store, deps: Deps, clock: Clock, aps: BackgroundScheduler
):
    flaky = Flaky([Status.BUSY])
    sched = flaky_first_run(flaky, store, deps, clock, aps)
    assert "digest-retry:T1:C1" in jobs(aps)
    store.channels.save_settings(ChannelSettings(T, "C1"), now=clock.now)
    sched.sync()
    assert jobs(aps) == {}
