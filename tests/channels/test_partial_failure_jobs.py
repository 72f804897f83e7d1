"""Partial failure stays partial in the scheduled jobs: a channel tracking a protected account
still gets its digest on time and its alerts, covering the other accounts.

End to end: the X simulator over loopback, a real SQLite file, the fake Slack; the scheduler is
never started, its job is fired by the injected clock's time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from bot.engagement.models import UserAuth
from bot.engagement.windows import floor_hour
from bot.jobs.scheduler import build_scheduler, job_id
from bot.simulator.server import RunningSimulator
from bot.store.channels import ChannelSettings
from tests.support.alert_bot import CHANNEL as ALERT_CHANNEL
from tests.support.alert_bot import add_spike, alert_posts, brand_post
from tests.support.digest_bot import CHANNEL as DIGEST_CHANNEL
from tests.support.digest_bot import DAY, DigestBot, posted
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.slack_app import sim_admin, track_before_it_went_protected
from tests.support.universe import SIM_START


def test_digest_of_a_channel_tracking_a_protected_account_posts_on_time_with_the_other_posts(
    digest_bot: DigestBot, fake: FakeSlack
) -> None:
    """The scheduled job, fired at its time by the injected clock: the digest goes out at once
    (no retry is queued), covering sim_brand's Posts and naming sim_private as left out."""
    store = digest_bot.store
    track_before_it_went_protected(store, DIGEST_CHANNEL, "sim_private")
    settings = store.channels.settings(TEAM_ID, DIGEST_CHANNEL)
    # 07:30 in New York is SIM_START: the digest of Wed 25 Nov is due exactly now.
    store.channels.save_settings(replace(settings, digest_time="07:30"), now=SIM_START)
    aps = BackgroundScheduler(timezone=UTC)
    scheduler = build_scheduler(
        store=store,
        deps=digest_bot.deps,
        post=digest_bot.post,
        clock=lambda: SIM_START,
        scheduler=aps,
    )
    scheduler.sync()
    job = {j.id: j for j in aps.get_jobs()}[job_id(TEAM_ID, DIGEST_CHANNEL)]
    assert job.trigger.get_next_fire_time(None, SIM_START - timedelta(minutes=1)) == SIM_START

    job.func(*job.args, **job.kwargs)

    [digest] = posted(fake)
    text = str(digest["blocks"])
    assert digest["channel"] == DIGEST_CHANNEL
    assert "x.com/sim_brand/status/" in text
    assert "Left out: @sim_private (protected" in text
    assert "late" not in digest["text"].lower()
    assert not [j for j in aps.get_jobs() if j.id.startswith("digest-retry:")]
    assert store.digests.last_digest_date(TEAM_ID, DIGEST_CHANNEL) == DAY


def test_alert_pass_fires_for_the_other_accounts_when_one_is_protected(
    make_alert_bot: Any, sim: RunningSimulator, fake: FakeSlack
) -> None:
    alert_bot = make_alert_bot()
    store = alert_bot.store
    store.accounts.save(
        user_id="1000000001",
        screen_name="sim_brand",
        auth=UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand"),
        workspace=None,
        now=SIM_START,
    )
    store.channels.save_settings(ChannelSettings(TEAM_ID, ALERT_CHANNEL), now=SIM_START)
    store.channels.track(
        TEAM_ID, ALERT_CHANNEL, kind="account", refs=["sim_brand"], by="U1", now=SIM_START
    )
    track_before_it_went_protected(store, ALERT_CHANNEL, "sim_private")
    store.channels.add_alert(
        TEAM_ID, ALERT_CHANNEL, kind="spike", sensitivity="medium", by="U1", now=SIM_START
    )
    post_id = brand_post(sim, older_than=timedelta(hours=12))
    add_spike(sim, post_id, floor_hour(SIM_START) - timedelta(hours=1))

    fired = alert_bot.check()

    assert [f.post_id for f in fired] == [post_id]
    assert len(alert_posts(fake)) == 1


def test_a_digest_whose_post_lookup_is_rate_limited_says_author_unknown_not_not_owned(
    digest_bot: DigestBot, sim: RunningSimulator, fake: FakeSlack
) -> None:
    # sim_creator is connected too, but the channel tracks only one of its Posts, by ID: its
    # author is known from a lookup alone (no timeline of sim_creator is read).
    digest_bot.store.accounts.save(
        user_id="1000000002",
        screen_name="sim_creator",
        auth=UserAuth("1000000002-simtoken-sim_creator", "simsecret-sim_creator"),
        workspace=None,
        now=SIM_START,
    )
    theirs = sim_admin(sim, "GET", "posts?author=sim_creator")["posts"][8]["id"]  # ~30 h old
    digest_bot.store.channels.track(
        TEAM_ID, DIGEST_CHANNEL, kind="post", refs=[theirs], by="U1", now=SIM_START
    )
    sim_admin(sim, "PUT", "options", {"rate_limit_v2_lookup": 0})

    assert digest_bot.digest().status.value == "posted"

    [digest] = posted(fake)
    text = str(digest["blocks"])
    assert "Left out: 1 Post (X didn't say who wrote it just now" in text
    assert "not written by a connected account" not in text
