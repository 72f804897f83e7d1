"""Reconciling after a restart under a non-Marketplace app's limits (conversations.history: one
call a minute per workspace, 15 messages a page), end to end: the X simulator over HTTP, a
SQLite file, the loopback fake Slack in its non-Marketplace mode, the real scheduler (fired by
hand, never left running) and bot.slack.reconcile.Reconciler, all on one injected wall clock."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from bot.channels.digest import Status, run_digest
from bot.channels.outbox import attempt_window
from bot.config import Settings
from bot.jobs.scheduler import DigestScheduler, build_scheduler
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from bot.slack.outbox import history_page, without_rate_limit_retries
from bot.slack.reconcile import DEADLINE, Reconciler
from bot.store.channels import ChannelSettings
from bot.store.cipher import TokenCipher
from tests.support.clocks import WallClock
from tests.support.digest_bot import BRAND, DigestBot, Killed
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.support.universe import SIM_START

CRASHED = [f"C0CRASH{n:02d}" for n in range(30)]  # digest at 12:30, killed after posting
DUE_AT_RESTART = ["C0DUE1", "C0DUE2"]  # digest at 12:40, when the bot comes back
DUE_LATER = "C0DUE3"  # digest at 12:50, while the searches are still under way
RESTART = SIM_START + timedelta(minutes=10)  # SIM_START is 12:30 UTC


@pytest.fixture
def wall() -> WallClock:
    return WallClock(SIM_START)


@pytest.fixture
def strict(wall: WallClock) -> Iterator[FakeSlack]:
    with FakeSlack(non_marketplace=True, clock=wall.epoch) as running:
        yield running


@pytest.fixture
def make_bot(
    sim: RunningSimulator, tmp_path: Path, strict: FakeSlack
) -> Iterator[Callable[[], DigestBot]]:
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=strict.api_url, timezone="UTC")
    cipher = TokenCipher.generate()
    made: list[DigestBot] = []

    def make() -> DigestBot:
        made.append(DigestBot(sim, tmp_path / "engagement.db", cipher, settings))
        return made[-1]

    yield make
    for bot in made:
        bot.close()


def digest_channel(bot: DigestBot, channel: str, at: str) -> None:
    bot.store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=SIM_START
    )
    bot.store.channels.save_settings(
        ChannelSettings(TEAM_ID, channel, digest_enabled=True, digest_time=at, timezone="UTC"),
        now=SIM_START,
    )
    bot.store.channels.track(
        TEAM_ID, channel, kind="account", refs=["sim_brand"], by="U1", now=SIM_START
    )


def messages_in(fake: FakeSlack, channel: str) -> list[dict[str, Any]]:
    return [
        c.body
        for c in fake.api_calls("chat.postMessage")
        if c.status == 200 and c.body.get("channel") == channel
    ]


def paced(bot: DigestBot, wall: WallClock, sleep: Callable[[float], None]) -> Reconciler:
    pages = history_page(without_rate_limit_retries(bot.web))
    return Reconciler(pages, team_of=lambda channel: None, clock=wall, sleep=sleep)


def restarted_scheduler(bot: DigestBot, wall: WallClock, reconciler: Reconciler) -> DigestScheduler:
    """`run`'s scheduler (bot/app.py digest_jobs), with a scheduler that is never started."""
    return build_scheduler(
        store=bot.store,
        deps=bot.deps,
        post=bot.post,
        clock=wall,
        scheduler=BackgroundScheduler(timezone="UTC"),
        run_digest=partial(run_digest, find_posted=reconciler, clock=wall),
        reconciler=reconciler,
    )


def crash_after_posting(bot: DigestBot, wall: WallClock, channels: list[str]) -> dict[str, str]:
    """Each channel's digest run dies once Slack has its message; channel → the ts Slack gave."""
    accepted: dict[str, str] = {}

    def post_then_die(channel_id: str, message: Message) -> str:
        accepted[channel_id] = bot.post(channel_id, message)
        raise Killed

    first = build_scheduler(
        store=bot.store,
        deps=bot.deps,
        post=post_then_die,
        clock=wall,
        scheduler=BackgroundScheduler(timezone="UTC"),
    )
    for channel in channels:
        with pytest.raises(Killed):
            first.run_channel(TEAM_ID, channel, now=wall())
    return accepted


def fire_retries(sched: DigestScheduler) -> None:
    for job in sched.scheduler.get_jobs():
        if job.id.startswith("digest-retry:"):
            job.func(*job.args)


def test_thirty_channels_to_reconcile_after_a_restart_are_settled_at_slacks_pace(
    make_bot: Callable[[], DigestBot], wall: WallClock, strict: FakeSlack
) -> None:
    bot = make_bot()
    for channel in CRASHED:
        digest_channel(bot, channel, "12:30")
    for channel in DUE_AT_RESTART:
        digest_channel(bot, channel, "12:40")
    digest_channel(bot, DUE_LATER, "12:50")
    accepted = crash_after_posting(bot, wall, CRASHED)
    assert len(accepted) == len(CRASHED)
    bot.close()
    for channel in CRASHED:  # busy: 20 messages each, 30 s apart (the newest page has 15)
        strict.others_post(channel, 20, every=30)
    wall.advance(RESTART - wall())

    restarted = make_bot()
    posted_at: dict[str, Any] = {}

    def sleep(seconds: float) -> None:  # the reconciler's waits; APScheduler fires meanwhile
        wall.sleep(seconds)
        if DUE_LATER not in posted_at and wall() >= SIM_START + timedelta(minutes=20):
            sched.run_channel(TEAM_ID, DUE_LATER, now=wall())
            posted_at[DUE_LATER] = (wall(), reconciler.pending())

    reconciler = paced(restarted, wall, sleep)
    sched = restarted_scheduler(restarted, wall, reconciler)
    sched.sync()
    sched.catch_up(wall())

    # The due digests went out at the restart, the searches did not hold them up.
    for channel in DUE_AT_RESTART:
        assert len(messages_in(strict, channel)) == 1
    assert wall() == RESTART
    assert reconciler.pending() == len(CRASHED) - 1  # the first was answered at once
    assert all(len(messages_in(strict, channel)) == 1 for channel in CRASHED)  # none reposted

    reconciler.drain()
    fire_retries(sched)

    # The 12:50 digest went out at 12:50, with most searches still queued.
    when, queued = posted_at[DUE_LATER]
    assert when - (SIM_START + timedelta(minutes=20)) < timedelta(minutes=1)
    assert queued > 10
    assert len(messages_in(strict, DUE_LATER)) == 1
    for channel in CRASHED:
        assert len(messages_in(strict, channel)) == 1
        record = restarted.store.digests.get(TEAM_ID, channel, SIM_START.date() - timedelta(days=1))
        assert record is not None
        assert record.posted_ts == accepted[channel]
    assert strict.unhonoured_429s() == []
    assert len(strict.throttled()) == 1  # the one that taught the bot the workspace's pace
    assert reconciler.pending() == 0
    # one call a minute: 30 searches in a little over 29 minutes
    assert wall() - RESTART < timedelta(minutes=31)


def test_a_search_throttled_past_its_deadline_is_reported_and_retried_never_reposted(
    make_bot: Callable[[], DigestBot],
    wall: WallClock,
    strict: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = make_bot()
    channel = CRASHED[0]
    digest_channel(bot, channel, "12:30")
    accepted = crash_after_posting(bot, wall, [channel])
    bot.close()
    wall.advance(RESTART - wall())
    # Another app of the same workspace spends every history call for the next 15 minutes.
    strict.fail_next("conversations.history", status=429, retry_after=60, times=15)

    restarted = make_bot()
    checked: list[Status] = []

    def sleep(seconds: float) -> None:
        wall.sleep(seconds)
        outcome = run_digest(
            restarted.store.channels.settings(TEAM_ID, channel),
            local_date=None,
            now=wall(),
            deps=restarted.deps,
            post=restarted.post,
            find_posted=reconciler,
        )
        checked.append(outcome.status)

    reconciler = paced(restarted, wall, sleep)
    with caplog.at_level(logging.WARNING, logger="bot.slack.reconcile"):
        first = run_digest(
            restarted.store.channels.settings(TEAM_ID, channel),
            local_date=None,
            now=wall(),
            deps=restarted.deps,
            post=restarted.post,
            find_posted=reconciler,
        )
        assert first.status is Status.UNRECONCILED
        reconciler.drain()

    assert "throttled the search for" in caplog.text
    assert wall() - RESTART >= DEADLINE
    # Every run while Slack would not answer left the digest unreconciled, and none posted.
    assert set(checked[:-1]) == {Status.UNRECONCILED}
    later = run_digest(
        restarted.store.channels.settings(TEAM_ID, channel),
        local_date=None,
        now=wall(),
        deps=restarted.deps,
        post=restarted.post,
        find_posted=reconciler,
    )
    assert Status.RECONCILED in (later.status, checked[-1])
    assert len(messages_in(strict, channel)) == 1
    record = restarted.store.digests.get(TEAM_ID, channel, SIM_START.date() - timedelta(days=1))
    assert record is not None
    assert record.posted_ts == accepted[channel]


def test_a_channel_that_refuses_the_search_is_paused_not_posted_over(
    make_bot: Callable[[], DigestBot], wall: WallClock, strict: FakeSlack
) -> None:
    bot = make_bot()
    channel = CRASHED[0]
    digest_channel(bot, channel, "12:30")
    crash_after_posting(bot, wall, [channel])
    bot.close()
    wall.advance(RESTART - wall())
    strict.not_member.add(channel)  # the bot was removed from the channel meanwhile

    restarted = make_bot()
    reconciler = paced(restarted, wall, wall.sleep)
    reconciler(CRASHED[1], "another search", attempt_window(SIM_START))  # takes this minute
    sched = restarted_scheduler(restarted, wall, reconciler)
    sched.run_channel(TEAM_ID, channel, now=wall())  # its search waits for the next minute
    assert restarted.store.channels.settings(TEAM_ID, channel).paused_reason is None
    reconciler.drain()
    sched.run_channel(TEAM_ID, channel, now=wall())  # Slack's answer: not_in_channel

    settings = restarted.store.channels.settings(TEAM_ID, channel)
    assert settings.paused_reason is not None
    assert "removed" in settings.paused_reason
    assert len(messages_in(strict, channel)) == 1
    record = restarted.store.digests.get(TEAM_ID, channel, SIM_START.date() - timedelta(days=1))
    assert record is not None
    assert record.posted_ts is None  # still to be checked once someone resumes the channel
    assert record.attempted_at == SIM_START
