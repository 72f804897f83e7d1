"""Alert follow-ups: a Post firing again after its cooldown is a reply in the first alert's
thread, and a pass killed after Slack accepted such a reply finds it there (a reply is not in
conversations.history) instead of posting it twice. On the fake Slack's non-Marketplace mode,
whose messages get distinct ts and whose threads conversations.replies lists."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from bot.channels.alerts import run_alert_pass
from bot.channels.outbox import Unanswered, Window
from bot.config import Settings
from bot.engagement.windows import floor_hour
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from bot.slack.outbox import history_page, slack_finder, without_rate_limit_retries
from bot.slack.reconcile import Reconciler
from bot.slack.web import build_web_client
from bot.store.cipher import TokenCipher
from tests.channels.test_alerts import Killed, spiked_channel
from tests.support.alert_bot import (
    CHANNEL,
    HOUR,
    AlertBot,
    add_spike,
    advance,
    alert_posts,
    sim_now,
)
from tests.support.clocks import WallClock
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.support.universe import SIM_START

LATER = timedelta(hours=7)  # past the cooldown, and the first spike out of the next's baseline


@contextmanager
def threaded_slack(
    sim: RunningSimulator, tmp_path: Path, cipher: TokenCipher
) -> Iterator[tuple[WallClock, FakeSlack, Settings, Callable[[], AlertBot]]]:
    wall = WallClock(sim_now(sim))
    with FakeSlack(non_marketplace=True, clock=wall.epoch) as strict:
        settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=strict.api_url, timezone="UTC")
        bots: list[AlertBot] = []

        def make() -> AlertBot:
            bots.append(AlertBot(sim, tmp_path / "engagement.db", cipher, settings))
            return bots[-1]

        try:
            yield wall, strict, settings, make
        finally:
            for made in bots:
                made.close()


def spike_again(sim: RunningSimulator, wall: WallClock, post_id: str) -> None:
    """LATER on both clocks, and the hour just gone spikes."""
    advance(sim, LATER)
    wall.advance(LATER)
    add_spike(sim, post_id, floor_hour(wall()) - HOUR)


def test_a_post_firing_again_after_its_cooldown_alerts_in_the_first_alerts_thread(
    sim: RunningSimulator, tmp_path: Path, cipher: TokenCipher
) -> None:
    with threaded_slack(sim, tmp_path, cipher) as (wall, strict, settings, make):
        bot, post_id = spiked_channel(make, sim)
        [first] = run_alert_pass(now=wall(), deps=bot.deps, post=bot.post, clock=wall)
        spike_again(sim, wall, post_id)
        [again] = run_alert_pass(now=wall(), deps=bot.deps, post=bot.post, clock=wall)

        assert again.post_id == post_id
        assert again.hour == floor_hour(wall()) - HOUR
        assert first.message_ts is not None
        assert again.message_ts is not None
        assert again.message_ts != first.message_ts
        opening, follow_up = alert_posts(strict)
        assert "thread_ts" not in opening  # the first alert is in the channel
        assert follow_up["thread_ts"] == first.message_ts
        assert f"https://x.com/sim_brand/status/{post_id}" in str(follow_up["blocks"])

        web = build_web_client(settings, token=BOT_TOKEN)
        channel = web.conversations_history(channel=CHANNEL)["messages"]
        assert [m["ts"] for m in channel] == [first.message_ts]
        thread = web.conversations_replies(channel=CHANNEL, ts=first.message_ts)["messages"]
        assert [m["ts"] for m in thread] == [first.message_ts, again.message_ts]


def test_a_pass_killed_after_slack_accepted_a_follow_up_finds_it_in_the_thread(
    sim: RunningSimulator, tmp_path: Path, cipher: TokenCipher
) -> None:
    with threaded_slack(sim, tmp_path, cipher) as (wall, strict, settings, make):
        bot, post_id = spiked_channel(make, sim)
        [first] = run_alert_pass(now=wall(), deps=bot.deps, post=bot.post, clock=wall)
        spike_again(sim, wall, post_id)
        accepted: list[str] = []

        def post_then_die(channel: str, message: Message) -> str:
            accepted.append(bot.post(channel, message))
            raise Killed

        with pytest.raises(Killed):
            run_alert_pass(now=wall(), deps=bot.deps, post=post_then_die, clock=wall)
        assert len(alert_posts(strict)) == 2
        bot.close()
        wall.advance(timedelta(minutes=15))

        restarted = make()
        web = build_web_client(settings, token=BOT_TOKEN)
        fired = run_alert_pass(
            now=wall(), deps=restarted.deps, post=restarted.post, find_posted=slack_finder(web)
        )
        assert fired == []
        assert len(alert_posts(strict)) == 2  # the follow-up was not posted again
        [rule] = restarted.store.channels.alerts(TEAM_ID, CHANNEL)
        assert restarted.store.alert_log.undelivered([rule.id]) == []
        hour = floor_hour(wall() - timedelta(minutes=15)) - HOUR
        recorded = restarted.store.alert_log.get(rule.id, post_id, hour)
        assert recorded is not None
        assert recorded.message_ts == accepted[0]
        [search] = strict.api_calls("conversations.replies")
        assert search.body["ts"] == first.message_ts  # searched in the first alert's thread


def test_a_follow_up_posted_before_its_first_alert_was_recorded_is_found_in_the_channel(
    sim: RunningSimulator, tmp_path: Path, cipher: TokenCipher
) -> None:
    """The first alert's pass died after Slack took it, and the next pass could not search for
    it (throttled) yet posted the follow-up, in the channel, then died too: once the first
    alert is found, the follow-up is looked for where it went, not in the thread."""
    with threaded_slack(sim, tmp_path, cipher) as (wall, strict, settings, make):
        bot, post_id = spiked_channel(make, sim)
        accepted: list[str] = []

        def post_then_die(channel: str, message: Message) -> str:
            accepted.append(bot.post(channel, message))
            raise Killed

        def throttled(channel: str, marker: str, window: Window | None = None) -> str | None:
            raise Unanswered("conversations.history: throttled")

        with pytest.raises(Killed):
            run_alert_pass(now=wall(), deps=bot.deps, post=post_then_die, clock=wall)
        spike_again(sim, wall, post_id)
        with pytest.raises(Killed):
            run_alert_pass(
                now=wall(), deps=bot.deps, post=post_then_die, clock=wall, find_posted=throttled
            )
        opening, follow_up = alert_posts(strict)
        assert "thread_ts" not in follow_up  # its first alert was not recorded: the channel
        bot.close()
        wall.advance(timedelta(minutes=15))

        restarted = make()
        web = without_rate_limit_retries(build_web_client(settings, token=BOT_TOKEN))
        finder = slack_finder(web, patience=120, sleep=wall.sleep)
        assert (
            run_alert_pass(now=wall(), deps=restarted.deps, post=restarted.post, find_posted=finder)
            == []
        )
        assert len(alert_posts(strict)) == 2  # neither posted again
        [rule] = restarted.store.channels.alerts(TEAM_ID, CHANNEL)
        assert restarted.store.alert_log.undelivered([rule.id]) == []
        recorded = restarted.store.alert_log.get(rule.id, post_id, floor_hour(SIM_START) - HOUR)
        assert recorded is not None
        assert recorded.message_ts == accepted[0]


def test_runs_paced_reconciler_searches_an_unrecorded_follow_up_in_the_thread(
    sim: RunningSimulator, tmp_path: Path, cipher: TokenCipher
) -> None:
    """`run`'s searches wait in the per-workspace queue (bot.slack.reconcile): a follow-up's
    goes there too, as conversations.replies of its first alert."""
    with threaded_slack(sim, tmp_path, cipher) as (wall, strict, settings, make):
        bot, post_id = spiked_channel(make, sim)
        [first] = run_alert_pass(now=wall(), deps=bot.deps, post=bot.post, clock=wall)
        spike_again(sim, wall, post_id)
        accepted: list[str] = []

        def post_then_die(channel: str, message: Message) -> str:
            accepted.append(bot.post(channel, message))
            raise Killed

        with pytest.raises(Killed):
            run_alert_pass(now=wall(), deps=bot.deps, post=post_then_die, clock=wall)
        hour = floor_hour(wall()) - HOUR
        bot.close()
        wall.advance(timedelta(minutes=15))

        restarted = make()
        web = without_rate_limit_retries(build_web_client(settings, token=BOT_TOKEN))
        queued = Reconciler(
            history_page(web), team_of=lambda channel: None, clock=wall, sleep=wall.sleep
        )
        fired = run_alert_pass(
            now=wall(), deps=restarted.deps, post=restarted.post, find_posted=queued, clock=wall
        )
        assert fired == []
        assert len(alert_posts(strict)) == 2
        [rule] = restarted.store.channels.alerts(TEAM_ID, CHANNEL)
        recorded = restarted.store.alert_log.get(rule.id, post_id, hour)
        assert recorded is not None
        assert recorded.message_ts == accepted[0]
        assert [c.body["ts"] for c in strict.api_calls("conversations.replies")] == [
            first.message_ts
        ]
        assert strict.api_calls("conversations.history") == []
