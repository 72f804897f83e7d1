"""The daily digest end to end: the X simulator over HTTP, a SQLite file, a loopback fake
Slack; only the clocks are injected. The numbers are checked against the simulator's own
hourly buckets (/_sim/series), computed independently of the bot's code."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from slack_sdk import WebClient

from bot.channels.digest import (
    CHART_DAYS,
    POST_LOOKBACK,
    DigestOutcome,
    Status,
    day_bounds,
    gather,
    prefetch,
    zone_of,
)
from bot.cli import main
from bot.config import Settings
from bot.render.digest import digest_message, marker
from bot.render.message import Message
from bot.render.numbers import exact
from bot.simulator.server import RunningSimulator
from bot.slack.outbox import history_page, slack_finder, without_rate_limit_retries
from bot.slack.reconcile import Reconciler
from bot.store import Store
from bot.store.cipher import TokenCipher
from tests.support.clocks import WallClock
from tests.support.digest_bot import (
    CHANNEL,
    DAY,
    METRICS,
    NOW,
    ZONE,
    DigestBot,
    Killed,
    posted,
    quiet_data,
    set_up_channel,
)
from tests.support.fake_slack import BOT_TOKEN, TEAM_ID, FakeSlack
from tests.support.slack_limits import assert_valid_message
from tests.support.universe import point_env_at


def admin(sim: RunningSimulator, path: str) -> Any:
    reply = requests.get(f"{sim.url}/_sim/{path}", timeout=30)
    reply.raise_for_status()
    return reply.json()


def sim_sum(sim: RunningSimulator, post_ids: tuple[str, ...], day: date) -> dict[str, int]:
    """Σ of the simulator's hourly buckets over the local day, per metric."""
    start, end = day_bounds(day, ZoneInfo(ZONE))
    sums = dict.fromkeys(METRICS, 0)
    for post_id in post_ids:
        doc = admin(
            sim,
            f"series?tweet_id={post_id}&metrics={','.join(METRICS)}"
            f"&start={start:%Y-%m-%dT%H:%M:%SZ}&end={end:%Y-%m-%dT%H:%M:%SZ}",
        )
        for metric in METRICS:
            sums[metric] += sum(doc["buckets"][metric].values())
    return sums


# --- the numbers -------------------------------------------------------------------------------


def test_digest_numbers_are_the_simulators_hourly_buckets_over_the_local_day(
    digest_bot: DigestBot, sim: RunningSimulator, fake: FakeSlack
) -> None:
    channel = digest_bot.store.channels.settings(TEAM_ID, CHANNEL)
    data = gather(channel, DAY, zone_of(channel, digest_bot.deps), now=NOW, deps=digest_bot.deps)

    # The Posts: sim_brand's live Posts written before the local day ended and at most
    # POST_LOOKBACK before the chart's first day.
    zone = zone_of(channel, digest_bot.deps)
    _, day_end = day_bounds(DAY, zone)
    since = day_bounds(DAY - timedelta(days=CHART_DAYS - 1), zone)[0] - POST_LOOKBACK
    live = {
        p["id"]
        for p in admin(sim, "posts?author=sim_brand")["posts"]
        if not p["deleted"]
        and f"{since:%Y-%m-%dT%H:%M:%S}" <= p["created_at"] < f"{day_end:%Y-%m-%dT%H:%M:%S}"
    }
    assert len(live) >= 10
    assert set(data.post_ids) == live
    assert data.left_out == 0
    assert dict(data.totals) == sim_sum(sim, data.post_ids, DAY)
    assert dict(data.day_before) == sim_sum(sim, data.post_ids, DAY - timedelta(days=1))
    assert sum(data.hourly) == data.totals["impressions"]
    assert len(data.hourly) == 24
    week = [sim_sum(sim, data.post_ids, DAY - timedelta(days=n)) for n in range(1, 8)]
    for metric in METRICS:
        assert data.week_average[metric] == pytest.approx(sum(w[metric] for w in week) / 7)

    day_start, _ = day_bounds(DAY, zone_of(channel, digest_bot.deps))
    new = {
        p["id"]
        for p in admin(sim, "posts?author=sim_brand")["posts"]
        if p["id"] in live and p["created_at"] >= f"{day_start:%Y-%m-%dT%H:%M:%S}"
    }
    assert new
    assert {p.post_id for p in data.new_posts} == new
    assert data.totals["impressions"] > 0


def test_digest_posts_totals_comparisons_new_posts_and_a_chart(
    digest_bot: DigestBot, fake: FakeSlack
) -> None:
    outcome = digest_bot.digest()

    assert outcome.status is Status.POSTED
    assert outcome.local_date == DAY
    assert outcome.ts == "1790000000.000100"
    [body] = posted(fake)
    channel = digest_bot.store.channels.settings(TEAM_ID, CHANNEL)
    data = gather(channel, DAY, zone_of(channel, digest_bot.deps), now=NOW, deps=digest_bot.deps)
    blocks_text = str(body["blocks"])
    assert "Daily digest · Wed 25 Nov 2026" in blocks_text
    assert exact(data.totals["impressions"]) in blocks_text
    assert "vs day before" in blocks_text
    assert "vs 7-day avg" in blocks_text
    assert "New Posts" in blocks_text
    assert "Top Posts of the day" in blocks_text
    assert body["metadata"]["event_payload"]["marker"] == marker(CHANNEL, DAY)
    assert fake.api_calls("files.completeUploadExternal")
    assert digest_bot.store.digests.get(TEAM_ID, CHANNEL, DAY).posted_ts == outcome.ts  # type: ignore[union-attr]

    assert digest_bot.store.digests.last_digest_date(TEAM_ID, CHANNEL) == DAY
    again = digest_bot.digest(now=NOW + timedelta(hours=3))
    assert again.status is Status.ALREADY_POSTED
    assert len(posted(fake)) == 1


def test_every_digest_message_fits_slacks_limits(digest_bot: DigestBot) -> None:
    channel = digest_bot.store.channels.settings(TEAM_ID, CHANNEL)
    data = gather(channel, DAY, zone_of(channel, digest_bot.deps), now=NOW, deps=digest_bot.deps)
    for message in (
        digest_message(data),
        digest_message(data, late=True, chart=True),
        digest_message(quiet_data()),
    ):
        assert_valid_message(message)


def test_a_quiet_day_is_one_short_line() -> None:
    message = digest_message(quiet_data(), chart=True)

    assert message.text == "Quiet day Wed 25 Nov 2026: no impressions or engagements on your Posts."
    assert len(message.blocks) == 1
    assert message.chart is None
    assert message.metadata is not None


def test_a_late_quiet_day_is_skipped_and_nothing_to_report_is_skipped(
    digest_bot: DigestBot, fake: FakeSlack
) -> None:
    digest_bot.store.channels.untrack(TEAM_ID, CHANNEL, kind="account", refs=["sim_brand"])
    digest_bot.store.accounts.remove("1000000001")  # nothing tracked, nothing connected

    outcome = digest_bot.digest()

    assert outcome.status is Status.QUIET_SKIPPED
    assert posted(fake) == []
    assert digest_bot.store.digests.get(TEAM_ID, CHANNEL, DAY) is None  # a later run may still post


def test_a_channel_tracking_no_account_digests_the_workspaces_connected_ones(
    digest_bot: DigestBot, sim: RunningSimulator, fake: FakeSlack
) -> None:
    tracked = gather(
        digest_bot.store.channels.settings(TEAM_ID, CHANNEL),
        DAY,
        ZoneInfo(ZONE),
        now=NOW,
        deps=digest_bot.deps,
    )
    digest_bot.store.channels.untrack(TEAM_ID, CHANNEL, kind="account", refs=["sim_brand"])
    channel = digest_bot.store.channels.settings(TEAM_ID, CHANNEL)
    connected = gather(channel, DAY, ZoneInfo(ZONE), now=NOW, deps=digest_bot.deps)
    assert tracked.post_ids
    assert connected.post_ids == tracked.post_ids  # sim_brand is the connected account
    assert connected.totals == tracked.totals
    assert connected.authors
    assert {name.handle for name in connected.authors.values()} == {"sim_brand"}


# --- exactly once ------------------------------------------------------------------------------


def test_two_concurrent_runs_post_once(
    digest_bots: list[DigestBot],
    digest_bot: DigestBot,
    sim: RunningSimulator,
    db_path: Path,
    cipher: TokenCipher,
    settings: Settings,
    fake: FakeSlack,
) -> None:
    other = DigestBot(sim, db_path, cipher, settings)  # a second process on the same file
    digest_bots.append(other)
    start = threading.Barrier(2)
    outcomes: list[DigestOutcome] = []

    def run(which: DigestBot) -> None:
        start.wait(timeout=10)
        outcomes.append(which.digest())

    threads = [threading.Thread(target=run, args=(b,)) for b in (digest_bot, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    first, second = sorted(outcomes, key=lambda o: o.status is not Status.POSTED)
    assert first.status is Status.POSTED
    assert second.status in (Status.BUSY, Status.ALREADY_POSTED)  # mid-run, or after it
    assert len(posted(fake)) == 1


def test_a_run_killed_between_posting_and_recording_is_reconciled_not_reposted(
    digest_bots: list[DigestBot],
    digest_bot: DigestBot,
    sim: RunningSimulator,
    db_path: Path,
    cipher: TokenCipher,
    settings: Settings,
    fake: FakeSlack,
) -> None:
    def post_then_die(channel_id: str, message: Message) -> str:
        digest_bot.post(channel_id, message)  # Slack has the message…
        raise Killed  # …and the process dies before the ts is recorded

    with pytest.raises(Killed):
        digest_bot.digest(post=post_then_die)
    digest_bot.close()
    digest_bots.remove(digest_bot)
    assert len(posted(fake)) == 1

    restarted = DigestBot(sim, db_path, cipher, settings)  # a fresh Store on the same file
    digest_bots.append(restarted)
    claim = restarted.store.digests.get(TEAM_ID, CHANNEL, DAY)
    assert claim is not None
    assert claim.posted_ts is None

    soon = restarted.digest(now=NOW + timedelta(minutes=1))  # the claimant may still be alive
    assert soon.status is Status.BUSY
    assert soon.ts is None

    later = restarted.digest(now=NOW + timedelta(minutes=10))
    assert later.status is Status.RECONCILED
    assert later.ts == "1790000000.000100"
    assert len(posted(fake)) == 1
    record = restarted.store.digests.get(TEAM_ID, CHANNEL, DAY)
    assert record is not None
    assert record.posted_ts == later.ts

    assert restarted.digest(now=NOW + timedelta(hours=1)).status is Status.ALREADY_POSTED
    assert len(posted(fake)) == 1


def test_a_stale_claim_whose_message_is_not_in_the_channel_is_posted(
    digest_bot: DigestBot, fake: FakeSlack
) -> None:
    digest_bot.store.digests.claim(
        TEAM_ID, CHANNEL, DAY, token="dead", now=NOW, stale_after=timedelta(minutes=5)
    )

    outcome = digest_bot.digest(now=NOW + timedelta(minutes=10))

    assert outcome.status is Status.POSTED
    assert len(posted(fake)) == 1


def test_a_failed_post_releases_the_claim_for_a_later_run(
    digest_bot: DigestBot, fake: FakeSlack
) -> None:
    fake.fail_next("chat.postMessage", error="internal_error")  # Slack had a bad moment

    failed = digest_bot.digest()

    assert failed.status is Status.FAILED
    assert "internal_error" in (failed.reason or "")
    assert digest_bot.store.digests.get(TEAM_ID, CHANNEL, DAY) is None
    assert digest_bot.digest().status is Status.POSTED


# --- the command line --------------------------------------------------------------------------


def test_cli_digest_posts_and_prints_the_outcome(
    sim: RunningSimulator,
    fake: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = point_env_at(
        monkeypatch, tmp_path, sim.url, slack_api_url=fake.api_url, slack_token=BOT_TOKEN
    )
    from bot.app import open_store

    with open_store(Settings.from_env(env)) as store:
        set_up_channel(store)

    assert main(["digest", "--channel", CHANNEL, "--date", DAY.isoformat()]) == 0
    assert capsys.readouterr().out.strip() == (
        f"digest {CHANNEL} 2026-11-25: posted ts=1790000000.000100"
    )
    assert main(["digest", "--channel", CHANNEL, "--date", DAY.isoformat()]) == 0
    assert "already_posted" in capsys.readouterr().out
    assert len(posted(fake)) == 1


# --- the pieces --------------------------------------------------------------------------------


def test_a_digest_names_its_authors_with_one_store_query(digest_bot: DigestBot) -> None:
    channel = digest_bot.store.channels.settings(TEAM_ID, CHANNEL)
    zone = zone_of(channel, digest_bot.deps)
    gather(channel, DAY, zone, now=NOW, deps=digest_bot.deps)  # the numbers and authors are learnt
    statements: list[str] = []
    digest_bot.store.database.conn.set_trace_callback(statements.append)
    try:
        data = gather(channel, DAY, zone, now=NOW, deps=digest_bot.deps)
    finally:
        digest_bot.store.database.conn.set_trace_callback(None)

    assert len(data.post_ids) >= 10
    assert set(data.authors) == set(data.post_ids)
    assert {name.handle for name in data.authors.values()} == {"sim_brand"}
    assert all(name.text for name in data.authors.values())  # named by their words too
    # The handles of all the Posts' authors in one query, their texts in one more, not an
    # account lookup per Post.
    per_post = [s for s in statements if "FROM accounts WHERE user_id =" in s]
    handles = [s for s in statements if "COALESCE(a.screen_name, u.username)" in s]
    texts = [s for s in statements if "SELECT post_id, text FROM posts" in s]
    assert (len(per_post), len(handles), len(texts)) == (0, 1, 1)


def test_local_days_follow_the_zone_across_dst() -> None:
    zone = ZoneInfo(ZONE)
    start, end = day_bounds(date(2026, 11, 1), zone)  # clocks go back: a 25-hour day

    assert start == datetime(2026, 11, 1, 4, tzinfo=UTC)
    assert end - start == timedelta(hours=25)
    assert day_bounds(DAY, zone) == (
        datetime(2026, 11, 25, 5, tzinfo=UTC),
        datetime(2026, 11, 26, 5, tzinfo=UTC),
    )


def test_claims_go_claimed_busy_stale_posted(db_path: Path, cipher: TokenCipher) -> None:
    stale = timedelta(minutes=5)
    with Store.open(db_path, cipher=cipher) as store:
        digests = store.digests
        first = digests.claim(TEAM_ID, CHANNEL, DAY, token="a", now=NOW, stale_after=stale)
        busy = digests.claim(TEAM_ID, CHANNEL, DAY, token="b", now=NOW, stale_after=stale)
        later = NOW + timedelta(minutes=6)
        taken = digests.claim(TEAM_ID, CHANNEL, DAY, token="c", now=later, stale_after=stale)
        assert [first.state, busy.state, taken.state] == ["claimed", "busy", "stale"]
        assert not digests.record(TEAM_ID, CHANNEL, DAY, token="a", ts="1.1", now=later)
        assert digests.last_digest_date(TEAM_ID, CHANNEL) is None
        assert digests.record(TEAM_ID, CHANNEL, DAY, token="c", ts="1.2", now=later)
        done = digests.claim(TEAM_ID, CHANNEL, DAY, token="d", now=later, stale_after=stale)
        assert done.state == "posted"
        assert done.record.posted_ts == "1.2"
        assert not digests.release(TEAM_ID, CHANNEL, DAY, token="c")  # posted: kept
        assert digests.last_digest_date(TEAM_ID, CHANNEL) == DAY


def test_the_hourly_peak_is_named_in_local_clock_time_on_a_dst_day() -> None:
    hourly = [0] * 25
    hourly[3] = 10  # the fourth hour of 1 Nov 2026 in New York starts at 02:00 (01:00 twice)
    data = replace(quiet_data(), local_date=date(2026, 11, 1), hourly=tuple(hourly))
    data = replace(data, totals={**data.totals, "impressions": 10})

    assert "peak 02:00" in str(digest_message(data).blocks)


# --- prefetched ahead of its time ----------------------------------------------------------------


def engagement_calls(sim: RunningSimulator) -> list[dict[str, Any]]:
    return list(admin(sim, "requests")["requests"])  # the simulator logs only these


def test_a_prefetched_digest_is_built_without_calling_x_and_has_the_same_numbers(
    digest_bot: DigestBot, sim: RunningSimulator, fake: FakeSlack
) -> None:
    channel = digest_bot.store.channels.settings(TEAM_ID, CHANNEL)
    asked = prefetch(channel, now=NOW - timedelta(hours=1), deps=digest_bot.deps)
    fetched = len(engagement_calls(sim))
    assert asked >= 10
    assert fetched >= 1
    digest_bot.clock.t += 3600  # long past the service's short cache: only the store can answer

    outcome = digest_bot.digest()

    assert outcome.status is Status.POSTED
    assert len(engagement_calls(sim)) == fetched  # not one more engagement call
    data = gather(channel, DAY, zone_of(channel, digest_bot.deps), now=NOW, deps=digest_bot.deps)
    assert dict(data.totals) == sim_sum(sim, data.post_ids, DAY)
    assert len(engagement_calls(sim)) == fetched


# --- the same crash under a non-Marketplace app's limits -----------------------------------------


def paced(web: WebClient, wall: WallClock) -> Reconciler:
    """`run`'s find_posted: searches queued and paced by Slack's answers, on the wall clock."""
    pages = history_page(without_rate_limit_retries(web))
    return Reconciler(pages, team_of=lambda channel: None, clock=wall, sleep=wall.sleep)


def test_under_tier1_limits_a_one_shot_digest_waits_its_turn_and_reconciles(
    sim: RunningSimulator, db_path: Path, cipher: TokenCipher
) -> None:
    """`engagement-bot digest` after a crash, in a busy channel under a non-Marketplace app's
    limits: its search waits out Slack's Retry-After (it holds nobody else's thread) instead
    of answering 'unreconciled' at the first 429."""
    wall = WallClock(NOW)
    with FakeSlack(non_marketplace=True, clock=wall.epoch) as strict:
        settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=strict.api_url, timezone="UTC")
        digest_bot = DigestBot(sim, db_path, cipher, settings)
        set_up_channel(digest_bot.store)
        accepted: list[str] = []

        def post_then_die(channel_id: str, message: Message) -> str:
            accepted.append(digest_bot.post(channel_id, message))
            raise Killed

        with pytest.raises(Killed):
            digest_bot.digest(post=post_then_die)
        digest_bot.close()
        wall.advance(timedelta(seconds=30))
        strict.others_post(CHANNEL, 40, every=15)
        wall.advance(timedelta(minutes=15))

        restarted = DigestBot(sim, db_path, cipher, settings)
        try:
            one_shot = slack_finder(restarted.web, patience=600, sleep=wall.sleep)
            outcome = restarted.digest(now=wall(), find_posted=one_shot)
            assert outcome.status is Status.RECONCILED
            assert outcome.ts == accepted[0]
        finally:
            restarted.close()
        assert len(posted(strict)) == 1
        assert [c.status for c in strict.api_calls("conversations.history")] == [200, 429, 200]
        assert strict.unhonoured_429s() == []
        assert wall.slept == [60.0]


def test_under_tier1_limits_a_killed_run_in_a_busy_channel_is_reconciled_not_reposted(
    sim: RunningSimulator, db_path: Path, cipher: TokenCipher
) -> None:
    wall = WallClock(NOW)
    with FakeSlack(non_marketplace=True, clock=wall.epoch) as strict:
        settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=strict.api_url, timezone="UTC")
        digest_bot = DigestBot(sim, db_path, cipher, settings)
        set_up_channel(digest_bot.store)
        accepted: list[str] = []

        def post_then_die(channel_id: str, message: Message) -> str:
            accepted.append(digest_bot.post(channel_id, message))  # Slack has the message…
            raise Killed  # …and the process dies before the ts is recorded

        with pytest.raises(Killed):
            digest_bot.digest(post=post_then_die)
        digest_bot.close()
        # The channel goes on: 40 messages, one every 15 s from 30 s after the digest; 19 of
        # them share the digest's window, 15 newer ones fill the newest page on their own.
        wall.advance(timedelta(seconds=30))
        strict.others_post(CHANNEL, 40, every=15)
        wall.advance(timedelta(minutes=15))

        restarted = DigestBot(sim, db_path, cipher, settings)
        try:
            find_posted = paced(restarted.web, wall)
            first = restarted.digest(now=wall(), find_posted=find_posted)
            # the window holds 20 messages: its second page is a minute away
            assert first.status is Status.UNRECONCILED
            assert len(posted(strict)) == 1
            find_posted.drain()
            again = restarted.digest(now=wall(), find_posted=find_posted)
            assert again.status is Status.RECONCILED
            assert again.ts == accepted[0]
            record = restarted.store.digests.get(TEAM_ID, CHANNEL, DAY)
            assert record is not None
            assert record.posted_ts == accepted[0]
        finally:
            restarted.close()
        assert len(posted(strict)) == 1
        # Page one at once; page two was refused (1 a minute) and asked for Retry-After later.
        statuses = [c.status for c in strict.api_calls("conversations.history")]
        assert statuses == [200, 429, 200]
        assert strict.unhonoured_429s() == []
        assert wall.slept == [60.0]
