"""Alerts: the pure rules, then end to end — the X simulator over HTTP, a SQLite file, a
loopback fake Slack; only the clocks are injected (the simulator's via /_sim/clock)."""

from __future__ import annotations

import collections
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from bot.channels.alert_rules import (
    MIN_SPIKE_COUNT,
    cooled_down,
    in_quiet_hours,
    parse_clock,
    spike,
    threshold_hit,
)
from bot.channels.alerts import COOLDOWN, run_alert_pass
from bot.channels.deps import Deps
from bot.config import Settings
from bot.engagement.models import UserAuth
from bot.engagement.windows import floor_hour
from bot.render.alerts import AlertLine, alert_message
from bot.render.message import Message
from bot.simulator.server import RunningSimulator
from bot.slack.outbox import history_page, slack_finder, without_rate_limit_retries
from bot.slack.reconcile import Reconciler
from bot.slack.web import build_web_client
from bot.store import Store
from bot.store.alert_log import Firing
from bot.store.channels import AlertRule, ChannelSettings, Coverage
from bot.store.cipher import TokenCipher
from tests.support.alert_bot import (
    CHANNEL,
    HOUR,
    AlertBot,
    SimPacedClock,
    add_spike,
    advance,
    alert_posts,
    brand_post,
    sim_now,
)
from tests.support.clocks import WallClock
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.support.slack_limits import assert_valid_message
from tests.support.universe import SIM_START, point_env_at

BRAND = UserAuth("1000000001-simtoken-sim_brand", "simsecret-sim_brand")
ZONE = "America/New_York"

# --- pure rules --------------------------------------------------------------------------------


def test_a_spike_is_a_multiple_of_the_baseline_with_volume() -> None:
    found = spike([100, 110, 90, 100, 95, 105, 400], "medium")
    assert found is not None
    assert found.value == 400
    assert found.baseline == pytest.approx(100)
    assert spike([100, 110, 90, 100, 95, 105, 250], "medium") is None
    assert spike([100, 110, 90, 100, 95, 105, 250], "high") is not None
    assert spike([100, 110, 90, 100, 95, 105, 400], "low") is None


def test_a_small_jump_is_no_spike_however_many_times_the_baseline() -> None:
    assert spike([2, 2, 2, 2, 2, 2, 8], "high") is None
    assert spike([0, 0, 0, 0, MIN_SPIKE_COUNT - 1], "high") is None
    assert spike([0, 0, 0, 0, MIN_SPIKE_COUNT], "high") is not None
    assert spike([40, 40, 40, 40, 75], "high") is None  # +35 and ≥ 50, but under 2×


def test_a_spike_needs_enough_hours_before_it() -> None:
    assert spike([0, 0, 500], "high") is None
    assert spike([0, 0, 0, 500], "high") is not None


def test_the_baseline_is_the_mean_of_the_six_hours_before() -> None:
    found = spike([10_000, 10, 10, 10, 10, 10, 10, 200], "medium")
    assert found is not None
    assert found.baseline == pytest.approx(10)


def test_threshold_means_more_than_n() -> None:
    assert threshold_hit(101, 100)
    assert not threshold_hit(100, 100)
    assert not threshold_hit(None, 100)


def test_quiet_hours_within_a_day_and_across_midnight() -> None:
    assert in_quiet_hours(time(13, 0), time(12, 0), time(14, 0))
    assert not in_quiet_hours(time(14, 0), time(12, 0), time(14, 0))
    assert in_quiet_hours(time(23, 30), time(22, 0), time(7, 0))
    assert in_quiet_hours(time(6, 59), time(22, 0), time(7, 0))
    assert not in_quiet_hours(time(7, 0), time(22, 0), time(7, 0))
    assert not in_quiet_hours(time(12, 0), time(9, 0), time(9, 0))
    assert not in_quiet_hours(time(12, 0), None, None)
    assert parse_clock("07:05") == time(7, 5)
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock("7pm")


def test_cooldown() -> None:
    now = SIM_START
    assert cooled_down(None, now, COOLDOWN)
    assert not cooled_down(now - COOLDOWN + timedelta(seconds=1), now, COOLDOWN)
    assert cooled_down(now - COOLDOWN, now, COOLDOWN)


def test_alert_messages_fit_slacks_limits() -> None:
    rule = AlertRule(1, TEAM_ID, CHANNEL, "spike", None, None, None, None, "high", "U1", SIM_START)
    covers = Coverage(("1790000000000000002",), ("sim_brand",))
    threshold = replace(rule, id=2, kind="threshold", metric="favorites", threshold=100)
    hour = floor_hour(SIM_START) - HOUR
    lines = [
        AlertLine(
            Firing(1, "1790000000000000001", hour, "impressions", 9_000, 300.5, SIM_START), rule
        ),
        AlertLine(
            Firing(2, "1790000000000000002", hour, "favorites", 150, None, SIM_START), threshold
        ),
    ]
    authors = {"1790000000000000001": "sim_brand", "1790000000000000002": None}
    for count in (1, 2, 200):
        message = alert_message(
            (lines * 100)[:count],
            authors=authors,
            zone=ZoneInfo(ZONE),
            held=count > 1,
            coverage=covers,
        )
        assert_valid_message(message)
        assert not message.ephemeral
    text = str(
        alert_message(
            lines, authors=authors, zone=ZoneInfo(ZONE), held=False, coverage=covers
        ).blocks
    )
    assert "https://x.com/sim_brand/status/1790000000000000001" in text
    assert "06:00–07:00" in text  # 11:00 UTC, New York
    # The rule in the wording of the confirmation and of `/engagement alerts`.
    covered = "the connected accounts' Posts among this channel's tracked Posts and accounts"
    assert f"(alert #2: Likes above 100/hour on {covered} (@sim_brand, 1 Post))" in text
    assert "the baseline of 300.5/h (alert #1: Spikes (high sensitivity) on" in text


# --- end to end --------------------------------------------------------------------------------


def set_clock(sim: RunningSimulator, when: datetime) -> None:
    reply = requests.post(
        f"{sim.url}/_sim/clock", json={"now": f"{when:%Y-%m-%dT%H:%M:%SZ}"}, timeout=30
    )
    reply.raise_for_status()


def sim_hours(sim: RunningSimulator, post_id: str, metric: str, end: datetime) -> dict[str, int]:
    start = end - 8 * HOUR
    reply = requests.get(
        f"{sim.url}/_sim/series?tweet_id={post_id}&metrics={metric}"
        f"&start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}",
        timeout=30,
    )
    reply.raise_for_status()
    return dict(reply.json()["buckets"][metric])


def set_up(store: Store, post_id: str, **quiet: str) -> None:
    store.accounts.save(
        user_id="1000000001", screen_name="sim_brand", auth=BRAND, workspace=None, now=SIM_START
    )
    store.channels.save_settings(
        ChannelSettings(TEAM_ID, CHANNEL, timezone=ZONE, **quiet),
        now=SIM_START,  # type: ignore[arg-type]
    )
    store.channels.track(TEAM_ID, CHANNEL, kind="post", refs=[post_id], by="U1", now=SIM_START)


def test_an_injected_spike_alerts_once_and_not_again_in_the_cooldown_or_after_a_restart(
    make_alert_bot: Any, sim: RunningSimulator, fake: FakeSlack
) -> None:
    bot = make_alert_bot()
    post_id = brand_post(sim, older_than=timedelta(hours=12))
    set_up(bot.store, post_id)
    bot.store.channels.add_alert(
        TEAM_ID, CHANNEL, kind="spike", sensitivity="medium", by="U1", now=SIM_START
    )
    assert bot.check() == []  # nothing unusual yet
    assert alert_posts(fake) == []

    hour = floor_hour(SIM_START) - HOUR
    add_spike(sim, post_id, hour)
    [firing] = bot.check()

    assert firing.post_id == post_id
    assert firing.hour == hour
    assert firing.metric == "impressions"
    assert (
        firing.value
        == sim_hours(sim, post_id, "impressions", hour + HOUR)[f"{hour:%Y-%m-%dT%H:00:00Z}"]
    )
    assert firing.baseline is not None
    assert firing.value >= 3 * firing.baseline
    assert firing.message_ts is not None
    [body] = alert_posts(fake)
    text = str(body["blocks"])
    assert f"https://x.com/sim_brand/status/{post_id}" in text
    assert "Spike" in text
    assert "impressions" in text
    local = hour.astimezone(ZoneInfo(ZONE))
    assert f"{local:%H:%M}–" in text

    advance(sim, timedelta(minutes=15))
    assert bot.check() == []
    advance(sim, HOUR)  # a new hour, the spike's own is over; inside the cooldown anyway
    add_spike(sim, post_id, hour + HOUR)
    assert bot.check() == []
    assert len(alert_posts(fake)) == 1

    bot.close()
    restarted = make_alert_bot()
    assert restarted.check() == []
    assert len(alert_posts(fake)) == 1


def test_a_threshold_rule_fires_for_the_hour_that_crossed_it(
    make_alert_bot: Any, sim: RunningSimulator, fake: FakeSlack
) -> None:
    bot = make_alert_bot()
    post_id = brand_post(sim, older_than=timedelta(hours=12))
    set_up(bot.store, post_id)
    hour = floor_hour(SIM_START) - HOUR
    add_spike(sim, post_id, hour + HOUR, multiplier=20)
    advance(sim, HOUR)  # read both hours complete, then go back
    buckets = sim_hours(sim, post_id, "impressions", hour + 2 * HOUR)
    set_clock(sim, SIM_START)
    first, second = (buckets[f"{h:%Y-%m-%dT%H:00:00Z}"] for h in (hour, hour + HOUR))
    assert second > first
    limit = (first + second) // 2
    bot.store.channels.add_alert(
        TEAM_ID, CHANNEL, kind="threshold", metric="impressions", threshold=limit, post_id=post_id,
        by="U1", now=SIM_START,
    )  # fmt: skip

    assert bot.check() == []  # judging `hour`: below the threshold
    advance(sim, HOUR)
    [firing] = bot.check()  # judging `hour + 1 h`
    assert firing.hour == hour + HOUR
    assert firing.value == second
    [body] = alert_posts(fake)
    local = (hour + HOUR).astimezone(ZoneInfo(ZONE))
    assert f"{local:%H:%M}–{local + HOUR:%H:%M}" in str(body["blocks"])
    assert f"Impressions above {limit:,}/hour on" in str(body["blocks"])


def test_quiet_hours_hold_alerts_and_deliver_them_when_they_end(
    make_alert_bot: Any, sim: RunningSimulator, fake: FakeSlack
) -> None:
    bot = make_alert_bot()
    post_id = brand_post(sim, older_than=timedelta(hours=12))
    now = SIM_START  # 07:30 in New York
    set_up(bot.store, post_id, quiet_start="07:00", quiet_end="08:45")
    hour = floor_hour(now) - HOUR
    add_spike(sim, post_id, hour)
    bot.store.channels.add_alert(
        TEAM_ID, CHANNEL, kind="spike", sensitivity="high", by="U1", now=now
    )

    [held] = bot.check()
    assert held.delivered_at is None
    assert alert_posts(fake) == []
    advance(sim, timedelta(minutes=30))  # 08:00: still quiet
    assert bot.check() == []
    assert alert_posts(fake) == []

    advance(sim, timedelta(minutes=45))  # 08:45: the quiet hours are over
    assert bot.check() == []  # nothing new fired …
    [body] = alert_posts(fake)  # … but the held one is delivered
    assert f"https://x.com/sim_brand/status/{post_id}" in str(body["blocks"])
    assert "quiet hours" in str(body["blocks"])
    stored = bot.store.alert_log.get(held.rule_id, held.post_id, held.hour)
    assert stored is not None
    assert stored.message_ts is not None
    assert stored.delivered_at is not None

    advance(sim, timedelta(minutes=15))
    assert bot.check() == []
    assert len(alert_posts(fake)) == 1


def test_a_snoozed_channel_is_not_evaluated(
    make_alert_bot: Any, sim: RunningSimulator, fake: FakeSlack
) -> None:
    bot = make_alert_bot()
    post_id = brand_post(sim, older_than=timedelta(hours=12))
    set_up(bot.store, post_id)
    add_spike(sim, post_id, floor_hour(SIM_START) - HOUR)
    bot.store.channels.add_alert(
        TEAM_ID, CHANNEL, kind="spike", sensitivity="high", by="U1", now=SIM_START
    )
    settings = bot.store.channels.settings(TEAM_ID, CHANNEL)
    bot.store.channels.save_settings(
        replace(settings, snoozed_until=SIM_START + HOUR), now=SIM_START
    )
    assert bot.check() == []
    assert alert_posts(fake) == []


def sim_admin(sim: RunningSimulator, method: str, path: str, body: Any = None) -> Any:
    reply = requests.request(method, f"{sim.url}/_sim/{path}", json=body, timeout=60)
    reply.raise_for_status()
    return reply.json()


def test_unowned_posts_alert_on_hourly_deltas_of_totals_snapshots(
    make_alert_bot: Any, sim: RunningSimulator, fake: FakeSlack
) -> None:
    bot = make_alert_bot()
    creator = [
        p for p in sim_admin(sim, "GET", "posts?author=sim_creator")["posts"] if not p["deleted"]
    ]
    post_id = str(max(creator, key=lambda p: p["created_at"])["id"])
    set_up(bot.store, post_id)
    rule = bot.store.channels.add_alert(
        TEAM_ID, CHANNEL, kind="threshold", metric="favorites", threshold=0, post_id=post_id,
        by="U1", now=SIM_START,
    )  # fmt: skip
    assert bot.check() == []  # the first snapshot: no delta yet
    advance(sim, HOUR)
    now = sim_now(sim)
    [firing] = bot.check()
    before = bot.store.series.totals_before(post_id, "favorites", now - HOUR)
    after = bot.store.series.totals_before(post_id, "favorites", now)
    assert before is not None
    assert after is not None
    assert firing.rule_id == rule.id
    assert firing.value == after[0] - before[0] > 0
    assert firing.hour == floor_hour(now) - HOUR
    [body] = alert_posts(fake)
    assert f"/status/{post_id}" in str(body["blocks"])
    assert "@sim_creator · “" in str(body["blocks"])  # a competitor, named by handle and words


def test_an_alert_pass_over_5000_owned_posts_stays_within_the_rate_limit(
    make_alert_bot: Any, sim: RunningSimulator, fake: FakeSlack
) -> None:
    many = [{"author": "sim_brand", "age_hours": 8 + i % 500} for i in range(5000)]
    sim_admin(sim, "POST", "posts", {"posts": many})
    ids = [
        str(p["id"])
        for p in sim_admin(sim, "GET", "posts?author=sim_brand")["posts"]
        if not p["deleted"]
    ]
    assert len(ids) >= 5000
    bot = make_alert_bot(SimPacedClock(sim))
    set_up(bot.store, ids[0])
    bot.store.channels.track(TEAM_ID, CHANNEL, kind="post", refs=ids, by="U1", now=SIM_START)
    bot.store.channels.add_alert(
        TEAM_ID, CHANNEL, kind="spike", sensitivity="medium", by="U1", now=SIM_START
    )
    hour = floor_hour(SIM_START) - HOUR
    add_spike(sim, ids[-1], hour, multiplier=50)
    sim_admin(sim, "DELETE", "requests")

    fired = run_alert_pass(now=SIM_START, deps=bot.deps, post=bot.post)

    log = sim_admin(sim, "GET", "requests")["requests"]
    assert log
    statuses = collections.Counter(r["status"] for r in log)
    # Paced by the x-per-minute headers: the limiter waits for each window's reset, so X never
    # has to refuse a request, and every batch is asked exactly once.
    assert set(statuses) == {200}
    assert statuses[200] == -(-len(ids) // 25)
    per_window = collections.Counter(r["time"][:16] for r in log)
    assert max(per_window.values()) <= 60
    assert ids[-1] in {f.post_id for f in fired}
    stored = bot.store.series.hourly(ids, ["impressions"], hour, hour + HOUR)
    assert len(stored) == len(ids)  # every Post's hour was fetched and judged
    assert len(alert_posts(fake)) == 1


def test_cli_alerts_check_runs_one_pass_and_prints_what_fired(
    sim: RunningSimulator,
    fake: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot import cli
    from bot.app import open_store

    env = point_env_at(
        monkeypatch, tmp_path, sim.url, slack_api_url=fake.api_url, slack_token=BOT_TOKEN
    )

    class SimTime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> SimTime:
            return cls.fromtimestamp(SIM_START.timestamp(), tz)

    monkeypatch.setattr(cli, "datetime", SimTime)
    post_id = brand_post(sim, older_than=timedelta(hours=12))
    with open_store(Settings.from_env(env)) as store:
        set_up(store, post_id)
        store.channels.add_alert(
            TEAM_ID, CHANNEL, kind="spike", sensitivity="medium", by="U1", now=SIM_START
        )
    add_spike(sim, post_id, floor_hour(SIM_START) - HOUR)

    assert cli.main(["alerts", "check"]) == 0
    out = capsys.readouterr().out
    assert f"Post {post_id} impressions 2026-11-26T11:00Z" in out
    assert "delivered ts=" in out
    assert out.strip().endswith("alerts: 1 fired")
    assert cli.main(["alerts", "check", "--channel", CHANNEL]) == 0
    assert capsys.readouterr().out.strip() == "alerts: 0 fired"
    assert len(alert_posts(fake)) == 1
    assert cli.main(["alerts", "check", "--channel", "C0NONE"]) == 2


# --- the scheduler -----------------------------------------------------------------------------


def test_the_scheduler_runs_an_alert_pass_every_interval_with_its_clock(tmp_path: Path) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.jobs.scheduler import ALERT_INTERVAL, ALERTS_JOB, build_scheduler

    store = Store.open(tmp_path / "engagement.db", cipher=TokenCipher.generate())
    deps = Deps(service=None, store=store, settings=Settings())  # type: ignore[arg-type]
    calls: list[tuple[datetime, Deps]] = []

    def run_alerts(*, now: datetime, deps: Deps, post: Any) -> list[Firing]:
        calls.append((now, deps))
        return []

    def no_post(channel: str, message: Any) -> str:
        raise AssertionError("nothing to post")

    assert timedelta(minutes=15) == ALERT_INTERVAL
    for interval, run in ((timedelta(minutes=5), run_alerts), (ALERT_INTERVAL, None)):
        aps = BackgroundScheduler(timezone=UTC)
        sched = build_scheduler(
            store=store,
            deps=deps,
            post=no_post,
            clock=lambda: SIM_START,
            scheduler=aps,
            run_alerts=run,
            alert_interval=interval,
        )
        try:
            sched.start()
            job = aps.get_job(ALERTS_JOB)
            if run is None:
                assert job is None
                continue
            assert job.trigger.interval == interval
            job.func()
            assert calls == [(SIM_START, deps)]
        finally:
            sched.shutdown()
    store.close()


# -- a pass killed between Slack accepting the alert and recording it ---------------------------


class Killed(BaseException):
    """The process dying: nothing after it runs, no `except Exception` catches it."""


def spiked_channel(make_alert_bot: Any, sim: RunningSimulator) -> tuple[AlertBot, str]:
    """A channel with a spike rule on a Post whose last complete hour spiked."""
    bot = make_alert_bot()
    post_id = brand_post(sim, older_than=timedelta(hours=12))
    set_up(bot.store, post_id)
    bot.store.channels.add_alert(
        TEAM_ID, CHANNEL, kind="spike", sensitivity="medium", by="U1", now=SIM_START
    )
    add_spike(sim, post_id, floor_hour(SIM_START) - HOUR)
    return bot, post_id


def test_a_pass_killed_after_posting_is_reconciled_not_reposted(
    make_alert_bot: Any, sim: RunningSimulator, fake: FakeSlack, settings: Settings
) -> None:
    bot, post_id = spiked_channel(make_alert_bot, sim)

    accepted: list[str] = []

    def post_then_die(channel: str, message: Message) -> str:
        accepted.append(bot.post(channel, message))
        raise Killed

    with pytest.raises(Killed):
        run_alert_pass(now=sim_now(sim), deps=bot.deps, post=post_then_die)
    assert len(alert_posts(fake)) == 1
    bot.close()

    restarted = make_alert_bot()
    web = build_web_client(settings, token=BOT_TOKEN)
    fired = run_alert_pass(
        now=sim_now(sim), deps=restarted.deps, post=restarted.post, find_posted=slack_finder(web)
    )
    assert fired == []  # nothing new this pass
    assert len(alert_posts(fake)) == 1  # and the interrupted alert was not posted again
    [rule] = restarted.store.channels.alerts(TEAM_ID, CHANNEL)
    assert restarted.store.alert_log.undelivered([rule.id]) == []
    recorded = restarted.store.alert_log.get(rule.id, post_id, floor_hour(SIM_START) - HOUR)
    assert recorded is not None
    assert recorded.message_ts == accepted[0]


def test_an_attempt_slack_never_received_is_posted_by_the_next_pass(
    make_alert_bot: Any, sim: RunningSimulator, fake: FakeSlack, settings: Settings
) -> None:
    bot, post_id = spiked_channel(make_alert_bot, sim)

    def die_before_posting(channel: str, message: Message) -> str:
        raise Killed

    with pytest.raises(Killed):
        run_alert_pass(now=sim_now(sim), deps=bot.deps, post=die_before_posting)
    assert alert_posts(fake) == []

    web = build_web_client(settings, token=BOT_TOKEN)
    run_alert_pass(now=sim_now(sim), deps=bot.deps, post=bot.post, find_posted=slack_finder(web))
    [body] = alert_posts(fake)
    assert f"https://x.com/sim_brand/status/{post_id}" in str(body["blocks"])
    [rule] = bot.store.channels.alerts(TEAM_ID, CHANNEL)
    assert bot.store.alert_log.undelivered([rule.id]) == []


def test_under_tier1_limits_a_killed_pass_in_a_busy_channel_is_reconciled_not_reposted(
    sim: RunningSimulator, tmp_path: Path, cipher: TokenCipher
) -> None:
    wall = WallClock(sim_now(sim))
    with FakeSlack(non_marketplace=True, clock=wall.epoch) as strict:
        settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=strict.api_url, timezone="UTC")
        bots: list[AlertBot] = []

        def make() -> AlertBot:
            bots.append(AlertBot(sim, tmp_path / "engagement.db", cipher, settings))
            return bots[-1]

        try:
            bot, post_id = spiked_channel(make, sim)
            accepted: list[str] = []

            def post_then_die(channel: str, message: Message) -> str:
                accepted.append(bot.post(channel, message))
                raise Killed

            with pytest.raises(Killed):
                run_alert_pass(now=wall(), deps=bot.deps, post=post_then_die, clock=wall)
            bot.close()
            # 40 messages after the alert, 10 s apart: 31 of them in the alert's window
            wall.advance(timedelta(seconds=10))
            strict.others_post(CHANNEL, 40, every=10)
            wall.advance(timedelta(minutes=15))

            restarted = make()
            web = build_web_client(settings, token=BOT_TOKEN)
            find_posted = Reconciler(
                history_page(without_rate_limit_retries(web)),
                team_of=lambda channel: None,
                clock=wall,
                sleep=wall.sleep,
            )

            def check() -> list[Firing]:
                return run_alert_pass(
                    now=wall(), deps=restarted.deps, post=restarted.post, find_posted=find_posted
                )

            assert check() == []  # the window's first page: not there, the rest to come
            assert len(alert_posts(strict)) == 1  # held, not posted again
            find_posted.drain()  # two more pages, a minute apart
            assert check() == []
            [rule] = restarted.store.channels.alerts(TEAM_ID, CHANNEL)
            assert restarted.store.alert_log.undelivered([rule.id]) == []
            recorded = restarted.store.alert_log.get(rule.id, post_id, floor_hour(SIM_START) - HOUR)
            assert recorded is not None
            assert recorded.message_ts == accepted[0]
        finally:
            for made in bots:
                made.close()
        assert len(alert_posts(strict)) == 1
        assert [c.status for c in strict.api_calls("conversations.history")] == [200, 429, 200, 200]
        assert strict.unhonoured_429s() == []
