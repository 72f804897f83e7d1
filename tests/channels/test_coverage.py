"""What a channel covers, end to end: one rule (tracked Posts and accounts; tracking nothing,
the workspace's connected accounts) behind `top`, the digest and channel-wide alert rules, and
one sentence for it in every confirmation and listing. Signed requests to the real Bolt app,
the X simulator over loopback, a SQLite file, the loopback fake Slack; the simulator's clock
is the injected one."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.channels.alerts import run_alert_pass
from bot.channels.coverage import collect_channel_posts, collect_channel_set
from bot.engagement.windows import floor_hour
from bot.slack.outbox import slack_post
from bot.slack.web import build_web_client
from tests.support.alert_bot import HOUR, add_spike, brand_post, sim_now
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.slack_app import ask, connect_brand, settings_for, sim_posts, texts
from tests.support.universe import SIM_START

CHANNEL = "C0GENERAL"  # where tests.support.slack_requests types its commands
TEAM = "T0FAKE"
# The coverage sentence a user reads, in each of the channel's three states.
CONNECTED = (
    "the Posts of the accounts connected to this workspace (@sim_brand)"
    " — this channel tracks nothing"
)
NOTHING = (
    "nothing yet: connect an account (`/engagement connect`) or track Posts or accounts here"
    " (`/engagement track`)"
)


def say(bot: Any, fake: FakeSlack, text: str) -> tuple[dict[str, Any], str]:
    reply = ask(bot, fake, text)
    return reply, texts(reply)


def alert_posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c.body for c in fake.api_calls("chat.postMessage") if c.body.get("channel") == CHANNEL]


def alert_pass(deps: Any, fake: FakeSlack, sim: Any) -> list[Any]:
    post = slack_post(build_web_client(settings_for(fake), token=BOT_TOKEN))
    return run_alert_pass(now=sim_now(sim), deps=deps, post=post)


def test_a_spike_rule_in_a_channel_tracking_nothing_watches_the_connected_accounts_posts(
    bot, fake, sim, store, deps
):
    connect_brand(store)
    _, confirmation = say(bot, fake, "alert spike high")
    _, listing = say(bot, fake, "alerts")
    _, tracked = say(bot, fake, "tracked")
    # The same sentence in all three, and it is the one that tells what the pass watches.
    assert f"Spikes (high sensitivity) on {CONNECTED}" in confirmation
    assert f"Spikes (high sensitivity) on {CONNECTED}" in listing
    assert CONNECTED in tracked

    post_id = brand_post(sim, older_than=timedelta(hours=12))
    assert alert_pass(deps, fake, sim) == []  # nothing unusual yet
    add_spike(sim, post_id, floor_hour(SIM_START) - HOUR)
    [firing] = alert_pass(deps, fake, sim)
    assert firing.post_id == post_id
    assert alert_pass(deps, fake, sim) == []  # stored once: no repeat on the next pass
    [body] = alert_posts(fake)
    assert f"https://x.com/sim_brand/status/{post_id}" in str(body["blocks"])
    assert "Spike" in str(body["blocks"])


def test_a_channel_wide_rule_where_nothing_is_covered_is_refused_with_the_fix(bot, fake, store):
    _, spike = say(bot, fake, "alert spike high")
    _, threshold = say(bot, fake, "alert likes > 100/h")
    _, tracked = say(bot, fake, "tracked")
    for refused in (spike, threshold):
        assert f"That alert could never fire: this channel covers {NOTHING}" in refused
    assert NOTHING in tracked
    assert store.channels.alerts(TEAM, CHANNEL) == []


def test_what_a_channel_tracks_replaces_the_connected_accounts_in_every_statement(
    bot, fake, sim, store
):
    connect_brand(store)
    theirs = sim_posts(sim, "sim_creator")[0]
    say(bot, fake, f"track @sim_brand {theirs}")
    covered = "this channel's tracked Posts and accounts (@sim_brand, 1 Post)"
    _, spike = say(bot, fake, "alert spike high")
    _, threshold = say(bot, fake, "alert likes > 100/h")
    _, listing = say(bot, fake, "alerts")
    _, tracked = say(bot, fake, "tracked")
    _, digest = say(bot, fake, "digest on 9:00")
    for text in (spike, listing, tracked, digest):
        assert covered in text
    # A channel-wide threshold counts only connected accounts' Posts, and says so.
    owned = f"Likes above 100/hour on the connected accounts' Posts among {covered}"
    assert owned in threshold
    assert owned in listing
    assert CONNECTED not in listing


def test_top_in_a_channel_tracking_nothing_ranks_the_connected_accounts_posts(bot, fake, store):
    reply, empty = say(bot, fake, "top likes 3 7d")
    _, tracked = say(bot, fake, "tracked")
    assert reply["response_type"] == "ephemeral"  # nothing covered: a hint to the asker
    assert f"this channel covers {NOTHING}" in empty
    assert NOTHING in tracked

    connect_brand(store)
    reply, board = say(bot, fake, "top likes 3 7d")
    _, tracked = say(bot, fake, "tracked")
    assert reply["response_type"] == "in_channel"
    assert len(re.findall(r"x\.com/sim_brand/status/\d+", board)) == 3
    assert CONNECTED in tracked


def test_the_digest_of_a_channel_tracking_nothing_says_what_top_and_alerts_say(bot, fake, store):
    connect_brand(store)
    _, switched_on = say(bot, fake, "digest on 9:00")
    _, tracked = say(bot, fake, "tracked")
    _, rule = say(bot, fake, "alert spike")
    assert f"It covers {CONNECTED}." in switched_on
    assert CONNECTED in tracked
    assert CONNECTED in rule
    reply, digest = say(bot, fake, "digest now")
    assert reply["response_type"] == "in_channel"
    assert "sim_brand" in digest
    assert re.search(r"\b\d+ owned Posts?\b", digest), digest


def test_a_channel_wide_threshold_over_a_competitor_only_is_refused_but_a_spike_is_not(
    bot, fake, store
):
    """A threshold for the whole channel counts only connected accounts' Posts: in a channel
    covering only a competitor's account it could never fire, so it is refused with the fix;
    a spike rule watches every covered Post and is taken."""
    say(bot, fake, "track @sim_creator")
    _, threshold = say(bot, fake, "alert likes > 100/h")
    assert "That alert could never fire" in threshold
    assert "only the Posts of accounts connected to this workspace" in threshold
    assert "@handle" in threshold  # the fix: name the account in the rule
    assert store.channels.alerts(TEAM, CHANNEL) == []
    _, named = say(bot, fake, "alert likes > 100/h @sim_creator")
    _, spike = say(bot, fake, "alert spike high")
    assert "Alert #" in named
    assert "Alert #" in spike
    assert len(store.channels.alerts(TEAM, CHANNEL)) == 2


def test_top_gathers_the_posts_every_pass_gathers_without_listing_the_tracked_ones(
    bot, fake, sim, store, deps
):
    """`top` counts the channel's tracked Posts in the store instead of listing them: the same
    coverage, the same distinct Posts (an account's Post tracked on its own too counts once)."""
    connect_brand(store)
    since = sim_now(sim) - timedelta(days=28)
    states = []
    for command in (None, f"track @sim_brand {sim_posts(sim, 'sim_creator')[0]}"):
        if command:
            say(bot, fake, command)
            mine = collect_channel_posts(store, deps.service, TEAM, CHANNEL, since=since)
            say(bot, fake, f"track {mine.post_ids[-1]}")  # one of @sim_brand's, on its own
        listed = collect_channel_posts(store, deps.service, TEAM, CHANNEL, since=since)
        counted = collect_channel_set(store, deps.service, TEAM, CHANNEL, since=since)
        tracked = store.channels.tracked(TEAM, CHANNEL, "post")
        assert counted.covered == len(listed.post_ids) > len(tracked)
        assert set(counted.posts.ids) | set(tracked) == set(listed.post_ids)
        assert counted.posts.channel == (TEAM, CHANNEL)
        assert counted.coverage is not None
        assert listed.coverage is not None
        assert counted.coverage.handles == listed.coverage.handles
        assert counted.coverage.connected == listed.coverage.connected
        states.append((len(tracked), counted.coverage.connected))
    assert states == [(0, True), (2, False)]
