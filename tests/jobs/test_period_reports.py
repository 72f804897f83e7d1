"""Weekly and monthly reports through the scheduler with an injected clock: the real store
file, X simulated over loopback, Slack faked. The APScheduler is never started: jobs are fired
by calling them, and a restart is a fresh store on the same file with fresh jobs.

Expected numbers come from the simulator's own hourly buckets (/_sim/series) summed over the
local days of each period, independently of the bot's code."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.channels.digest import Status
from bot.channels.digest_periods import run_report
from bot.channels.periods import Period, Span, before, covered
from bot.config import Settings
from bot.jobs.period_jobs import CATCH_UP_JOB, PeriodJobs, ScheduledJobs, report_job_id
from bot.jobs.periods import PeriodTrigger, due_report, next_fire
from bot.jobs.scheduler import build_scheduler
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from bot.store.cipher import TokenCipher
from bot.store.digest_schedules import DigestSchedule
from tests.support.digest_bot import CHANNEL, ZONE, DigestBot, Killed, posted
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.simhttp import admin, posts_of
from tests.support.universe import SIM_START

NEW_YORK = ZoneInfo(ZONE)
LOOKBACK = timedelta(days=90)
# SIM_START is Thu 26 Nov 2026 12:30 UTC, 07:30 in New York: both reports are due at 07:20.
WEEKLY = DigestSchedule(TEAM_ID, CHANNEL, "weekly", 3, "07:20")  # Thursdays
MONTHLY = DigestSchedule(TEAM_ID, CHANNEL, "monthly", 26, "07:20")


class Jobs:
    """One process's report jobs on a scheduler that never runs, on the simulator's clock."""

    def __init__(self, bot: DigestBot, now: datetime, post: Any = None) -> None:
        self.now = now
        self.aps = BackgroundScheduler(timezone=UTC)
        self.jobs = PeriodJobs(
            store=bot.store,
            deps=bot.deps,
            post=post or bot.post,
            clock=lambda: self.now,
            scheduler=self.aps,
            run_report=lambda settings, **kw: run_report(
                settings, find_posted=bot.find_posted, **kw
            ),
        )

    def fire(self, ident: str) -> None:
        job = next(j for j in self.aps.get_jobs() if j.id == ident)
        job.func(*job.args, **job.kwargs)


def schedule(bot: DigestBot, *schedules: DigestSchedule) -> None:
    for each in schedules:
        bot.store.digest_schedules.set(each, by="U1", now=SIM_START - timedelta(days=30))


def local_sums(
    sim: RunningSimulator, author: str, span: Span, *, created_since: date
) -> dict[str, int]:
    """metric → Σ over the author's Posts of the simulator's hourly buckets in `span`'s local
    days (New York); digests leave out Posts created more than 90 days before the days they
    compare (README), so Posts created before `created_since` are left out here too."""
    start = datetime.combine(span.first, time(), NEW_YORK).astimezone(UTC)
    end = datetime.combine(span.last + timedelta(days=1), time(), NEW_YORK).astimezone(UTC)
    oldest = datetime.combine(created_since, time(), NEW_YORK).astimezone(UTC) - LOOKBACK
    sums = {"impressions": 0, "engagements": 0}
    for post in posts_of(sim, author):
        created = post["created_at"][:19]
        if (
            post["deleted"]
            or not f"{oldest:%Y-%m-%dT%H:%M:%S}" <= created < f"{end:%Y-%m-%dT%H:%M:%S}"
        ):
            continue
        doc = admin(
            sim,
            "GET",
            f"series?tweet_id={post['id']}&metrics=impressions,engagements"
            f"&start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}",
        )
        for metric in sums:
            sums[metric] += sum(v or 0 for v in doc["buckets"][metric].values())
    return sums


def report_texts(fake: FakeSlack) -> list[str]:
    return [
        json.dumps(body.get("blocks"), ensure_ascii=False) + body.get("text", "")
        for body in posted(fake)
    ]


# -- the rules ------------------------------------------------------------------------------------


def test_what_a_report_covers_and_compares_with() -> None:
    week = covered(Period.WEEKLY, date(2026, 11, 30))  # a Monday
    assert (week.first, week.last) == (date(2026, 11, 23), date(2026, 11, 29))
    assert before(Period.WEEKLY, week) == Span(date(2026, 11, 16), date(2026, 11, 22))
    month = covered(Period.MONTHLY, date(2026, 3, 15))
    assert (month.first, month.last) == (date(2026, 2, 1), date(2026, 2, 28))
    assert before(Period.MONTHLY, month) == Span(date(2026, 1, 1), date(2026, 1, 31))
    assert covered(Period.MONTHLY, date(2027, 1, 1)) == Span(date(2026, 12, 1), date(2026, 12, 31))


def test_fire_times_in_local_time_and_a_short_month() -> None:
    paris = ZoneInfo("Europe/Paris")
    after = datetime(2026, 11, 26, 12, tzinfo=UTC)
    # Monday 09:00 Paris (UTC+1 in winter).
    assert next_fire(Period.WEEKLY, 0, time(9), paris, after) == datetime(
        2026, 11, 30, 8, tzinfo=UTC
    )
    # Day 31 in February: its last day. Day 31 across the spring change: summer time (UTC+2).
    feb = datetime(2027, 2, 1, tzinfo=UTC)
    assert next_fire(Period.MONTHLY, 31, time(9), paris, feb) == datetime(
        2027, 2, 28, 8, tzinfo=UTC
    )
    assert next_fire(Period.MONTHLY, 31, time(9), paris, datetime(2027, 3, 1, tzinfo=UTC)) == (
        datetime(2027, 3, 31, 7, tzinfo=UTC)
    )
    trigger = PeriodTrigger(Period.WEEKLY, 0, time(9), paris)
    first = trigger.get_next_fire_time(None, after)
    assert trigger.get_next_fire_time(first, first + timedelta(seconds=1)) == first + timedelta(
        days=7
    )


def test_only_the_latest_missed_period_is_due_and_only_until_it_is_posted() -> None:
    now = datetime(2026, 12, 22, 10, tzinfo=UTC)  # a Tuesday; Mondays at 09:00 UTC
    utc = ZoneInfo("UTC")
    due = due_report(None, now, utc, Period.WEEKLY, 0, time(9))
    assert due == (Span(date(2026, 12, 14), date(2026, 12, 20)), True)  # yesterday's, late
    assert due_report(date(2026, 12, 14), now, utc, Period.WEEKLY, 0, time(9)) is None
    three_days = now + timedelta(days=3)
    assert due_report(None, three_days, utc, Period.WEEKLY, 0, time(9)) is None  # too late


# -- through the scheduler ----------------------------------------------------------------------


def test_weekly_and_monthly_reports_post_once_per_period_across_a_restart(
    digest_bot: DigestBot,
    digest_bots: list[DigestBot],
    sim: RunningSimulator,
    db_path: Path,
    cipher: TokenCipher,
    settings: Settings,
    fake: FakeSlack,
) -> None:
    schedule(digest_bot, WEEKLY, MONTHLY)
    first = Jobs(digest_bot, SIM_START)
    first.jobs.sync()
    idents = {j.id for j in first.aps.get_jobs()}
    weekly, monthly = (report_job_id(TEAM_ID, CHANNEL, p) for p in ("weekly", "monthly"))
    assert idents == {weekly, monthly}
    # The jobs' next times: next Thursday and 26 December, 07:20 in New York.
    trigger = next(j for j in first.aps.get_jobs() if j.id == weekly).trigger
    assert trigger.get_next_fire_time(None, SIM_START) == datetime(2026, 12, 3, 12, 20, tzinfo=UTC)

    first.fire(weekly)
    first.fire(monthly)
    first.fire(weekly)  # a second firing in the same period posts nothing
    assert len(posted(fake)) == 2
    week_text, month_text = report_texts(fake)
    assert "Weekly report · Thu 19 Nov – Wed 25 Nov 2026" in week_text
    assert "compared with Thu 12 Nov – Wed 18 Nov 2026" in week_text
    assert "local days in America/New_York" in week_text
    assert "Monthly report · October 2026" in month_text
    assert "compared with September 2026" in month_text
    # The numbers are the simulator's, over the local days of each period.
    since = date(2026, 11, 12)
    this_week = local_sums(
        sim, "sim_brand", Span(date(2026, 11, 19), date(2026, 11, 25)), created_since=since
    )
    last_week = local_sums(
        sim, "sim_brand", Span(date(2026, 11, 12), date(2026, 11, 18)), created_since=since
    )
    assert this_week["impressions"] > 0
    assert f"*Impressions*  {this_week['impressions']:,}" in week_text
    change = (this_week["impressions"] - last_week["impressions"]) / last_week["impressions"]
    arrow = "▲" if change > 0 else "▼"
    assert f"{arrow} {abs(change) * 100:.0f}" in week_text
    assert "vs previous week" in week_text
    october = local_sums(
        sim,
        "sim_brand",
        Span(date(2026, 10, 1), date(2026, 10, 31)),
        created_since=date(2026, 9, 1),
    )
    assert f"*Impressions*  {october['impressions']:,}" in month_text

    # A restart an hour later: a fresh store on the same file, fresh jobs, the catch-up runs.
    digest_bot.close()
    digest_bots.remove(digest_bot)
    restarted = DigestBot(sim, db_path, cipher, settings)
    digest_bots.append(restarted)
    second = Jobs(restarted, SIM_START + timedelta(hours=1))
    second.jobs.start()
    second.fire(CATCH_UP_JOB)
    second.fire(weekly)
    second.fire(monthly)
    assert len(posted(fake)) == 2


def test_a_report_killed_after_posting_is_reconciled_after_a_restart_not_reposted(
    digest_bot: DigestBot,
    digest_bots: list[DigestBot],
    sim: RunningSimulator,
    db_path: Path,
    cipher: TokenCipher,
    settings: Settings,
    fake: FakeSlack,
) -> None:
    schedule(digest_bot, WEEKLY)

    def post_then_die(channel_id: str, message: Message) -> str:
        digest_bot.post(channel_id, message)  # Slack has the message…
        raise Killed  # …and the process dies before its ts is recorded

    dying = Jobs(digest_bot, SIM_START, post=post_then_die)
    dying.jobs.sync()
    with pytest.raises(Killed):
        dying.fire(report_job_id(TEAM_ID, CHANNEL, "weekly"))
    digest_bot.close()
    digest_bots.remove(digest_bot)
    assert len(posted(fake)) == 1

    restarted = DigestBot(sim, db_path, cipher, settings)
    digest_bots.append(restarted)
    later = Jobs(restarted, SIM_START + timedelta(minutes=10))
    later.jobs.start()
    later.fire(CATCH_UP_JOB)
    assert len(posted(fake)) == 1  # found in the channel by its marker, recorded, not reposted
    record = restarted.store.weekly_digests.get(TEAM_ID, CHANNEL, date(2026, 11, 19))
    assert record is not None
    assert record.posted_ts is not None
    assert posted(fake)[0]["metadata"]["event_payload"]["marker"] == (
        f"engagement-weekly:{CHANNEL}:2026-11-19"
    )
    status = run_report(
        restarted.store.channels.settings(TEAM_ID, CHANNEL),
        period=Period.WEEKLY,
        span=Span(date(2026, 11, 19), date(2026, 11, 25)),
        now=SIM_START + timedelta(hours=2),
        deps=restarted.deps,
        post=restarted.post,
    ).status
    assert status is Status.ALREADY_POSTED


def test_a_settings_change_adds_and_removes_report_jobs(digest_bot: DigestBot) -> None:
    jobs = Jobs(digest_bot, SIM_START)
    daily = build_scheduler(
        store=digest_bot.store,
        deps=digest_bot.deps,
        post=digest_bot.post,
        clock=lambda: SIM_START,
        scheduler=jobs.aps,
    )
    both = ScheduledJobs(daily, jobs.jobs)
    weekly = report_job_id(TEAM_ID, CHANNEL, "weekly")
    schedule(digest_bot, WEEKLY)
    both.on_settings_changed(TEAM_ID, CHANNEL)
    assert weekly in {j.id for j in jobs.aps.get_jobs()}
    digest_bot.store.digest_schedules.remove(TEAM_ID, CHANNEL, "weekly")
    both.on_settings_changed(TEAM_ID, CHANNEL)
    assert weekly not in {j.id for j in jobs.aps.get_jobs()}
