"""Every `/engagement` subcommand end to end, as a channel would use them in a week: signed
requests to the real Bolt app, the real dispatcher and store, X simulated, Slack faked. Every
reply Slack receives must pass slack_sdk's block validation and our message limits."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.render.message import Message
from tests.support.slack_app import ask, connect_brand, sim_posts, texts
from tests.support.slack_limits import assert_valid_message


def valid(reply: dict[str, Any]) -> dict[str, Any]:
    """The payload as Slack got it, checked as a Message: blocks, limits, mrkdwn."""
    message = Message(
        text=reply["text"],
        blocks=tuple(reply.get("blocks", ())),
        ephemeral=reply.get("response_type", "ephemeral") == "ephemeral",
    )
    assert_valid_message(message)
    return reply


def say(bot: Any, fake: Any, text: str) -> tuple[dict[str, Any], str]:
    reply = valid(ask(bot, fake, text))
    return reply, texts(reply)


@pytest.fixture
def owned(sim: Any, store: Any) -> list[str]:
    connect_brand(store)
    return sim_posts(sim, "sim_brand")


def test_numbers_for_owned_and_unowned_posts(bot, fake, sim, owned):
    theirs = sim_posts(sim, "sim_creator")[0]
    _, text = say(bot, fake, f"totals https://x.com/sim_brand/status/{owned[0]} {theirs}")
    assert owned[0] in text
    assert theirs in text
    assert "connect" in text.lower()  # why the unowned Post has no impressions
    _, text = say(bot, fake, f"hourly {owned[2]} likes impressions")
    assert re.search(r"\d", text)
    _, text = say(bot, fake, f"daily {owned[9]} 7d")
    assert re.search(r"\d", text)
    _, text = say(bot, fake, f"hourly {theirs}")
    assert "connect" in text.lower()


def test_tracking_and_the_leaderboard(bot, fake, sim, owned):
    reply, text = say(bot, fake, "top likes 3 7d")
    assert reply["response_type"] == "in_channel"  # nothing tracked: the connected account's
    _, text = say(bot, fake, f"track {owned[1]} {owned[3]} @sim_brand")
    assert "@sim_brand" in text
    _, text = say(bot, fake, "tracked")
    assert owned[1] in text
    assert "@sim_brand" in text
    reply, text = say(bot, fake, "top likes 3 7d")
    assert reply["response_type"] == "in_channel"
    assert len(re.findall(r"x\.com/sim_brand/status/\d+", text)) >= 3
    _, text = say(bot, fake, f"untrack {owned[1]}")
    assert owned[1] in text
    _, text = say(bot, fake, "untrack @nobody_here")
    assert "tracked" in text.lower()


def test_digest_alert_and_snooze_settings(bot, fake, store, owned):
    _, text = say(bot, fake, "digest on 8:30 europe/paris")
    assert "08:30" in text
    assert "Europe/Paris" in text
    assert store.channels.settings("T0FAKE", "C0GENERAL").digest_enabled
    _, text = say(bot, fake, "digest off")
    assert not store.channels.settings("T0FAKE", "C0GENERAL").digest_enabled
    say(bot, fake, f"track {owned[0]} {owned[1]}")
    reply, text = say(bot, fake, "digest now")
    assert reply["response_type"] == "in_channel"
    assert "2026-11-25" in text or "25 Nov" in text or "Nov 25" in text  # yesterday, UTC
    _, text = say(bot, fake, f"alert likes > 100/h {owned[0]}")
    rule = re.search(r"#(\d+)", text)
    assert rule
    _, text = say(bot, fake, "alert spike high")
    _, text = say(bot, fake, "alerts")
    assert "spike" in text.lower()
    _, text = say(bot, fake, f"alert off {rule.group(1)}")
    assert [r.kind for r in store.channels.alerts("T0FAKE", "C0GENERAL")] == ["spike"]
    _, text = say(bot, fake, "alert off 999")
    assert "999" in text
    _, text = say(bot, fake, "snooze 2h")
    assert store.channels.settings("T0FAKE", "C0GENERAL").snoozed_until is not None
    _, text = say(bot, fake, "quiet 10pm to 7am")
    settings = store.channels.settings("T0FAKE", "C0GENERAL")
    assert (settings.quiet_start, settings.quiet_end) == ("22:00", "07:00")
    assert "22:00–07:00" in text
    _, text = say(bot, fake, "quiet off")
    settings = store.channels.settings("T0FAKE", "C0GENERAL")
    assert (settings.quiet_start, settings.quiet_end) == (None, None)
    assert settings.snoozed_until is not None  # quiet hours leave the snooze alone


def test_accounts_usage_connect_and_disconnect(bot, fake, store, owned):
    say(bot, fake, f"totals {owned[0]}")
    _, text = say(bot, fake, "accounts")
    assert "@sim_brand" in text
    _, text = say(bot, fake, "usage")
    assert "totals" in text.lower()
    _, text = say(bot, fake, "connect")
    assert "accounts add" in text
    _, text = say(bot, fake, "disconnect @sim_brand")
    assert "@sim_brand" in text
    # Linked by the operator for every workspace: this one stops using it, its tokens stay.
    assert store.accounts.connected_ids("T0FAKE") == frozenset()
    assert store.accounts.connected_ids() == frozenset({"1000000001"})
    _, text = say(bot, fake, "disconnect @sim_brand")
    assert "No connected account" in text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("topp", "Did you mean"),
        ("totals 12a", "12a"),
        ("daily 1 from 2026-12-01", "future"),
        ("alert likes > lots/h", "lots"),
        ("digest on 25:00", "25:00"),
        ("snooze forever", "forever"),
        ("track @this_handle_is_far_too_long", "handle"),
    ],
)
def test_bad_input_gets_a_short_specific_answer(bot, fake, store, text, fragment):
    reply, shown = say(bot, fake, text)
    assert reply["response_type"] == "ephemeral"
    assert fragment.lower() in shown.lower()
    assert "Traceback" not in shown
