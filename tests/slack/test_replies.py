"""What a person reads back, end to end (signed requests to the real app, X simulated, a real
SQLite store): rules that could never fire are refused with the reason and the fix, a rule reads
the same everywhere, help explains, and error replies name the valid choices."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.copy import errors
from bot.copy.usage import BY_NAME, TABLE
from bot.engagement import snowflake
from bot.engagement.query import EngagementQuery, Granularity
from bot.errors import (
    Forbidden,
    ForbiddenMetrics,
    ForbiddenPosts,
    NotFound,
    ProtectedPosts,
    RateLimited,
    ServerError,
)
from bot.ops.report_format import as_csv
from bot.render.kit import escape
from tests.support.slack_app import ask, connect_brand, sim_admin, sim_posts, texts
from tests.support.snapshots import SNAPSHOTS
from tests.support.universe import SIM_START

TEAM, CHANNEL = "T0FAKE", "C0GENERAL"


def say(bot: Any, fake: Any, text: str) -> str:
    """The reply's text as read: a Slack link `<url|label>` shows as its label."""
    return re.sub(r"<[^|<>]+\|([^<>]+)>", r"\1", texts(ask(bot, fake, text)))


# --- alert rules checked at creation -----------------------------------------------------------


def test_a_private_metric_of_an_account_that_isnt_connected_is_refused(bot, fake, store):
    connect_brand(store)
    text = say(bot, fake, "alert impressions > 10/h @sim_creator")
    assert "could never fire" in text
    assert "@sim_creator isn't connected" in text
    assert "/engagement connect" in text
    assert "likes, reposts, quotes, replies, video_views" in text  # what would work
    assert store.channels.alerts(TEAM, CHANNEL) == []
    # The connected account's impressions are readable: accepted.
    assert "Alert #" in say(bot, fake, "alert impressions > 10/h @sim_brand")
    # A public metric of the same unconnected account works from snapshots: accepted.
    assert "Alert #" in say(bot, fake, "alert likes > 10/h @sim_creator")


def test_a_private_metric_of_a_post_whose_author_isnt_connected_is_refused(bot, fake, sim, store):
    connect_brand(store)
    theirs = sim_posts(sim, "sim_creator")[0]
    text = say(bot, fake, f"alert engagements > 5/h {theirs}")
    assert "could never fire" in text
    assert "its author @sim_creator isn't connected" in text
    ours = sim_posts(sim, "sim_brand")[0]
    assert "Alert #" in say(bot, fake, f"alert engagements > 5/h {ours}")
    assert len(store.channels.alerts(TEAM, CHANNEL)) == 1


def test_a_private_metric_in_a_workspace_with_no_connected_account_is_refused(bot, fake, store):
    text = say(bot, fake, "alert impressions > 1000/h")
    assert "this workspace has none" in text
    assert "/engagement connect" in text
    assert store.channels.alerts(TEAM, CHANNEL) == []


def test_the_same_rule_twice_is_refused_naming_the_first(bot, fake, store):
    say(bot, fake, "track @sim_creator")  # so that a channel-wide rule has Posts to watch
    first = say(bot, fake, "alert likes > 100/h @sim_creator")
    rule_id = re.search(r"Alert #(\d+)", first)
    assert rule_id
    again = say(bot, fake, "alert likes over 100 per hour on @SIM_creator")  # same rule
    assert f"already has that rule: alert #{rule_id.group(1)}" in again
    assert "Likes above 100/hour on @sim_creator" in again
    say(bot, fake, "alert spike high")
    assert "already has that rule" in say(bot, fake, "alert spike high")
    assert "Alert #" in say(bot, fake, "alert likes > 101/h @sim_creator")  # another threshold
    assert "Alert #" in say(bot, fake, "alert spike low")
    assert len(store.channels.alerts(TEAM, CHANNEL)) == 4


def test_a_threshold_beyond_any_count_says_too_large_and_the_largest(bot, fake, store):
    text = say(bot, fake, "alert likes > 99999999999999999999/h")
    assert "`99999999999999999999` is too large" in text
    assert "up to `&gt; 1,000,000,000` per hour" in text
    assert "Expected a number" not in text
    assert store.channels.alerts(TEAM, CHANNEL) == []


def test_a_rule_reads_the_same_in_the_confirmation_and_the_listing(bot, fake, sim, store):
    post = sim_posts(sim, "sim_creator")[0]
    say(bot, fake, "track @sim_creator")  # so that a channel-wide rule has Posts to watch
    rules = {
        "alert likes > 100/h @sim_creator": "Likes above 100/hour on @sim_creator",
        f"alert replies >= 5/h {post}": f"Replies above 4/hour on Post {post}",
        "alert spike high": "Spikes (high sensitivity) on",
    }
    confirmations = [say(bot, fake, typed) for typed in rules]
    listing = say(bot, fake, "alerts")
    for wording, confirmation in zip(rules.values(), confirmations, strict=True):
        assert wording in confirmation
        assert wording in listing
    assert "favorites" not in " ".join(confirmations)


# --- help that explains -----------------------------------------------------------------------


def test_help_lists_what_each_subcommand_does_and_is_the_tested_snapshot(bot, fake):
    reply = ask(bot, fake, "help")
    snapshot = json.loads((SNAPSHOTS / "help.json").read_text(encoding="utf-8"))
    assert reply["blocks"] == snapshot["blocks"]  # the snapshot is what the command answers
    text = texts(reply)
    for row in TABLE:
        assert escape(row.description) in text, row.name


def test_help_on_one_subcommand_gives_grammar_meaning_example_and_needs(bot, fake):
    text = say(bot, fake, "help hourly")
    row = BY_NAME["hourly"]
    assert escape(row.grammar) in text
    assert row.description in text
    assert row.example in text
    assert "Needs:_ X's /28hr with the token of the Post's author" in text
    assert "`/engagement connect`" in text
    assert "workspace admin" in say(bot, fake, "help quiet")


# --- replies that mislead -----------------------------------------------------------------------


def test_a_period_that_isnt_one_is_called_a_period_with_the_valid_ones(bot, fake):
    text = say(bot, fake, "top likes 5 1y")
    assert "`1y` is not a period" in text
    assert "24h, 7d, 28d or 90d" in text
    assert "daily &lt;post&gt; from … to …" in text  # the next step for a longer range
    assert "not a metric" not in text


def test_top_by_a_private_metric_over_competitors_only_asks_to_connect(bot, fake, store):
    say(bot, fake, "track @sim_creator")
    text = say(bot, fake, "top impressions 5 28d")
    assert "X shows impressions only for Posts of accounts connected to this workspace" in text
    assert "/engagement connect" in text
    assert "Track a Post" not in text
    assert "/engagement top likes 10 28d" in text


def test_competitor_posts_are_named_by_their_handle(bot, fake):
    say(bot, fake, "track @sim_creator")
    text = say(bot, fake, "top likes 5 28d")
    assert re.search(r"@sim_creator · “[^”]+”", text), text
    assert not re.search(r"Post \d{15,}", text)


def test_a_protected_account_is_a_permanent_refusal_with_its_fix_not_try_again(bot, fake):
    text = say(bot, fake, "track @sim_private")
    assert "protected account" in text
    assert "/engagement connect" in text  # the fix, when the account is the asker's own
    assert "try again" not in text.lower()
    assert "2/users/:id/tweets" not in text  # the raw error is for the log
    assert "Now tracking" not in text


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (ForbiddenPosts("totals: HTTP 403", post_ids=["1"], status=403), "Connect that account"),
        (ForbiddenMetrics("totals: HTTP 403", metrics=["impressions"], status=403), "impressions"),
        (ProtectedPosts("totals: HTTP 400", status=400), "protected"),
        (NotFound("2/tweets: HTTP 404", status=404, endpoint="2/tweets"), "deleted"),
        (Forbidden("28hr: HTTP 403", status=403, endpoint="28hr"), "for good"),
    ],
)
def test_refusals_retrying_cant_fix_are_worded_as_permanent(error, says):
    text = errors.x_error(error, "abcd1234")
    assert says in text
    assert "try again" not in text.lower()
    assert "HTTP 403:" not in text  # never the raw error
    assert "abcd1234" in text


def test_failures_that_may_pass_say_try_again():
    assert "try again in a few minutes" in errors.x_error(ServerError("totals: HTTP 503"))
    limited = RateLimited("429", reset_at=None, retry_after=42.0)
    assert "Try again in about 42 s" in errors.x_error(limited)


# --- honest series ------------------------------------------------------------------------------


def young_post(sim: Any, days: int) -> tuple[str, datetime]:
    """A sim_brand Post created less than `days` days before the simulator's now."""
    for post in sim_posts(sim, "sim_brand"):
        created = snowflake.created_at(int(post))
        if created is not None and timedelta(days=2) < SIM_START - created < timedelta(days=days):
            return post, created
    raise AssertionError("the simulated universe has no young sim_brand Post")


def test_days_before_a_post_existed_are_left_out_not_zero(bot, fake, sim, store):
    connect_brand(store)
    post, created = young_post(sim, 20)
    text = say(bot, fake, f"daily {post} 28d")
    first_shown = SIM_START.date() - timedelta(days=27)
    assert f"this Post was created on {created.day} {created:%b %Y}" in text
    assert "left out" in text
    rows = [line for line in text.splitlines() if re.match(r"^\w{3} \d{1,2} \w{3}  ", line)]
    assert rows[0].startswith(f"{created:%a} {created.day} {created:%b}"), rows  # not 30 Oct
    assert f"{first_shown.day} {first_shown:%b}" not in "\n".join(rows)
    assert "≥" not in text  # the totals are whole: nothing is missing before the Post existed


def test_csv_leaves_hours_before_the_post_existed_blank(deps, sim, store):
    connect_brand(store)
    post, created = young_post(sim, 20)
    query = EngagementQuery(
        (post,), ("impressions",), Granularity.DAY, SIM_START - timedelta(days=27), SIM_START
    )
    report = deps.service.report(query, now=SIM_START)
    rows = list(csv.reader(io.StringIO(as_csv(report))))[1:]
    before = [r for r in rows if r[2] < f"{created:%Y-%m-%d}"]
    after = [r for r in rows if r[2] >= f"{created:%Y-%m-%d}"]
    assert before
    assert all(r[3] == "" for r in before), before  # absent, not 0
    assert any(r[3] not in ("", "0") for r in after)


def test_a_range_clipped_to_xs_first_day_says_so(bot, fake, sim, store):
    connect_brand(store)
    old = sim_admin(
        sim, "POST", "posts", {"author": "sim_brand", "created_at": "2014-06-01T12:00:00Z"}
    )
    text = say(bot, fake, f"daily {old['id']} from 2014-08-01 to 2014-09-10")
    assert "You asked from 1 Aug 2014; X's engagement history starts on 1 Sep 2014" in text
    assert "peak Mon 1 Sep" in text  # the days shown are X's, from its first day


def test_an_empty_board_over_tracked_posts_says_why_not_track_a_post(bot, fake, sim):
    old = next(
        p
        for p in sim_posts(sim, "sim_creator")
        if SIM_START - snowflake.created_at(int(p)) > timedelta(days=10)
    )
    say(bot, fake, f"track {old}")
    text = say(bot, fake, "top likes 5 7d")
    assert "None of this channel's 1 Post has likes to rank over the last 7 days yet" in text
    assert "/engagement top likes 10 24h" in text
    assert "Track a Post" not in text
